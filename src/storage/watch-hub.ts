// In-process watch fan-out shared by the memory and SQLite backends. Watchers are indexed by prefix, so an
// event costs one map lookup per distinct watched prefix length, never a scan of all watchers; each watcher
// gets its events asynchronously (a microtask after the write) and strictly in revision order.
import type { WatchEvent, WatchHandle, WatchOptions } from './interface.js';

class Watcher implements WatchHandle {
  private queue: WatchEvent[] = [];
  private scheduled = false;
  closed = false;
  private pendingError: Error | undefined;
  /** Highest revision handed to this watcher (delivered or queued). */
  lastQueued: number;

  constructor(
    readonly prefix: string,
    private readonly opts: WatchOptions,
    private readonly hub: WatchHub,
  ) {
    this.lastQueued = opts.afterRevision;
  }

  push(event: WatchEvent): void {
    // Replay and live events may overlap at the switch-over; the revision check makes the switch gap- and
    // duplicate-free.
    if (this.closed || this.pendingError || event.revision <= this.lastQueued) return;
    this.lastQueued = event.revision;
    this.queue.push(event);
    this.schedule();
  }

  fail(err: Error): void {
    if (this.closed || this.pendingError) return;
    this.pendingError = err;
    this.hub.remove(this);
    this.schedule();
  }

  progress(revision: number): void {
    if (this.closed || this.pendingError || this.queue.length > 0 || !this.opts.onProgress) return;
    this.opts.onProgress(revision);
  }

  get wantsProgress(): boolean {
    return this.opts.onProgress !== undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.hub.remove(this);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    while (!this.closed && this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      for (let i = 0; i < batch.length && !this.closed; i++) this.opts.onEvent(batch[i]!);
    }
    if (!this.closed && this.pendingError) {
      const err = this.pendingError;
      this.closed = true;
      this.opts.onError(err);
    }
  }
}

export interface WatchHubOptions {
  /** Returns the store's current revision, for progress notifications. */
  currentRevision: () => number;
  /** Interval of progress notifications to watchers that asked for them; 0 disables them. */
  progressIntervalMs?: number;
}

export class WatchHub {
  /** prefix → watchers of that exact prefix. */
  private byPrefix = new Map<string, Set<Watcher>>();
  /** distinct prefix length → number of distinct prefixes with that length. */
  private lengths = new Map<number, number>();
  private progressTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WatchHubOptions) {}

  get size(): number {
    let n = 0;
    for (const set of this.byPrefix.values()) n += set.size;
    return n;
  }

  /**
   * Registers a watcher. `replay` runs synchronously before the watcher becomes live, so with a synchronous
   * backend no write can fall between the replayed history and the live stream. It returns the events after
   * `afterRevision` (or throws, e.g. a CompactedError, which is delivered to onError).
   */
  add(prefix: string, options: WatchOptions, replay: () => Iterable<WatchEvent>): WatchHandle {
    const w = new Watcher(prefix, options, this);
    try {
      for (const ev of replay()) w.push(ev);
    } catch (err) {
      w.fail(err instanceof Error ? err : new Error(String(err)));
      return w;
    }
    let set = this.byPrefix.get(prefix);
    if (!set) {
      set = new Set();
      this.byPrefix.set(prefix, set);
      this.lengths.set(prefix.length, (this.lengths.get(prefix.length) ?? 0) + 1);
    }
    set.add(w);
    if (options.onProgress) this.ensureProgressTimer();
    return w;
  }

  remove(w: Watcher): void {
    const set = this.byPrefix.get(w.prefix);
    if (!set || !set.delete(w)) return;
    if (set.size === 0) {
      this.byPrefix.delete(w.prefix);
      const n = (this.lengths.get(w.prefix.length) ?? 1) - 1;
      if (n === 0) this.lengths.delete(w.prefix.length);
      else this.lengths.set(w.prefix.length, n);
    }
  }

  /** Hands an event to every watcher whose prefix the key starts with. */
  publish(event: WatchEvent): void {
    const key = event.key;
    for (const len of this.lengths.keys()) {
      if (len > key.length) continue;
      const set = this.byPrefix.get(key.slice(0, len));
      if (set) for (const w of set) w.push(event);
    }
  }

  /** Fails every watcher (e.g. the store is closing). */
  failAll(err: Error): void {
    for (const set of [...this.byPrefix.values()]) for (const w of [...set]) w.fail(err);
    this.stopProgressTimer();
  }

  private ensureProgressTimer(): void {
    const every = this.options.progressIntervalMs ?? 0;
    if (every <= 0 || this.progressTimer) return;
    this.progressTimer = setInterval(() => {
      const rev = this.options.currentRevision();
      let any = false;
      for (const set of this.byPrefix.values())
        for (const w of set)
          if (w.wantsProgress) {
            any = true;
            w.progress(rev);
          }
      if (!any) this.stopProgressTimer();
    }, every);
    this.progressTimer.unref();
  }

  private stopProgressTimer(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.progressTimer = undefined;
  }
}
