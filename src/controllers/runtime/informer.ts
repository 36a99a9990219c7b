// client-go's reflector + informer, reduced to what the controllers need: list (paged), then watch from the
// list's resourceVersion with bookmarks; a watch that ends is resumed from the last seen resourceVersion; a
// "too old" resourceVersion (410 Gone, as an HTTP status or an ERROR event) triggers a full relist whose
// differences are delivered as adds, updates and deletes. Failures back off exponentially (800 ms .. 30 s).
// The cache holds the objects as served; handlers must copy before they change anything.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { objectKey, type ListOptions, type ObjectList, type WatchEvent, type WatchOptions, type WatchStream } from '../../client/interface.js';
import type { KubeObject } from '../../apis/objects.js';
import { isGone } from '../../apis/status.js';

/** Where an informer gets its objects (a ResourceClient fits, bound to a namespace or selector). */
export interface ListerWatcher<T> {
  list(options: ListOptions): Promise<ObjectList<T>>;
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchStream;
}

export interface EventHandler<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  name: string;
  listerWatcher: ListerWatcher<T>;
  clock: Clock;
  logger?: Logger;
  /** Narrowing applied to list and watch. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size of the initial list (0 = unpaged). */
  pageSize?: number;
  /** Server-side watch timeout; client-go picks 5–10 minutes at random. */
  watchTimeoutSeconds?: number;
  /** Every so often, deliver onUpdate(obj, obj) for every cached object (0 = never). */
  resyncMs?: number;
  /**
   * Applied to every object as it arrives, before the cache and the handlers see it (client-go's
   * TransformFunc); e.g. trimManagedFields.
   */
  transform?: (obj: T) => T;
}

const BACKOFF_INITIAL_MS = 800;
const BACKOFF_MAX_MS = 30_000;

export class Informer<T extends KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly handlers: EventHandler<T>[] = [];
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private resourceVersion = '';
  private watchEvents = 0;
  private readonly logger: Logger;
  /** Counts of what happened, for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, bookmarks: 0 };

  constructor(private readonly options: InformerOptions<T>) {
    this.logger = options.logger ?? silentLogger;
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    // A handler added after sync sees the current contents as adds, as client-go's does.
    if (this.synced) for (const obj of this.store.values()) handler.onAdd?.(obj);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has been delivered (or immediately if it has). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    // An already-aborted signal fires no 'abort' event: reject now rather than wait forever.
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.syncWaiters.indexOf(done);
        if (i >= 0) this.syncWaiters.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const done = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = BACKOFF_INITIAL_MS;
    let needList = true;
    const resync = this.startResync(signal);
    try {
      while (!signal.aborted) {
        let listedNow = false;
        try {
          if (needList) {
            await this.listAndReplace();
            needList = false;
            listedNow = true;
          }
          // Stopped while listing: open no watch (its stop would never come).
          if (signal.aborted) break;
          const started = this.options.clock.now().getTime();
          this.watchEvents = 0;
          const outcome = await this.watchOnce(signal);
          // A watch that ends at once without a single event is a server problem (and a fresh list's
          // resourceVersion being "too old" one too): back off instead of spinning, as client-go's
          // BackoffUntil does; otherwise resume (or relist) at once.
          const quiet = this.watchEvents === 0 && this.options.clock.now().getTime() - started < 1000;
          if (outcome === 'gone') {
            this.stats.relistsOnGone++;
            needList = true;
          }
          if (!quiet || (outcome === 'gone' && !listedNow)) {
            backoff = BACKOFF_INITIAL_MS;
            continue;
          }
          await this.options.clock.sleep(backoff, signal).catch(() => undefined);
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        } catch (err) {
          if (signal.aborted) break;
          if (isGone(err)) {
            this.stats.relistsOnGone++;
            needList = true;
            if (!listedNow) continue;
          }
          this.logger.warn({ informer: this.options.name, err: (err as Error).message }, 'list/watch failed; retrying');
          await this.options.clock.sleep(backoff, signal).catch(() => undefined);
          backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        }
      }
    } finally {
      resync?.abort();
    }
  }

  private startResync(signal: AbortSignal): AbortController | undefined {
    const every = this.options.resyncMs ?? 0;
    if (every <= 0) return undefined;
    const ctl = new AbortController();
    const stop = AbortSignal.any([signal, ctl.signal]);
    void (async () => {
      while (!stop.aborted) {
        try {
          await this.options.clock.sleep(every, stop);
        } catch {
          return;
        }
        if (this.synced) for (const obj of this.store.values()) this.emit('update', obj, obj);
      }
    })();
    return ctl;
  }

  private async listAndReplace(): Promise<void> {
    const { listerWatcher, namespace, labelSelector, fieldSelector } = this.options;
    const pageSize = this.options.pageSize ?? 500;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    this.stats.lists++;
    do {
      const page: ObjectList<T> = await listerWatcher.list({
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
        ...(pageSize > 0 ? { limit: pageSize } : {}),
        ...(cont ? { continue: cont } : {}),
      });
      // Transformed page by page: a full list of untransformed objects is never held at once.
      const transform = this.options.transform;
      for (const obj of page.items ?? []) items.push(transform ? transform(obj) : obj);
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    this.replace(items, rv);
  }

  /** Makes the cache equal to `items`, delivering the differences. */
  private replace(items: T[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', old, obj);
    }
    for (const [key, old] of this.store) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  /** One watch from the last resourceVersion; 'gone' when it must relist, 'ended' when it may resume. */
  private watchOnce(signal: AbortSignal): Promise<'gone' | 'ended'> {
    const { listerWatcher, namespace, labelSelector, fieldSelector } = this.options;
    this.stats.watches++;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? Math.floor(300 * (1 + Math.random()));
    let gone = false;
    const stream = listerWatcher.watch(
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      },
      (event) => {
        if (gone) return;
        if (event.type === 'ERROR') {
          const status = event.object as unknown as { code?: number; reason?: string; message?: string };
          if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone') {
            gone = true;
            stream.stop();
            return;
          }
          this.logger.warn({ informer: this.options.name, status }, 'watch error event');
          stream.stop();
          return;
        }
        this.apply(event);
      },
    );
    const onAbort = () => stream.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) stream.stop();
    return stream.done.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        return gone ? 'gone' : 'ended';
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (gone) return 'gone';
        throw err;
      },
    );
  }

  private apply(event: WatchEvent<T>): void {
    this.watchEvents++;
    const obj = event.type === 'BOOKMARK' || !this.options.transform ? event.object : this.options.transform(event.object);
    const rv = obj?.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      this.stats.bookmarks++;
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = objectKey(obj);
    if (event.type === 'DELETED') {
      const old = this.store.get(key);
      this.store.delete(key);
      this.emit('delete', old ?? obj);
    } else {
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (old) this.emit('update', old, obj);
      else this.emit('add', obj);
    }
    if (rv) this.resourceVersion = rv;
  }

  private emit(kind: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers) {
      try {
        if (kind === 'add') h.onAdd?.(a);
        else if (kind === 'update') h.onUpdate?.(a, b!);
        else h.onDelete?.(a);
      } catch (err) {
        this.logger.error({ informer: this.options.name, err: (err as Error).message }, 'event handler threw');
      }
    }
  }
}
