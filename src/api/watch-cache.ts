// Watch fan-out for one resource (kube-apiserver's watch cache, reduced to what watches need): one storage
// watch per resource feeds a bounded buffer of recent events and the subscribed client watches. Subscribers
// are indexed by object key (a `metadata.name` field selector) and by namespace, so a write touches only
// the watchers that could want it — 5,000 watchers each on one CSR cost one map lookup per write, not 5,000
// filter calls. Objects are decoded lazily, once per event, and only when some watcher is a candidate.
import type { Logger } from '../util/logger.js';
import type { Storage, WatchEvent, WatchHandle } from '../storage/interface.js';
import { withResourceVersion } from './store.js';
import type { KubeObject } from '../apis/objects.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One storage event as the cache keeps it: raw until a watcher needs the decoded object. */
export class CachedEvent {
  private obj: KubeObject | undefined;
  private prev: KubeObject | null | undefined;
  private json: string | undefined;
  constructor(
    readonly raw: WatchEvent,
    readonly namespace: string,
    readonly name: string,
    private readonly decode: (value: string, revision: number) => KubeObject,
  ) {}
  get revision(): number {
    return this.raw.revision;
  }
  /** The object after the event; for a delete, the deleted object with the delete's resourceVersion. */
  get object(): KubeObject {
    if (!this.obj) {
      this.obj =
        this.raw.type === 'put'
          ? this.decode(this.raw.value!, this.raw.revision)
          : this.decode(this.raw.prevValue ?? '{"metadata":{}}', this.raw.revision);
    }
    return this.obj;
  }
  /** The object before a put (null for a create or when the backend did not say). */
  get prevObject(): KubeObject | null {
    if (this.prev === undefined) {
      this.prev = this.raw.type === 'put' && this.raw.prevValue !== undefined ? this.decode(this.raw.prevValue, this.raw.revision) : null;
    }
    return this.prev;
  }
  /** True when the key did not exist before this put. */
  get isCreate(): boolean {
    return this.raw.type === 'put' && (this.raw.createRevision === this.raw.revision || (this.raw.createRevision === undefined && this.raw.prevValue === undefined));
  }
  /** JSON of `object`, made once for all watchers (from the stored bytes when it can be, without decoding). */
  get objectJson(): string {
    if (this.json === undefined) {
      const stored = this.raw.type === 'put' ? this.raw.value : this.raw.prevValue;
      this.json = (stored !== undefined ? withResourceVersion(stored, this.raw.revision) : null) ?? JSON.stringify(this.object);
    }
    return this.json;
  }
}

export interface WatchSubscriber {
  /** Only objects in this namespace (undefined = all). */
  namespace: string | undefined;
  /** Only this object name (from a metadata.name field selector), for the key index. */
  name: string | undefined;
  /** Events with revision <= this are skipped (they were part of the initial state or the list). */
  afterRevision: number;
  /** Label and field selector. */
  matches(obj: KubeObject): boolean;
  /** True when the namespace and name filters above are the whole selection (nothing to decode to match). */
  matchesEverything?: boolean;
  /** `event` when the object is the event's (its `object`, decoded lazily); else `obj` is a derived object. */
  send(type: WatchEventType, event: CachedEvent | null, obj?: KubeObject): void;
  /** The cache lost its storage watch; the client must re-list. */
  terminate(reason: Error): void;
}

/** Decides the watch event a subscriber sees for a storage event (kube's cacheWatcher.convertToWatchEvent). */
export function dispatchEvent(sub: WatchSubscriber, ev: CachedEvent): void {
  if (ev.revision <= sub.afterRevision) return;
  if (sub.namespace !== undefined && sub.namespace !== ev.namespace) return;
  if (sub.name !== undefined && sub.name !== ev.name) return;
  if (sub.matchesEverything) {
    sub.send(ev.raw.type === 'delete' ? 'DELETED' : ev.isCreate ? 'ADDED' : 'MODIFIED', ev);
    return;
  }
  if (ev.raw.type === 'delete') {
    if (sub.matches(ev.object)) sub.send('DELETED', ev);
    return;
  }
  const cur = sub.matches(ev.object);
  let prev: boolean;
  if (ev.isCreate) prev = false;
  else {
    const p = ev.prevObject;
    prev = p === null ? cur : sub.matches(p);
  }
  if (cur && prev) sub.send('MODIFIED', ev);
  else if (cur) sub.send('ADDED', ev);
  else if (prev) {
    const old = structuredClone(ev.prevObject!);
    old.metadata.resourceVersion = String(ev.revision);
    sub.send('DELETED', null, old);
  }
}

export interface WatchCacheOptions {
  storage: Storage;
  /** `/registry/<resource>/` */
  prefix: string;
  namespaced: boolean;
  decode: (value: string, revision: number) => KubeObject;
  logger: Logger;
  /** Events kept for watches from a recent resourceVersion. */
  capacity?: number;
  /** Delay before re-establishing a failed storage watch. */
  restartDelayMs?: number;
}

