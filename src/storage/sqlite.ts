// SqliteStorage: the product's default store, the storage contract on one SQLite file with k3s kine's
// log-of-rows design. Every write appends a row whose id is the revision; the newest row of a key is its
// current value, a delete appends a tombstone row, and a compactor removes rows superseded before a
// retention window. Watches are fed directly from the write path of this process (the file is locked to one
// process), so there is no polling; a watch from an older revision replays rows from the table first.
// Writes are group-committed: the writes of one event-loop turn share a transaction, and each write's promise
// (and its watch event) is released only once that transaction has committed.
import Database from 'better-sqlite3';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { compacted, conflict, keyExists, notFound, StorageError } from './errors.js';
import type { ListOptions, ListResult, Storage, StoredValue, WatchEvent, WatchHandle, WatchOptions } from './interface.js';
import { readRevision, repeatEvery, storageClosed } from './internal.js';
import { WatchHub } from './watch-hub.js';
import { preparePrivateDatabaseFiles } from './sqlite-files.js';

export interface SqliteCompactionOptions {
  /** How often the compactor runs; 0 disables it. Default 5 minutes (kube-apiserver's compaction interval). */
  intervalMs?: number;
  /** Revisions always kept, whatever their age (kine keeps 1,000). */
  minRetainRevisions?: number;
  /** Rows deleted per batch; the event loop runs between batches. */
  batchSize?: number;
}

export interface SqliteStorageOptions {
  /** Database file (created if missing); ':memory:' for a throwaway store. */
  path: string;
  compaction?: SqliteCompactionOptions;
  /** Clock driving the compactor (a FakeClock in tests). */
  clock?: Clock;
  /** Progress notifications to watchers with onProgress; 0 disables them. Default 5 s. */
  progressIntervalMs?: number;
  /** How long to wait for a file locked by another process before failing. Default 2 s. */
  busyTimeoutMs?: number;
}

interface Row {
  id: number;
  name: string;
  deleted: number;
  create_revision: number;
  value: string | null;
}

interface PendingWrite {
  event: WatchEvent;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface ReplayRow extends Row {
  prev_value: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT
);
CREATE INDEX IF NOT EXISTS kv_name_id_deleted ON kv (name, id, deleted);
DROP INDEX IF EXISTS kv_name_id;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;
// kv_name_id_deleted covers every list and count condition (name range, newest id at a revision, tombstone), so a
// count never reads the table's rows: 100,000 CSRs are 600 MB of rows but 10 MB of index, and a count of them
// took 0.5 s through the rows against 0.09 s on the index. A database from before it (with kv_name_id) gets the
// index when it opens (one pass over the table) and loses the old one, which the new one's prefix replaces.

/** Remembered counts of paged lists (see SqliteStorage.remainingAfter); more concurrent paged lists recount. */
const REMEMBERED_COUNTS = 256;

// The newest row of each key at or before a revision is found through the (name, id, deleted) index, so listing a
// page walks keys in order and stops after `limit` instead of grouping the whole prefix first.
const LATEST_AT = `kv.id = (SELECT MAX(k2.id) FROM kv AS k2 WHERE k2.name = kv.name AND k2.id <= @rev)`;

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  /** Revision of the last write, committed or in the open batch (what reads on this connection see). */
  private rev: number;
  /** Revision of the last committed write; watchers never see beyond it. */
  private committedRev: number;
  private compactRev: number;
  /** Writes in the open transaction, released when it commits. */
  private batch: PendingWrite[] | null = null;
  private batchStartRev = 0;
  private readonly hub: WatchHub;
  private closed = false;
  private readonly stopCompactor = new AbortController();
  private readonly stmt: ReturnType<SqliteStorage['prepare']>;
  /**
   * remainingItemCount of the pages handed out lately, by (revision, end of prefix, last key): the keys after
   * that key at that revision. The next page of the list (startAfter = that key, same revision) subtracts what
   * it returns instead of counting the rest of the prefix again, which made a paged list of n keys O(n²)
   * (100,000 CSRs in pages of 500: 73 s). Exact, as the rows at or below a revision never change (compaction
   * only removes rows no read at or above the compacted revision sees; a rolled-back batch clears the map, as
   * its revisions are reused).
   */
  private readonly remainingAfter = new Map<string, number>();

