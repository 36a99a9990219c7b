// The watch cache as a decorator of Storage (kube-apiserver's cacher): for each resource prefix it keeps
// one storage watch that feeds a bounded buffer of recent events and fans them out to every watch opened
// through it; reads and writes pass through to the wrapped storage. Whoever holds this Storage watches as
// it would watch the store itself and never knows about the cache. Watchers are indexed by their key prefix
// (a resource, a namespace, one object), so a write touches only the watchers whose prefix covers its key —
// 5,000 watchers each on one CSR cost a few map lookups per write, not 5,000 prefix checks. Every watcher of
// one event receives the same WatchEvent object (decoders memoize on it). A watch from a revision older than
// the buffer goes to the wrapped storage directly (which answers a compacted revision with its error). The
// cache also sends each watcher that takes progress notifications the newest complete revision every
// `progressIntervalMs` (watch bookmarks).
import type { Logger } from '../util/logger.js';
import type { ListOptions, ListResult, Storage, StoredValue, WatchEvent, WatchHandle, WatchOptions } from '../storage/interface.js';
import { StorageError } from '../storage/errors.js';

export interface CachedResource {
  /** `/registry/<resource>/` */
  prefix: string;
}

export interface CacherOptions {
  storage: Storage;
  resources: CachedResource[];
  logger: Logger;
  /** Events each resource's cache keeps for watches from a recent revision. Default 1024. */
  capacity?: number;
  /** Delay before re-establishing a failed storage watch. */
  restartDelayMs?: number;
  /** How often watchers with onProgress hear the newest complete revision. Default 60 s. */
  progressIntervalMs?: number;
}

interface Subscriber {
  prefix: string;
  options: WatchOptions;
}

/** One resource's cache: a storage watch, a ring buffer, subscribers by prefix. */
class ResourceCache {
  private buffer: WatchEvent[] = [];
  private head = 0;
  /** Every event with revision > floor is in the buffer. */
  private floor = 0;
  private known = 0;
  private handle: WatchHandle | undefined;
  private started: Promise<void> | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  /** prefix length → prefix → subscribers. */
  private readonly byPrefix = new Map<number, Map<string, Set<Subscriber>>>();
  private count = 0;

  constructor(
    readonly prefix: string,
    private readonly o: CacherOptions,
  ) {}

  get size(): number {
    return this.count;
  }

  /** True while the storage watch is up (a subscriber can attach at once). */
  get established(): boolean {
    return this.handle !== undefined;
  }

  start(): Promise<void> {
    if (!this.started) this.started = this.establish();
    return this.started;
  }

  private async establish(): Promise<void> {
    const rev = await this.o.storage.currentRevision();
    if (this.stopped) return;
    this.buffer = [];
    this.head = 0;
    this.floor = rev;
    this.known = Math.max(this.known, rev);
    this.handle = this.o.storage.watch(this.prefix, {
      afterRevision: rev,
      onEvent: (e) => this.onEvent(e),
      onError: (err) => this.onError(err),
      onProgress: (r) => {
        if (r > this.known) this.known = r;
      },
    });
  }

  private onEvent(ev: WatchEvent): void {
    if (ev.revision > this.known) this.known = ev.revision;
    // Ring buffer: evicting the oldest event raises the floor to its revision.
    const capacity = this.o.capacity ?? 1024;
    if (this.buffer.length < capacity) this.buffer.push(ev);
    else {
      this.floor = this.buffer[this.head]!.revision;
      this.buffer[this.head] = ev;
      this.head = (this.head + 1) % capacity;
    }
    for (const [len, subs] of this.byPrefix) {
      if (len > ev.key.length) continue;
      const set = subs.get(len === ev.key.length ? ev.key : ev.key.slice(0, len));
      if (set) for (const s of set) if (ev.revision > s.options.afterRevision) s.options.onEvent(ev);
    }
  }

