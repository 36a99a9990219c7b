// The one storage contract suite, run against every backend (memory, SQLite, etcd): what etcd's model
// promises and the API server relies on — CAS writes, one increasing revision, ordered gap-free watches,
// reads at a revision, compaction → Compacted.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { StorageError } from '../../src/storage/errors.js';
import type { Storage, WatchEvent, WatchHandle } from '../../src/storage/interface.js';

export interface ContractSubject {
  storage: Storage;
  /** Compacts history so that revisions before `revision` are gone (etcd's compact). */
  compact(revision: number): Promise<void>;
}

/** Creates a fresh, empty store for one test; cleanup goes through t.after. */
export type ContractFactory = (t: TestContext) => Promise<ContractSubject>;

export function isStorageError(code: StorageError['code']) {
  return (err: unknown) => err instanceof StorageError && err.code === code;
}

/** A watch that records events and lets a test wait for a number of them. */
export class Recorder {
  events: WatchEvent[] = [];
  errors: Error[] = [];
  progress: number[] = [];
  handle: WatchHandle | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(storage: Storage, prefix: string, afterRevision: number, withProgress = false) {
    this.handle = storage.watch(prefix, {
      afterRevision,
      onEvent: (e) => {
        this.events.push(e);
        this.wake();
      },
      onError: (e) => {
        this.errors.push(e);
        this.wake();
      },
      ...(withProgress ? { onProgress: (r: number) => void this.progress.push(r) } : {}),
    });
  }