  constructor(options: SqliteStorageOptions) {
    try {
      preparePrivateDatabaseFiles(options.path);
      this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 2000 });
      // One process owns the file: in-process watches only see this process's writes, so a second writer
      // would silently break them. EXCLUSIVE locking makes a second opener fail instead (and lets WAL skip
      // its shared-memory index).
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      // A 201 must survive a power loss, not only a crash: the WAL is fsynced at each commit (etcd fsyncs
      // before it answers). Group commit keeps that to one fsync per event-loop turn's batch.
      this.db.pragma('synchronous = FULL');
      // 16 MiB of page cache (default 2 MiB) keeps the name index and recent rows hot. A list of a large
      // prefix walks more than any cache holds (100,000 CSRs are 600 MB of rows with history); the OS page
      // cache serves those pages, and a 64 MiB cache only added its 50 MB to serve's RSS (bench:memory).
      this.db.pragma('cache_size = -16384');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw unavailable(`cannot open the SQLite database ${options.path}`, err);
    }
    this.stmt = this.prepare();
    this.compactRev = Number((this.stmt.getMeta.get('compact_rev') as { value: number } | undefined)?.value ?? 0);
    // Rows above the compacted revision are never removed, so the last revision is the highest row or, if
    // compaction removed that row (a tombstone), the compacted revision.
    this.rev = Math.max(Number((this.stmt.lastRevision.get() as { rev: number | null }).rev ?? 0), this.compactRev);
    this.committedRev = this.rev;
    this.hub = new WatchHub({ currentRevision: () => this.committedRev, progressIntervalMs: options.progressIntervalMs ?? 5000 });
    const interval = options.compaction?.intervalMs ?? 5 * 60_000;
    if (interval > 0) void this.runCompactor(interval, options.compaction ?? {}, options.clock ?? systemClock);
  }

  private prepare() {
    const db = this.db;
    return {
      lastRevision: db.prepare(`SELECT MAX(id) AS rev FROM kv`),
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rowCount: db.prepare(`SELECT COUNT(*) AS n FROM kv`),
      getMeta: db.prepare(`SELECT value FROM meta WHERE name = ?`),
      setMeta: db.prepare(`INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
      latest: db.prepare(`SELECT id, name, deleted, create_revision, value FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1`),
      insert: db.prepare(`INSERT INTO kv (id, name, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?)`),
      // "From" variants start at the prefix itself (name >= lo), "after" variants strictly after a key.
      listFrom: db.prepare(
        `SELECT id, name, deleted, create_revision, value FROM kv
         WHERE name >= @lo AND name < @hi AND deleted = 0 AND ${LATEST_AT} ORDER BY name LIMIT @limit`,
      ),
      listAfter: db.prepare(
        `SELECT id, name, deleted, create_revision, value FROM kv
         WHERE name > @lo AND name < @hi AND deleted = 0 AND ${LATEST_AT} ORDER BY name LIMIT @limit`,
      ),
      countFrom: db.prepare(`SELECT COUNT(*) AS n FROM kv WHERE name >= @lo AND name < @hi AND deleted = 0 AND ${LATEST_AT}`),
      countAfter: db.prepare(`SELECT COUNT(*) AS n FROM kv WHERE name > @lo AND name < @hi AND deleted = 0 AND ${LATEST_AT}`),
      // Walk the revision range, not the name index (unary + keeps the planner off it): a watch usually
      // starts a few revisions back, while its prefix may cover most of the table.
      replay: db.prepare(
        `SELECT kv.id, kv.name, kv.deleted, kv.create_revision, kv.value, p.value AS prev_value
         FROM kv LEFT JOIN kv AS p ON p.id = kv.prev_revision
         WHERE kv.id > @from AND kv.id <= @to AND +kv.name >= @lo AND +kv.name < @hi ORDER BY kv.id`,
      ),
      compactBatch: db.prepare(
        `DELETE FROM kv WHERE id > @from AND id <= @to AND (deleted = 1 OR id < (SELECT MAX(k2.id) FROM kv AS k2 WHERE k2.name = kv.name AND k2.id <= @rev))`,
      ),
    };
  }

  async get(key: string): Promise<StoredValue | null> {
    this.checkOpen();
    const row = this.latest(key);
    return row && !row.deleted ? toStored(row) : null;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.checkOpen();
    const rev = readRevision(options.revision, this.rev, this.compactRev);
    const hi = prefixEnd(prefix);
    const afterKey = options.startAfter !== undefined && options.startAfter >= prefix;
    const stmt = afterKey ? this.stmt.listAfter : this.stmt.listFrom;
    const lo = afterKey ? options.startAfter! : prefix;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    // One extra row tells whether there is more without counting.
    const rows = this.guard(() => stmt.all({ lo, hi, rev, limit: limit > 0 ? limit + 1 : -1 }) as Row[]);
    const more = limit > 0 && rows.length > limit;
    const items = (more ? rows.slice(0, limit) : rows).map(toStored);
    let remaining = 0;
    if (more) {
      const last = items.at(-1)!.key;
      const known = afterKey ? this.remainingAfter.get(countKey(rev, hi, lo)) : undefined;
      remaining = known !== undefined ? known - items.length : this.guard(() => (this.stmt.countAfter.get({ lo: last, hi, rev }) as { n: number }).n);
      this.rememberRemaining(countKey(rev, hi, last), remaining);
    }
    return { items, revision: rev, more, remaining };
  }

  private rememberRemaining(key: string, n: number): void {
    this.remainingAfter.delete(key);
    this.remainingAfter.set(key, n);
    // Map keeps insertion order: the first key is the one least recently remembered.
    if (this.remainingAfter.size > REMEMBERED_COUNTS) this.remainingAfter.delete(this.remainingAfter.keys().next().value!);
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    return this.guard(() => (this.stmt.countFrom.get({ lo: prefix, hi: prefixEnd(prefix), rev: this.rev }) as { n: number }).n);
  }

  async create(key: string, value: string): Promise<number> {
    this.checkOpen();
    const cur = this.latest(key);
    if (cur && !cur.deleted) throw keyExists(key);
    const rev = this.rev + 1;
    await this.append({ type: 'put', key, value, revision: rev, createRevision: rev }, rev, 0);
    return rev;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    this.checkOpen();
    const cur = this.latest(key);
    if (!cur || cur.deleted) throw notFound(key);
    if (cur.id !== expectedRevision) throw conflict(key);
    const rev = this.rev + 1;
    const event: WatchEvent = { type: 'put', key, value, prevValue: cur.value ?? '', revision: rev, createRevision: cur.create_revision };
    await this.append(event, cur.create_revision, cur.id);
    return rev;
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: StoredValue }> {
    this.checkOpen();
    const cur = this.latest(key);
    if (!cur || cur.deleted) throw notFound(key);
    if (expectedRevision !== undefined && cur.id !== expectedRevision) throw conflict(key);
    const prev = toStored(cur);
    const rev = this.rev + 1;
    await this.append({ type: 'delete', key, prevValue: prev.value, revision: rev }, cur.create_revision, cur.id);
    return { revision: rev, prev };
  }

  watch(prefix: string, options: WatchOptions): WatchHandle {
    if (this.closed) {
      queueMicrotask(() => options.onError(storageClosed()));
      return { close() {} };
    }
    // Replay and registration happen in one synchronous step: no commit can fall between them. Writes of
    // the open batch are not replayed; they reach the watcher when their batch commits.
    return this.hub.add(prefix, options, () => {
      if (options.afterRevision < this.compactRev) throw compacted(options.afterRevision, this.compactRev);
      if (options.afterRevision >= this.committedRev) return [];
      const rows = this.guard(
        () =>
          this.stmt.replay.all({ from: options.afterRevision, to: this.committedRev, lo: prefix, hi: prefixEnd(prefix) }) as ReplayRow[],
      );
      return rows.map(toEvent);
    });
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  async compactedRevision(): Promise<number> {
    return this.compactRev;
  }

  /**
   * Removes history before `revision`: rows superseded at that revision and tombstones. Reads and watches
   * from before it fail with Compacted afterwards; the state at `revision` and everything later stays.
   */
  async compact(revision: number, batchSize = 10_000): Promise<void> {
    this.checkOpen();
    this.commit();
    const target = Math.min(revision, this.rev);
    if (target <= this.compactRev) return;
    const from = this.compactRev;
    // Publish the new bound first, so no reader can observe a half-compacted revision.
    this.guard(() => this.stmt.setMeta.run('compact_rev', target));
    this.compactRev = target;
    for (let lo = from; lo < target && !this.closed; lo += batchSize) {
      const hi = Math.min(lo + batchSize, target);
      this.guard(() => this.stmt.compactBatch.run({ from: lo, to: hi, rev: target }));
      if (hi < target) await new Promise((r) => setImmediate(r));
    }
  }

  /** Row count of the log (current values + retained history + tombstones), for metrics and tests. */
  rowCount(): number {
    this.checkOpen();
    return this.guard(() => (this.stmt.rowCount.get() as { n: number }).n);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.commit();
    this.closed = true;
    this.stopCompactor.abort();
    this.hub.failAll(storageClosed());
    this.db.close();
  }

  /**
   * kube-apiserver's compaction policy with kine's floor: each tick compacts to the revision seen at the
   * previous tick (so at least one interval of history stays), but never into the last minRetainRevisions.
   */
  private async runCompactor(intervalMs: number, opts: SqliteCompactionOptions, clock: Clock): Promise<void> {
    const minRetain = opts.minRetainRevisions ?? 1000;
    let previousTick = this.rev;
    await repeatEvery(clock, intervalMs, this.stopCompactor.signal, async () => {
      const target = Math.min(previousTick, this.rev - minRetain);
      previousTick = this.rev;
      if (target > this.compactRev) await this.compact(target, opts.batchSize);
    });
  }

  /** Rolls the open batch back: its writers fail, the revision returns to where the batch started. */
  private abortBatch(cause: unknown): void {
    const batch = this.batch ?? [];
    this.batch = null;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.rev = this.batchStartRev;
    this.remainingAfter.clear();
    const failure = unavailable('SQLite commit failed', cause);
    for (const w of batch) w.reject(failure);
    // Readers on this connection may have seen the lost writes: make every watcher relist.
    this.hub.failAll(failure);
  }

  private checkOpen(): void {
    if (this.closed) throw storageClosed();
  }

  private latest(key: string): Row | undefined {
    return this.guard(() => this.stmt.latest.get(key) as Row | undefined);
  }

  /**
   * Appends the event's row to the open batch (opening one if needed); its id is the next revision (the file
   * belongs to this process, so the counter is exact). Resolves once the batch has committed.
   */
  private append(event: WatchEvent, createRevision: number, prevRevision: number): Promise<void> {
    if (this.batch && !this.db.inTransaction) this.abortBatch(new Error('the transaction was rolled back'));
    if (!this.batch) {
      this.guard(() => this.stmt.begin.run());
      this.batch = [];
      this.batchStartRev = this.rev;
      // setImmediate runs after the I/O callbacks of this turn, so requests arriving together share a commit.
      setImmediate(() => this.commit());
    }
    const batch = this.batch;
    const deleted = event.type === 'delete' ? 1 : 0;
    try {
      this.stmt.insert.run(event.revision, event.key, deleted, createRevision, prevRevision, event.value ?? null);
    } catch (err) {
      // Some errors (SQLITE_FULL, I/O) roll back the whole transaction, taking the batch's writes with them.
      if (!this.db.inTransaction) this.abortBatch(err);
      throw unavailable('SQLite storage error', err);
    }
    this.rev = event.revision;
    return new Promise((resolve, reject) => batch.push({ event, resolve, reject }));
  }

  /** Commits the open batch, then publishes its events in revision order and resolves its writers. */
  private commit(): void {
    const batch = this.batch;
    if (!batch) return;
    try {
      if (!this.db.inTransaction) throw new Error('the transaction was rolled back');
      this.stmt.commit.run();
    } catch (err) {
      this.abortBatch(err);
      return;
    }
    this.batch = null;
    this.committedRev = this.rev;
    for (const w of batch) {
      this.hub.publish(w.event);
      w.resolve();
    }
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw unavailable('SQLite storage error', err);
    }
  }
}

function unavailable(message: string, cause: unknown): StorageError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const locked = /locked|busy/i.test(detail) ? ' (is another kubepki process using this database file?)' : '';
  return new StorageError('Unavailable', `${message}: ${detail}${locked}`, { cause });
}

function countKey(rev: number, hi: string, after: string): string {
  return `${rev}\u0000${hi}\u0000${after}`;
}

function toStored(row: Row): StoredValue {
  return { key: row.name, value: row.value ?? '', createRevision: row.create_revision, modRevision: row.id };
}

function toEvent(row: ReplayRow): WatchEvent {
  if (row.deleted) return { type: 'delete', key: row.name, prevValue: row.prev_value ?? '', revision: row.id };
  const ev: WatchEvent = { type: 'put', key: row.name, value: row.value ?? '', revision: row.id, createRevision: row.create_revision };
  if (row.create_revision !== row.id && row.prev_value !== null) ev.prevValue = row.prev_value;
  return ev;
}

/** The smallest string greater than every string with this prefix (SQLite compares UTF-8 bytes). */
export function prefixEnd(prefix: string): string {
  const cps = [...prefix];
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      let next = last + 1;
      if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return String.fromCodePoint(0x10ffff).repeat(4);
}
