// MemoryStorage: the storage contract held in process memory, for unit tests only (never the product
// default). It keeps a bounded history of events, which is what makes watch-from-revision, reads at an older
// revision and compaction (→ CompactedError) behave as they do with etcd.
import { compacted, conflict, keyExists, notFound } from './errors.js';
import type { ListOptions, ListResult, Storage, StoredValue, WatchEvent, WatchHandle, WatchOptions } from './interface.js';
import { readRevision, storageClosed } from './internal.js';
import { WatchHub } from './watch-hub.js';

export interface MemoryStorageOptions {
  /** Events kept for watches and reads at older revisions; older ones are compacted. Default 10,000. */
  historyLimit?: number;
  /** Progress notifications to watchers with onProgress; 0 (default) disables them. */
  progressIntervalMs?: number;
}

interface Version {
  revision: number;
  createRevision: number;
  /** null marks a delete (tombstone). */
  value: string | null;
}

export class MemoryStorage implements Storage {
  readonly kind = 'memory' as const;
  private rev = 0;
  private compactRev = 0;
  /** Every key with at least one retained version, sorted. */
  private keys: string[] = [];
  private versions = new Map<string, Version[]>();
  /** Events with revision > compactRev, ascending. */
  private events: WatchEvent[] = [];
  private readonly historyLimit: number;
  private readonly hub: WatchHub;
  private closed = false;

  constructor(options: MemoryStorageOptions = {}) {
    this.historyLimit = Math.max(1, options.historyLimit ?? 10_000);
    this.hub = new WatchHub({ currentRevision: () => this.rev, progressIntervalMs: options.progressIntervalMs ?? 0 });
  }

  async get(key: string): Promise<StoredValue | null> {
    this.checkOpen();
    return this.readAt(key, this.rev);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const revision = readRevision(options.revision, this.rev, this.compactRev);
    const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
    let i = lowerBound(this.keys, prefix);
    if (options.startAfter !== undefined && options.startAfter >= prefix) i = upperBound(this.keys, options.startAfter);
    const items: StoredValue[] = [];
    let remaining = 0;
    for (; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      if (!key.startsWith(prefix)) break;
      const v = this.readAt(key, revision);
      if (!v) continue;
      if (items.length < limit) items.push(v);
      else remaining++;
    }
    return { items, revision, more: remaining > 0, remaining };
  }

  async count(prefix: string): Promise<number> {
    return (await this.list(prefix)).items.length;
  }

  async create(key: string, value: string): Promise<number> {
    this.checkOpen();
    if (this.readAt(key, this.rev)) throw keyExists(key);
    const revision = ++this.rev;
    this.append(key, { revision, createRevision: revision, value });
    this.emit({ type: 'put', key, value, revision, createRevision: revision });
    return revision;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    this.checkOpen();
    const cur = this.readAt(key, this.rev);
    if (!cur) throw notFound(key);
    if (cur.modRevision !== expectedRevision) throw conflict(key);
    const revision = ++this.rev;
    this.append(key, { revision, createRevision: cur.createRevision, value });
    this.emit({ type: 'put', key, value, prevValue: cur.value, revision, createRevision: cur.createRevision });
    return revision;
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: StoredValue }> {
    this.checkOpen();
    const cur = this.readAt(key, this.rev);
    if (!cur) throw notFound(key);
    if (expectedRevision !== undefined && cur.modRevision !== expectedRevision) throw conflict(key);
    const revision = ++this.rev;
    this.append(key, { revision, createRevision: cur.createRevision, value: null });
    this.emit({ type: 'delete', key, prevValue: cur.value, revision });
    return { revision, prev: cur };
  }

  watch(prefix: string, options: WatchOptions): WatchHandle {
    if (this.closed) {
      const handle = { close() {} };
      queueMicrotask(() => options.onError(storageClosed()));
      return handle;
    }
    return this.hub.add(prefix, options, () => {
      if (options.afterRevision < this.compactRev) throw compacted(options.afterRevision, this.compactRev);
      const from = upperBoundEvents(this.events, options.afterRevision);
      const out: WatchEvent[] = [];
      for (let i = from; i < this.events.length; i++) {
        const ev = this.events[i]!;
        if (ev.key.startsWith(prefix)) out.push(ev);
      }
      return out;
    });
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    return this.compactRev;
  }

  /** Drops history up to and including `revision` (etcd's compact); later reads/watches before it fail. */
  async compact(revision: number): Promise<void> {
    this.compactTo(Math.min(revision, this.rev));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub.failAll(storageClosed());
  }

  private checkOpen(): void {
    if (this.closed) throw storageClosed();
  }

  private readAt(key: string, revision: number): StoredValue | null {
    const vs = this.versions.get(key);
    if (!vs) return null;
    for (let i = vs.length - 1; i >= 0; i--) {
      const v = vs[i]!;
      if (v.revision > revision) continue;
      if (v.value === null) return null;
      return { key, value: v.value, createRevision: v.createRevision, modRevision: v.revision };
    }
    return null;
  }

  private append(key: string, version: Version): void {
    let vs = this.versions.get(key);
    if (!vs) {
      vs = [];
      this.versions.set(key, vs);
      this.keys.splice(lowerBound(this.keys, key), 0, key);
    }
    vs.push(version);
  }

  private emit(event: WatchEvent): void {
    this.events.push(event);
    // Compact in batches so the history array is not shifted on every write.
    const slack = Math.max(1, Math.floor(this.historyLimit / 10));
    if (this.events.length >= this.historyLimit + slack) {
      this.compactTo(this.events[this.events.length - this.historyLimit - 1]!.revision);
    }
    this.hub.publish(event);
  }

  private compactTo(revision: number): void {
    if (revision <= this.compactRev) return;
    this.compactRev = revision;
    this.events.splice(0, upperBoundEvents(this.events, revision));
    // Keep, per key, only the newest version at or before the compacted revision (and everything after it);
    // drop keys whose state at the compacted revision is "deleted" and which have no later versions.
    for (const [key, vs] of this.versions) {
      let keepFrom = 0;
      for (let i = vs.length - 1; i >= 0; i--) {
        if (vs[i]!.revision <= revision) {
          keepFrom = vs[i]!.value === null ? i + 1 : i;
          break;
        }
      }
      if (keepFrom > 0) vs.splice(0, keepFrom);
      if (vs.length === 0) {
        this.versions.delete(key);
        this.keys.splice(lowerBound(this.keys, key), 1);
      }
    }
  }
}

function lowerBound(arr: string[], target: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(arr: string[], target: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first event with revision > revision. */
function upperBoundEvents(events: WatchEvent[], revision: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid]!.revision <= revision) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
