// An in-memory KubeClient for unit tests of the controllers' logic (client-go's fake clientset idea): one
// global resourceVersion, compare-and-swap updates, subresource writes, watches from a resourceVersion with
// a compactable history (so 410 Gone can be provoked), bookmarks on demand, and SubjectAccessReviews
// answered by a function the test gives. The real API server is exercised by the e2e tests.
import type { KubeClient, ListOptions, ObjectList, ResourceClient, ResourceRef, WatchEvent, WatchOptions, WatchStream } from '../../src/client/interface.js';
import type { KubeObject, SubjectAccessReview } from '../../src/apis/objects.js';
import { ApiError } from '../../src/apis/status.js';

interface Entry {
  ref: string;
  key: string;
  obj: KubeObject;
}

interface HistoryEvent {
  rv: number;
  ref: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: KubeObject;
}

interface Watcher {
  ref: string;
  matches: (o: KubeObject) => boolean;
  onEvent: (e: WatchEvent<KubeObject>) => void;
  end: (err?: Error) => void;
}

const refId = (r: ResourceRef) => `${r.group}/${r.resource}`;
const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const clone = <T>(o: T): T => structuredClone(o);

function fieldMatcher(namespace: string | undefined, fieldSelector: string | undefined): (o: KubeObject) => boolean {
  const terms = (fieldSelector ?? '').split(',').filter(Boolean).map((t) => t.split('=') as [string, string]);
  return (o) => {
    if (namespace && o.metadata.namespace !== namespace) return false;
    for (const [field, value] of terms) {
      const actual = field === 'metadata.name' ? o.metadata.name : field === 'metadata.namespace' ? o.metadata.namespace : field === 'type' ? (o as { type?: string }).type : undefined;
      if (actual !== value) return false;
    }
    return true;
  };
}

export class FakeKubeClient implements KubeClient {
  rv = 100;
  private readonly objects = new Map<string, Entry>();
  private history: HistoryEvent[] = [];
  /** Oldest resourceVersion a watch may start from (older → 410). */
  compactedRV = 0;
  private watchers = new Set<Watcher>();
  /** Every write the controllers made: `verb resource/name[/subresource]`. */
  readonly writes: string[] = [];
  /** How many of the updates asked for no result back (updateWithoutResult). */
  updatesWithoutResult = 0;
  /** Decides SubjectAccessReviews; default: deny. */
  authorize: (review: SubjectAccessReview) => boolean = () => false;
  readonly reviews: SubjectAccessReview[] = [];
  /** Errors to throw from the next writes (FIFO), e.g. to test retries. */
  readonly failNextWrites: Error[] = [];
  now: () => Date = () => new Date();

  resource<T extends KubeObject>(ref: ResourceRef): ResourceClient<T> {
    return new FakeResource<T>(this, ref);
  }

  async createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview> {
    this.reviews.push(clone(review));
    return { ...clone(review), status: { allowed: this.authorize(review) } };
  }

  // ---- store ----

  list(ref: ResourceRef, options: ListOptions): ObjectList<KubeObject> {
    const m = fieldMatcher(options.namespace, options.fieldSelector);
    const items = [...this.objects.values()].filter((e) => e.ref === refId(ref) && m(e.obj)).map((e) => clone(e.obj));
    items.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    return { items, metadata: { resourceVersion: String(this.rv) } };
  }

  get(ref: ResourceRef, namespace: string | undefined, name: string): KubeObject {
    const e = this.objects.get(`${refId(ref)}|${namespace ?? ''}/${name}`);
    if (!e) throw new ApiError(404, 'NotFound', `${ref.resource} "${name}" not found`);
    return clone(e.obj);
  }

  /** Test helper: put an object directly (as another client would). */
  seed<T extends KubeObject>(ref: ResourceRef, obj: T): T {
    return this.create(ref, obj) as T;
  }

  create(ref: ResourceRef, obj: KubeObject): KubeObject {
    const id = `${refId(ref)}|${keyOf(obj)}`;
    if (this.objects.has(id)) throw new ApiError(409, 'AlreadyExists', `${ref.resource} "${obj.metadata.name}" already exists`);
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    stored.metadata.uid ??= `uid-${this.rv}`;
    stored.metadata.creationTimestamp ??= this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.objects.set(id, { ref: refId(ref), key: keyOf(obj), obj: stored });
    this.emit(ref, 'ADDED', stored);
    return clone(stored);
  }

  update(ref: ResourceRef, obj: KubeObject, subresource?: string): KubeObject {
    const id = `${refId(ref)}|${keyOf(obj)}`;
    const cur = this.objects.get(id);
    if (!cur) throw new ApiError(404, 'NotFound', `${ref.resource} "${obj.metadata.name}" not found`);
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== cur.obj.metadata.resourceVersion) {
      throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${ref.resource} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    let next: KubeObject;
    if (subresource === 'status' || subresource === 'approval') {
      // Subresources change only status (and approval only the approval conditions), as the API server does.
      next = clone(cur.obj);
      (next as Record<string, unknown>)['status'] = clone((obj as Record<string, unknown>)['status']);
    } else {
      next = clone(obj);
      if ('status' in cur.obj) (next as Record<string, unknown>)['status'] = clone((cur.obj as Record<string, unknown>)['status']);
      next.metadata.uid = cur.obj.metadata.uid;
      next.metadata.creationTimestamp = cur.obj.metadata.creationTimestamp;
    }
    next.metadata.resourceVersion = String(++this.rv);
    cur.obj = next;
    this.emit(ref, 'MODIFIED', next);
    return clone(next);
  }