  private onError(err: Error): void {
    this.handle = undefined;
    if (this.stopped) return;
    this.o.logger.warn({ prefix: this.prefix, err: err.message }, 'watch cache lost its storage watch; restarting');
    // Every watcher ends (kube's cacher terminates its watchers when it re-initializes); clients re-list.
    const ended = new StorageError('Unavailable', `the watch cache of ${this.prefix} is re-initializing: ${err.message}`, { cause: err });
    for (const s of this.all()) {
      this.remove(s);
      s.options.onError(ended);
    }
    this.started = undefined;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopped) this.start().catch((e: unknown) => this.onError(e instanceof Error ? e : new Error(String(e))));
    }, this.o.restartDelayMs ?? 200);
    this.restartTimer.unref();
  }

  /** Attaches `sub` from its afterRevision, replaying buffered events; false when the buffer is too short. */
  attach(sub: Subscriber): boolean {
    if (!this.handle || sub.options.afterRevision < this.floor) return false;
    const capacity = this.buffer.length;
    for (let i = 0; i < capacity; i++) {
      const ev = this.buffer[(this.head + i) % capacity]!;
      if (ev.revision > sub.options.afterRevision && ev.key.startsWith(sub.prefix)) sub.options.onEvent(ev);
    }
    let subs = this.byPrefix.get(sub.prefix.length);
    if (!subs) this.byPrefix.set(sub.prefix.length, (subs = new Map()));
    let set = subs.get(sub.prefix);
    if (!set) subs.set(sub.prefix, (set = new Set()));
    set.add(sub);
    this.count++;
    return true;
  }

  remove(sub: Subscriber): void {
    const subs = this.byPrefix.get(sub.prefix.length);
    const set = subs?.get(sub.prefix);
    if (!set?.delete(sub)) return;
    this.count--;
    if (set.size === 0) {
      subs!.delete(sub.prefix);
      if (subs!.size === 0) this.byPrefix.delete(sub.prefix.length);
    }
  }

  *all(): Iterable<Subscriber> {
    for (const subs of [...this.byPrefix.values()]) for (const set of [...subs.values()]) yield* [...set];
  }

  progress(): void {
    for (const s of this.all()) s.options.onProgress?.(this.known);
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.handle?.close();
    this.handle = undefined;
  }
}

export class CachedStorage implements Storage {
  readonly kind: Storage['kind'];
  private readonly caches: ResourceCache[];
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: CacherOptions) {
    this.kind = o.storage.kind;
    this.caches = o.resources.map((r) => new ResourceCache(r.prefix, o));
  }

  /** Establishes every resource's storage watch and starts the progress ticker. */
  async start(): Promise<void> {
    await Promise.all(this.caches.map((c) => c.start()));
    this.progressTimer = setInterval(() => {
      for (const c of this.caches) c.progress();
    }, this.o.progressIntervalMs ?? 60_000);
    this.progressTimer.unref();
  }

  /** Ends the caches' storage watches (the wrapped storage stays open: its owner closes it). */
  stop(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
    for (const c of this.caches) c.stop();
  }

  /** Watchers attached to the caches. */
  get watcherCount(): number {
    return this.caches.reduce((n, c) => n + c.size, 0);
  }

  watch(prefix: string, options: WatchOptions): WatchHandle {
    const cache = this.caches.find((c) => prefix.startsWith(c.prefix));
    if (!cache) return this.o.storage.watch(prefix, options);
    const sub: Subscriber = { prefix, options };
    let closed = false;
    let direct: WatchHandle | undefined;
    const attach = () => {
      if (closed) return;
      if (!cache.attach(sub)) direct = this.o.storage.watch(prefix, options);
    };
    // Before the cache is established (at start, or while it re-initializes), the subscription waits for it.
    if (cache.established) attach();
    else
      cache.start().then(attach, (err: unknown) => {
      if (!closed) options.onError(err instanceof Error ? err : new Error(String(err)));
    });
    return {
      close: () => {
        closed = true;
        cache.remove(sub);
        direct?.close();
      },
    };
  }

  get(key: string): Promise<StoredValue | null> {
    return this.o.storage.get(key);
  }
  list(prefix: string, options?: ListOptions): Promise<ListResult> {
    return this.o.storage.list(prefix, options);
  }
  count(prefix: string): Promise<number> {
    return this.o.storage.count(prefix);
  }
  create(key: string, value: string): Promise<number> {
    return this.o.storage.create(key, value);
  }
  update(key: string, value: string, expectedRevision: number): Promise<number> {
    return this.o.storage.update(key, value, expectedRevision);
  }
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: StoredValue }> {
    return this.o.storage.delete(key, expectedRevision);
  }
  currentRevision(): Promise<number> {
    return this.o.storage.currentRevision();
  }
  compactedRevision(): Promise<number> {
    return this.o.storage.compactedRevision();
  }
  close(): Promise<void> {
    this.stop();
    return this.o.storage.close();
  }
}
