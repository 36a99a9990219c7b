import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, it } from 'node:test';
import { SqliteStorage } from '../../src/storage/sqlite.js';
import { FakeClock } from '../../src/util/clock.js';
import { tempDir } from '../helpers/tmp.js';
import { isStorageError, Recorder, storageContract } from './contract.js';

storageContract('sqlite', async (t) => {
  const dir = await tempDir(t, 'kubepki-sqlite-');
  const storage = new SqliteStorage({ path: path.join(dir, 'state.db'), compaction: { intervalMs: 0 } });
  t.after(() => storage.close());
  return { storage, compact: (rev) => storage.compact(rev) };
});

/** Lets the compactor's loop (driven by the fake clock) run its awaited steps. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('SqliteStorage', () => {
  it('opens a database written with the old (name, id) index: the covering index replaces it, the data reads as before', async (t) => {
    const file = path.join(await tempDir(t, 'kubepki-sqlite-'), 'state.db');
    // The schema as it was before kv_name_id_deleted, with a key's history and a tombstone.
    const old = new Database(file);
    old.exec(`CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT NOT NULL, deleted INTEGER NOT NULL, create_revision INTEGER NOT NULL, prev_revision INTEGER NOT NULL, value TEXT);
      CREATE INDEX kv_name_id ON kv (name, id);
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      INSERT INTO kv VALUES (1, '/registry/o/a', 0, 1, 0, 'a1'), (2, '/registry/o/b', 0, 2, 0, 'b'), (3, '/registry/o/a', 0, 1, 1, 'a2'),
        (4, '/registry/o/c', 0, 4, 0, 'c'), (5, '/registry/o/b', 1, 2, 2, NULL);`);
    old.close();
    const storage = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
    assert.equal(await storage.currentRevision(), 5);
    const page = await storage.list('/registry/o/', { limit: 1 });
    assert.deepEqual(page.items.map((i) => [i.key, i.value, i.modRevision]), [['/registry/o/a', 'a2', 3]]);
    assert.equal(page.remaining, 1, 'b is deleted: only c remains');
    assert.deepEqual((await storage.list('/registry/o/', { revision: 4 })).items.map((i) => i.value), ['a2', 'b', 'c']);
    await storage.close();
    const check = new Database(file, { readonly: true });
    t.after(() => check.close());
    const indexes = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kv'`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(indexes, ['kv_name_id_deleted']);
  });

  it('remainingItemCount stays exact over many pages, interleaved lists at other revisions, and a page asked twice', async (t) => {
    const storage = new SqliteStorage({ path: ':memory:', compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    for (let i = 0; i < 40; i++) await storage.create(`/registry/r/k${String(i).padStart(2, '0')}`, String(i));
    // Keys of a neighbouring prefix must not be counted.
    await storage.create('/registry/rr/x', 'x');
    const first = await storage.list('/registry/r/', { limit: 7 });
    assert.equal(first.remaining, 33);
    // Another list of the same prefix at a later revision (after 5 deletes and 2 creates) pages alongside.
    for (let i = 10; i < 15; i++) await storage.delete(`/registry/r/k${i}`);
    await storage.create('/registry/r/k05a', 'new');
    await storage.create('/registry/r/k99', 'new');
    const second = await storage.list('/registry/r/', { limit: 7 });
    assert.equal(second.remaining, 30, '37 keys at the later revision, 7 on the page');
    let a = first;
    let b = second;
    let seenA = first.items.length;
    let seenB = second.items.length;
    while (a.more || b.more) {
      if (a.more) {
        const again = await storage.list('/registry/r/', { limit: 7, startAfter: a.items.at(-1)!.key, revision: first.revision });
        a = await storage.list('/registry/r/', { limit: 7, startAfter: a.items.at(-1)!.key, revision: first.revision });
        assert.deepEqual(again, a, 'the same page asked twice is the same page');
        seenA += a.items.length;
        if (a.more) assert.equal(a.remaining, 40 - seenA);
      }
      if (b.more) {
        b = await storage.list('/registry/r/', { limit: 7, startAfter: b.items.at(-1)!.key, revision: second.revision });
        seenB += b.items.length;
        if (b.more) assert.equal(b.remaining, 37 - seenB);
      }
    }
    assert.equal(seenA, 40);
    assert.equal(seenB, 37);
  });

  it('keeps data and keeps increasing revisions after the file is reopened', async (t) => {
    const file = path.join(await tempDir(t, 'kubepki-sqlite-'), 'state.db');
    const first = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
    const r1 = await first.create('/registry/a/1', 'one');
    const r2 = await first.create('/registry/a/2', 'two');
    const d = await first.delete('/registry/a/2');
    await first.compact(d.revision);
    await first.close();

    const second = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
    t.after(() => second.close());
    assert.equal(await second.currentRevision(), d.revision);
    assert.equal(await second.compactedRevision(), d.revision);
    assert.deepEqual(await second.get('/registry/a/1'), { key: '/registry/a/1', value: 'one', createRevision: r1, modRevision: r1 });
    assert.equal(await second.get('/registry/a/2'), null);
    // The compaction removed the tombstone (the highest row); the next revision must still be higher.
    const r4 = await second.create('/registry/a/3', 'three');
    assert.ok(r4 > d.revision && r4 > r2);
    await assert.rejects(second.list('/registry/a/', { revision: r1 }), isStorageError('Compacted'));
  });

  it('removes superseded rows and tombstones when compacting, keeping the state at the compacted revision', async (t) => {
    const storage = new SqliteStorage({ path: ':memory:', compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    let rev = await storage.create('/registry/c/k', 'v0');
    for (let i = 1; i <= 20; i++) rev = await storage.update('/registry/c/k', `v${i}`, rev);
    await storage.create('/registry/c/gone', 'x');
    const del = await storage.delete('/registry/c/gone');
    const keep = await storage.create('/registry/c/other', 'o');
    assert.equal(storage.rowCount(), 24);
    await storage.compact(del.revision, 5);
    // Left: the newest version of k and the row of "other".
    assert.equal(storage.rowCount(), 2);
    const list = await storage.list('/registry/c/', { revision: del.revision });
    assert.deepEqual(list.items.map((i) => [i.key, i.value]), [['/registry/c/k', 'v20']]);
    assert.equal((await storage.get('/registry/c/other'))?.modRevision, keep);
    // An update after compaction still reports the pre-compaction value as its previous value.
    const rec = new Recorder(storage, '/registry/c/', del.revision);
    t.after(() => rec.close());
    await storage.update('/registry/c/k', 'v21', rev);
    await rec.waitFor(2);
    assert.deepEqual(rec.events.map((e) => [e.key, e.value, e.prevValue]), [
      ['/registry/c/other', 'o', undefined],
      ['/registry/c/k', 'v21', 'v20'],
    ]);
  });

  it('compacts on its own schedule: to the previous tick, never into the last revisions it must retain', async (t) => {
    const clock = new FakeClock();
    const storage = new SqliteStorage({ path: ':memory:', clock, compaction: { intervalMs: 60_000, minRetainRevisions: 3 } });
    t.after(() => storage.close());
    for (let i = 0; i < 10; i++) await storage.create(`/registry/s/${i}`, String(i));
    // First tick: the previous tick was at revision 0, so nothing is compacted yet.
    clock.advance(60_000);
    await flush();
    assert.equal(await storage.compactedRevision(), 0);
    for (let i = 10; i < 12; i++) await storage.create(`/registry/s/${i}`, String(i));
    // Second tick: min(10 seen at the first tick, 12 - 3 retained) = 9.
    clock.advance(60_000);
    await flush();
    assert.equal(await storage.compactedRevision(), 9);
    // Third tick: min(12 seen at the second tick, 12 - 3) = 9 again.
    clock.advance(60_000);
    await flush();
    assert.equal(await storage.compactedRevision(), 9);
    await storage.create('/registry/s/12', '12');
    await storage.create('/registry/s/13', '13');
    await storage.create('/registry/s/14', '14');
    // Fourth tick: min(12 seen at the third tick, 15 - 3) = 12.
    clock.advance(60_000);
    await flush();
    assert.equal(await storage.compactedRevision(), 12);
    assert.equal(await storage.count('/registry/s/'), 15);
  });

  it('refuses to open a database file another store already holds, with a clear error', async (t) => {
    const file = path.join(await tempDir(t, 'kubepki-sqlite-'), 'state.db');
    const owner = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
    t.after(() => owner.close());
    await owner.create('/registry/a/1', '1');
    assert.throws(
      () => new SqliteStorage({ path: file, compaction: { intervalMs: 0 }, busyTimeoutMs: 0 }),
      (err: unknown) => isStorageError('Unavailable')(err) && /another kubepki process/.test((err as Error).message),
    );
  });

  it('group-commits concurrent writes and shows a write to watchers exactly once, after it committed', async (t) => {
    const storage = new SqliteStorage({ path: ':memory:', compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    const before = await storage.create('/registry/g/0', '0');
    // Issue writes without awaiting: they share one open transaction.
    const pending = [1, 2, 3].map((i) => storage.create(`/registry/g/${i}`, String(i)));
    const uncommitted = await storage.currentRevision();
    assert.equal(uncommitted, before + 3);
    // One watch from before the batch, one from the (not yet committed) revision a read on this store reports.
    const fromBefore = new Recorder(storage, '/registry/g/', before);
    const fromRead = new Recorder(storage, '/registry/g/', uncommitted);
    t.after(() => [fromBefore, fromRead].forEach((r) => r.close()));
    const revs = await Promise.all(pending);
    assert.deepEqual(revs, [before + 1, before + 2, before + 3]);
    const after = await storage.create('/registry/g/4', '4');
    await fromBefore.waitFor(4);
    await fromRead.waitFor(1);
    await fromBefore.settle();
    assert.deepEqual(fromBefore.events.map((e) => e.revision), [before + 1, before + 2, before + 3, after]);
    assert.deepEqual(fromRead.events.map((e) => e.revision), [after]);
  });

  it('a write that cannot be stored fails with Unavailable and leaves no trace or revision gap', async (t) => {
    const storage = new SqliteStorage({ path: ':memory:', compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    const db = (storage as unknown as { db: import('better-sqlite3').Database }).db;
    const r1 = await storage.create('/registry/f/1', 'small');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    await assert.rejects(storage.create('/registry/f/2', 'x'.repeat(100_000)), isStorageError('Unavailable'));
    db.pragma('max_page_count = 1073741823');
    assert.equal(await storage.get('/registry/f/2'), null);
    assert.equal(await storage.currentRevision(), r1);
    assert.equal(await storage.create('/registry/f/3', 'ok'), r1 + 1);
  });

  it('a failed commit rejects every write of the batch, rolls the revision back and makes watchers relist', async (t) => {
    const storage = new SqliteStorage({ path: ':memory:', compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    const r1 = await storage.create('/registry/f/1', '1');
    const rec = new Recorder(storage, '/registry/f/', r1);
    t.after(() => rec.close());
    // Fault injection: the next COMMIT fails as a disk error would.
    const stmts = (storage as unknown as { stmt: { commit: { run: () => unknown } } }).stmt;
    const realCommit = stmts.commit;
    stmts.commit = {
      run: () => {
        stmts.commit = realCommit;
        throw new Error('disk I/O error');
      },
    };
    const results = await Promise.allSettled([storage.create('/registry/f/2', '2'), storage.update('/registry/f/1', '1b', r1)]);
    for (const r of results) assert.ok(r.status === 'rejected' && isStorageError('Unavailable')(r.reason));
    assert.equal(await storage.get('/registry/f/2'), null);
    assert.equal((await storage.get('/registry/f/1'))?.value, '1');
    assert.equal(await storage.currentRevision(), r1);
    await rec.waitFor(1);
    assert.deepEqual(rec.events, []);
    assert.ok(isStorageError('Unavailable')(rec.errors[0]));
    // The store keeps working and the revision continues without a gap.
    assert.equal(await storage.create('/registry/f/2', '2'), r1 + 1);
  });

  it('runs in WAL mode with synchronous=FULL (a commit is on disk before it is acknowledged)', async (t) => {
    const file = path.join(await tempDir(t, 'kubepki-sqlite-'), 'state.db');
    const storage = new SqliteStorage({ path: file, compaction: { intervalMs: 0 } });
    t.after(() => storage.close());
    const db = (storage as unknown as { db: import('better-sqlite3').Database }).db;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
  });
});