  delete(ref: ResourceRef, namespace: string | undefined, name: string, preconditions?: { uid?: string }): void {
    const id = `${refId(ref)}|${namespace ?? ''}/${name}`;
    const cur = this.objects.get(id);
    if (!cur) throw new ApiError(404, 'NotFound', `${ref.resource} "${name}" not found`);
    if (preconditions?.uid && preconditions.uid !== cur.obj.metadata.uid) throw new ApiError(409, 'Conflict', 'Precondition failed: UID in precondition does not match');
    this.objects.delete(id);
    const gone = clone(cur.obj);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit(ref, 'DELETED', gone);
  }

  /** While set, watches receive nothing (a partition); the history still records every change. */
  muted = false;

  private emit(ref: ResourceRef, type: HistoryEvent['type'], obj: KubeObject): void {
    this.history.push({ rv: this.rv, ref: refId(ref), type, obj: clone(obj) });
    if (this.muted) return;
    for (const w of this.watchers) if (w.ref === refId(ref) && w.matches(obj)) w.onEvent({ type, object: clone(obj) });
  }

  watch(ref: ResourceRef, options: WatchOptions, onEvent: (e: WatchEvent<KubeObject>) => void): WatchStream {
    let end!: (err?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      end = (err) => (err ? reject(err) : resolve());
    });
    const from = Number(options.resourceVersion || 0);
    if (from < this.compactedRV) {
      queueMicrotask(() => end(new ApiError(410, 'Expired', `too old resource version: ${from} (${this.compactedRV})`)));
      return { stop: () => undefined, done };
    }
    const w: Watcher = { ref: refId(ref), matches: fieldMatcher(options.namespace, options.fieldSelector), onEvent, end: () => undefined };
    w.end = (err) => {
      this.watchers.delete(w);
      end(err);
    };
    // Replay what happened after `from`, then stream.
    for (const h of this.history) if (h.rv > from && h.ref === w.ref && w.matches(h.obj)) onEvent({ type: h.type, object: clone(h.obj) });
    this.watchers.add(w);
    return { stop: () => w.end(), done };
  }

  /** Forgets history up to the current revision and ends every watch with an ERROR 410 event (and unmutes). */
  compactAndExpireWatches(): void {
    this.muted = false;
    this.compactedRV = this.rv;
    this.history = [];
    for (const w of [...this.watchers]) {
      w.onEvent({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version', metadata: {} } as unknown as KubeObject });
    }
  }

  /** Sends a BOOKMARK at the current revision to every watch of `ref`. */
  bookmark(ref: ResourceRef): void {
    for (const w of this.watchers) if (w.ref === refId(ref)) w.onEvent({ type: 'BOOKMARK', object: { kind: ref.kind, metadata: { resourceVersion: String(this.rv) } } as KubeObject });
  }

  /** Ends every watch normally (as a server-side timeout does). */
  endWatches(): void {
    for (const w of [...this.watchers]) w.end();
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  takeFailure(): void {
    const e = this.failNextWrites.shift();
    if (e) throw e;
  }
}

class FakeResource<T extends KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly c: FakeKubeClient,
    private readonly ref: ResourceRef,
  ) {}
  async list(options: ListOptions = {}): Promise<ObjectList<T>> {
    return this.c.list(this.ref, options) as ObjectList<T>;
  }
  watch(options: WatchOptions, onEvent: (e: WatchEvent<T>) => void): WatchStream {
    return this.c.watch(this.ref, options, onEvent as (e: WatchEvent<KubeObject>) => void);
  }
  async get(name: string, namespace?: string): Promise<T> {
    return this.c.get(this.ref, namespace, name) as T;
  }
  async create(object: T): Promise<T> {
    this.c.takeFailure();
    this.c.writes.push(`create ${this.ref.resource}/${object.metadata.name}`);
    return this.c.create(this.ref, object) as T;
  }
  async update(object: T, subresource?: string): Promise<T> {
    this.c.takeFailure();
    this.c.writes.push(`update ${this.ref.resource}/${object.metadata.name}${subresource ? `/${subresource}` : ''}`);
    return this.c.update(this.ref, object, subresource) as T;
  }
  async updateWithoutResult(object: T, subresource?: string): Promise<void> {
    this.c.updatesWithoutResult++;
    await this.update(object, subresource);
  }
  async delete(name: string, options: { namespace?: string; preconditions?: { uid?: string } } = {}): Promise<void> {
    this.c.takeFailure();
    this.c.writes.push(`delete ${this.ref.resource}/${name}`);
    this.c.delete(this.ref, options.namespace, name, options.preconditions);
  }
}

/** Lets pending promise callbacks run (the fake delivers synchronously; controllers are async). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