  private wake(): void {
    for (const w of [...this.waiters])
      if (this.events.length + this.errors.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
  }

  /** Waits until at least n events (or errors) arrived. */
  async waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.events.length + this.errors.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${n} watch events (got ${this.events.length}, errors ${this.errors.length})`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Gives a would-be stray event time to arrive (the watch is asynchronous). */
  async settle(ms = 150): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
  }

  close(): void {
    this.handle?.close();
  }
}

export function storageContract(name: string, factory: ContractFactory): void {
  describe(`${name} storage contract`, () => {
    it('creates a key and reads it back with equal create and mod revisions', async (t) => {
      const { storage } = await factory(t);
      const rev = await storage.create('/registry/pods/default/a', '{"n":1}');
      assert.ok(rev > 0);
      const got = await storage.get('/registry/pods/default/a');
      assert.deepEqual(got, { key: '/registry/pods/default/a', value: '{"n":1}', createRevision: rev, modRevision: rev });
      assert.equal(await storage.get('/registry/pods/default/missing'), null);
      assert.equal(await storage.currentRevision(), rev);
    });

    it('refuses to create a key that exists, leaving the stored value unchanged', async (t) => {
      const { storage } = await factory(t);
      const rev = await storage.create('/registry/x/k', 'one');
      await assert.rejects(storage.create('/registry/x/k', 'two'), isStorageError('KeyExists'));
      const got = await storage.get('/registry/x/k');
      assert.equal(got?.value, 'one');
      assert.equal(got?.modRevision, rev);
      assert.equal(await storage.currentRevision(), rev);
    });

    it('updates only with the current revision (compare-and-swap)', async (t) => {
      const { storage } = await factory(t);
      const r1 = await storage.create('/registry/x/k', 'v1');
      const r2 = await storage.update('/registry/x/k', 'v2', r1);
      assert.ok(r2 > r1);
      await assert.rejects(storage.update('/registry/x/k', 'stale', r1), isStorageError('Conflict'));
      await assert.rejects(storage.update('/registry/x/nope', 'v', r1), isStorageError('NotFound'));
      const got = await storage.get('/registry/x/k');
      assert.deepEqual(got, { key: '/registry/x/k', value: 'v2', createRevision: r1, modRevision: r2 });
    });

    it('deletes with and without an expected revision and reports the deleted value', async (t) => {
      const { storage } = await factory(t);
      const r1 = await storage.create('/registry/x/a', 'A');
      const r2 = await storage.create('/registry/x/b', 'B');
      await assert.rejects(storage.delete('/registry/x/a', r2), isStorageError('Conflict'));
      assert.equal((await storage.get('/registry/x/a'))?.value, 'A');
      const d1 = await storage.delete('/registry/x/a', r1);
      assert.ok(d1.revision > r2);
      assert.deepEqual(d1.prev, { key: '/registry/x/a', value: 'A', createRevision: r1, modRevision: r1 });
      const d2 = await storage.delete('/registry/x/b');
      assert.ok(d2.revision > d1.revision);
      assert.equal(d2.prev.value, 'B');
      assert.equal(await storage.get('/registry/x/a'), null);
      await assert.rejects(storage.delete('/registry/x/a'), isStorageError('NotFound'));
      await assert.rejects(storage.update('/registry/x/a', 'A2', d1.revision), isStorageError('NotFound'));
      // A deleted key can be created again; it is a new object with a new create revision.
      const r3 = await storage.create('/registry/x/a', 'A again');
      const again = await storage.get('/registry/x/a');
      assert.equal(again?.createRevision, r3);
      assert.ok(r3 > d2.revision);
    });

    it('gives every write a strictly greater revision across all keys', async (t) => {
      const { storage } = await factory(t);
      const revs: number[] = [];
      for (let i = 0; i < 10; i++) revs.push(await storage.create(`/registry/r/k${i}`, String(i)));
      revs.push(await storage.update('/registry/r/k3', 'x', revs[3]!));
      revs.push((await storage.delete('/registry/r/k4')).revision);
      for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `revision ${revs[i]} after ${revs[i - 1]}`);
      assert.equal(await storage.currentRevision(), revs.at(-1));
    });

    it('lists keys of a prefix only, in key order, with the revision it read at', async (t) => {
      const { storage } = await factory(t);
      await storage.create('/registry/ab/x', 'sibling prefix');
      await storage.create('/registry/a/c', 'c');
      await storage.create('/registry/a/a', 'a');
      await storage.create('/registry/a/b', 'b');
      const last = await storage.create('/registry/b/z', 'other');
      const res = await storage.list('/registry/a/');
      assert.deepEqual(
        res.items.map((i) => [i.key, i.value]),
        [
          ['/registry/a/a', 'a'],
          ['/registry/a/b', 'b'],
          ['/registry/a/c', 'c'],
        ],
      );
      assert.equal(res.revision, last);
      assert.equal(res.more, false);
      assert.equal(await storage.count('/registry/a/'), 3);
      assert.equal(await storage.count('/registry/'), 5);
      assert.equal((await storage.list('/registry/none/')).items.length, 0);
    });

    it('pages with limit and startAfter at a fixed revision, unaffected by later writes', async (t) => {
      const { storage } = await factory(t);
      for (const n of ['e', 'b', 'd', 'a', 'c']) await storage.create(`/registry/p/${n}`, n);
      const page1 = await storage.list('/registry/p/', { limit: 2 });
      assert.deepEqual(page1.items.map((i) => i.value), ['a', 'b']);
      assert.equal(page1.more, true);
      assert.equal(page1.remaining, 3);
      // Writes between pages must not show up in later pages read at page1's revision.
      await storage.create('/registry/p/bb', 'bb');
      await storage.delete('/registry/p/d');
      await storage.update('/registry/p/c', 'c2', (await storage.get('/registry/p/c'))!.modRevision);
      const page2 = await storage.list('/registry/p/', { limit: 2, startAfter: page1.items.at(-1)!.key, revision: page1.revision });
      assert.deepEqual(page2.items.map((i) => i.value), ['c', 'd']);
      assert.equal(page2.revision, page1.revision);
      assert.equal(page2.more, true);
      assert.equal(page2.remaining, 1);
      const page3 = await storage.list('/registry/p/', { limit: 2, startAfter: page2.items.at(-1)!.key, revision: page1.revision });
      assert.deepEqual(page3.items.map((i) => i.value), ['e']);
      assert.equal(page3.more, false);
      // The latest state reflects the writes.
      const now = await storage.list('/registry/p/');
      assert.deepEqual(now.items.map((i) => i.value), ['a', 'b', 'bb', 'c2', 'e']);
      assert.ok(now.revision > page1.revision);
    });

    it('watches from a revision: exactly the later events, in order, then live ones without a gap', async (t) => {
      const { storage } = await factory(t);
      const r0 = await storage.create('/registry/w/before', 'old');
      const r1 = await storage.create('/registry/w/a', 'a1');
      const r2 = await storage.update('/registry/w/a', 'a2', r1);
      const r3 = (await storage.delete('/registry/w/before')).revision;
      const rec = new Recorder(storage, '/registry/w/', r0);
      t.after(() => rec.close());
      // Live writes issued right away must follow the replayed history with nothing lost or repeated.
      const r4 = await storage.create('/registry/w/b', 'b1');
      const r5 = (await storage.delete('/registry/w/a', r2)).revision;
      await rec.waitFor(5);
      await rec.settle();
      assert.deepEqual(rec.errors, []);
      assert.deepEqual(
        rec.events.map((e) => [e.type, e.key, e.value, e.prevValue, e.revision]),
        [
          ['put', '/registry/w/a', 'a1', undefined, r1],
          ['put', '/registry/w/a', 'a2', 'a1', r2],
          ['delete', '/registry/w/before', undefined, 'old', r3],
          ['put', '/registry/w/b', 'b1', undefined, r4],
          ['delete', '/registry/w/a', undefined, 'a2', r5],
        ],
      );
      assert.equal(rec.events[0]!.createRevision, r1);
      assert.equal(rec.events[1]!.createRevision, r1);
    });

    it('watches at the current revision see only new events', async (t) => {
      const { storage } = await factory(t);
      await storage.create('/registry/w2/a', 'a');
      const rec = new Recorder(storage, '/registry/w2/', await storage.currentRevision());
      t.after(() => rec.close());
      const r = await storage.create('/registry/w2/b', 'b');
      await rec.waitFor(1);
      await rec.settle();
      assert.deepEqual(rec.events.map((e) => [e.key, e.revision]), [['/registry/w2/b', r]]);
    });

    it('does not deliver events of other prefixes to a prefix watch', async (t) => {
      const { storage } = await factory(t);
      const start = await storage.currentRevision();
      const recA = new Recorder(storage, '/registry/a/', start);
      const recAB = new Recorder(storage, '/registry/ab/', start);
      const recAll = new Recorder(storage, '/registry/', start);
      t.after(() => [recA, recAB, recAll].forEach((r) => r.close()));
      await storage.create('/registry/ab/1', 'ab');
      await storage.create('/registry/b/1', 'b');
      await storage.create('/registry/a/1', 'a');
      await storage.create('/other/a/1', 'outside');
      await recA.waitFor(1);
      await recAB.waitFor(1);
      await recAll.waitFor(3);
      await recAll.settle();
      assert.deepEqual(recA.events.map((e) => e.key), ['/registry/a/1']);
      assert.deepEqual(recAB.events.map((e) => e.key), ['/registry/ab/1']);
      assert.deepEqual(recAll.events.map((e) => e.key), ['/registry/ab/1', '/registry/b/1', '/registry/a/1']);
    });

    it('stops delivering events after the watch is closed', async (t) => {
      const { storage } = await factory(t);
      const rec = new Recorder(storage, '/registry/c/', await storage.currentRevision());
      await storage.create('/registry/c/1', '1');
      await rec.waitFor(1);
      rec.close();
      await storage.create('/registry/c/2', '2');
      await rec.settle(300);
      assert.deepEqual(rec.events.map((e) => e.key), ['/registry/c/1']);
    });

    it('fails watches and reads from before the compacted revision with Compacted', async (t) => {
      const { storage, compact } = await factory(t);
      const r1 = await storage.create('/registry/k/1', 'v1');
      await storage.update('/registry/k/1', 'v2', r1);
      await storage.create('/registry/k/2', 'x');
      const r4 = await storage.create('/registry/k/3', 'y');
      await compact(r4);
      assert.ok((await storage.compactedRevision()) >= r1 + 1, 'compacted revision advanced');
      const rec = new Recorder(storage, '/registry/k/', r1);
      t.after(() => rec.close());
      await rec.waitFor(1);
      assert.equal(rec.events.length, 0);
      assert.equal(rec.errors.length, 1);
      assert.ok(isStorageError('Compacted')(rec.errors[0]), `got ${String(rec.errors[0])}`);
      await assert.rejects(storage.list('/registry/k/', { revision: r1 }), isStorageError('Compacted'));
      // The current state and reads at the compacted revision are intact.
      const now = await storage.list('/registry/k/', { revision: r4 });
      assert.deepEqual(now.items.map((i) => i.value), ['v2', 'x', 'y']);
      // Watching from the compacted revision onwards still works.
      const rec2 = new Recorder(storage, '/registry/k/', r4);
      t.after(() => rec2.close());
      const r5 = await storage.create('/registry/k/4', 'z');
      await rec2.waitFor(1);
      assert.deepEqual(rec2.errors, []);
      assert.deepEqual(rec2.events.map((e) => [e.key, e.revision]), [['/registry/k/4', r5]]);
    });

    it('keeps values byte for byte, including non-ASCII text', async (t) => {
      const { storage } = await factory(t);
      const value = JSON.stringify({ name: 'ünïcødé ✓ 証明書', nested: { a: [1, 2, 3] } });
      await storage.create('/registry/u/1', value);
      assert.equal((await storage.get('/registry/u/1'))?.value, value);
    });

    it('delivers one write to many watchers of the same and of different prefixes', async (t) => {
      const { storage } = await factory(t);
      const start = await storage.currentRevision();
      const recs = Array.from({ length: 20 }, (_, i) => new Recorder(storage, i % 2 ? '/registry/m/' : '/registry/m/ns1/', start));
      t.after(() => recs.forEach((r) => r.close()));
      await storage.create('/registry/m/ns1/a', 'a');
      await storage.create('/registry/m/ns2/b', 'b');
      for (const [i, r] of recs.entries()) await r.waitFor(i % 2 ? 2 : 1);
      await recs[0]!.settle();
      for (const [i, r] of recs.entries()) assert.equal(r.events.length, i % 2 ? 2 : 1);
    });
  });
}