export class ResourceWatchCache {
  private buffer: CachedEvent[] = [];
  private head = 0;
  /** Every event with revision > floor is in the buffer. */
  private floor = 0;
  private known = 0;
  private handle: WatchHandle | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly byKey = new Map<string, Set<WatchSubscriber>>();
  private readonly byNamespace = new Map<string, Set<WatchSubscriber>>();
  private readonly all = new Set<WatchSubscriber>();
  private count = 0;
  private readonly capacity: number;

  constructor(private readonly options: WatchCacheOptions) {
    this.capacity = options.capacity ?? 1024;
  }

  /** Number of subscribed watchers (for metrics). */
  get size(): number {
    return this.count;
  }

  /** The newest revision this cache knows to be complete (for bookmarks). */
  get knownRevision(): number {
    return this.known;
  }

  start(): Promise<void> {
    if (!this.started) this.started = this.establish();
    return this.started;
  }

  private async establish(): Promise<void> {
    const rev = await this.options.storage.currentRevision();
    if (this.stopped) return;
    this.buffer = [];
    this.head = 0;
    this.floor = rev;
    this.known = Math.max(this.known, rev);
    this.handle = this.options.storage.watch(this.options.prefix, {
      afterRevision: rev,
      onEvent: (e) => this.onEvent(e),
      onError: (err) => this.onError(err),
      onProgress: (r) => {
        if (r > this.known) this.known = r;
      },
    });
  }

  private onEvent(raw: WatchEvent): void {
    const rest = raw.key.slice(this.options.prefix.length);
    let namespace = '';
    let name = rest;
    if (this.options.namespaced) {
      const slash = rest.indexOf('/');
      namespace = rest.slice(0, slash);
      name = rest.slice(slash + 1);
    }
    const ev = new CachedEvent(raw, namespace, name, this.options.decode);
    if (raw.revision > this.known) this.known = raw.revision;
    // Ring buffer: evicting the oldest event raises the floor to its revision.
    if (this.buffer.length < this.capacity) this.buffer.push(ev);
    else {
      this.floor = this.buffer[this.head]!.revision;
      this.buffer[this.head] = ev;
      this.head = (this.head + 1) % this.capacity;
    }
    const keySubs = this.byKey.get(`${namespace}/${name}`);
    if (keySubs) for (const s of keySubs) dispatchEvent(s, ev);
    const nsSubs = this.options.namespaced ? this.byNamespace.get(namespace) : undefined;
    if (nsSubs) for (const s of nsSubs) dispatchEvent(s, ev);
    for (const s of this.all) dispatchEvent(s, ev);
  }

  private onError(err: Error): void {
    this.handle = undefined;
    if (this.stopped) return;
    this.options.logger.warn({ prefix: this.options.prefix, err: err.message }, 'watch cache lost its storage watch; restarting');
    for (const s of [...this.all, ...[...this.byKey.values()].flatMap((x) => [...x]), ...[...this.byNamespace.values()].flatMap((x) => [...x])]) {
      this.unsubscribe(s);
      s.terminate(err);
    }
    this.started = undefined;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.start().catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    }, this.options.restartDelayMs ?? 200);
    this.restartTimer.unref();
  }

  /**
   * Subscribes from `sub.afterRevision`, replaying buffered events after it. Returns false when the
   * revision is older than the buffer: the caller must watch storage directly (which may answer 410).
   */
  async subscribe(sub: WatchSubscriber): Promise<boolean> {
    await this.start();
    if (!this.handle || sub.afterRevision < this.floor) return false;
    for (let i = 0; i < this.buffer.length; i++) {
      const ev = this.buffer[(this.head + i) % this.buffer.length]!;
      if (ev.revision > sub.afterRevision) dispatchEvent(sub, ev);
    }
    this.index(sub).add(sub);
    this.count++;
    return true;
  }

  unsubscribe(sub: WatchSubscriber): void {
    const set = this.index(sub);
    if (set.delete(sub)) {
      this.count--;
      if (set !== this.all && set.size === 0) {
        if (sub.name !== undefined) this.byKey.delete(`${sub.namespace ?? ''}/${sub.name}`);
        else if (sub.namespace !== undefined) this.byNamespace.delete(sub.namespace);
      }
    }
  }

  /** All subscribers (for bookmarks). */
  *subscribers(): Iterable<WatchSubscriber> {
    yield* this.all;
    for (const s of this.byKey.values()) yield* s;
    for (const s of this.byNamespace.values()) yield* s;
  }

  private index(sub: WatchSubscriber): Set<WatchSubscriber> {
    if (sub.name !== undefined && (sub.namespace !== undefined || !this.options.namespaced)) {
      const k = `${sub.namespace ?? ''}/${sub.name}`;
      let s = this.byKey.get(k);
      if (!s) this.byKey.set(k, (s = new Set()));
      return s;
    }
    if (sub.namespace !== undefined && this.options.namespaced) {
      let s = this.byNamespace.get(sub.namespace);
      if (!s) this.byNamespace.set(sub.namespace, (s = new Set()));
      return s;
    }
    return this.all;
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.handle?.close();
    this.handle = undefined;
  }
}
