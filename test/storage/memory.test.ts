import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStorage } from '../../src/storage/memory.js';
import { isStorageError, Recorder, storageContract } from './contract.js';

storageContract('memory', async (t) => {
  const storage = new MemoryStorage();
  t.after(() => storage.close());
  return { storage, compact: (rev) => storage.compact(rev) };
});

describe('MemoryStorage', () => {
  it('compacts its bounded history automatically, so a too old watch gets Compacted', async (t) => {
    const storage = new MemoryStorage({ historyLimit: 10 });
    t.after(() => storage.close());
    const first = await storage.create('/registry/h/0', '0');
    for (let i = 1; i < 30; i++) await storage.create(`/registry/h/${i}`, String(i));
    assert.ok((await storage.compactedRevision()) > first);
    const old = new Recorder(storage, '/registry/h/', first);
    t.after(() => old.close());
    await old.waitFor(1);
    assert.ok(isStorageError('Compacted')(old.errors[0]));
    // The recent window is still watchable and every key is still readable.
    const recent = new Recorder(storage, '/registry/h/', (await storage.currentRevision()) - 5);
    t.after(() => recent.close());
    await recent.waitFor(5);
    assert.deepEqual(recent.errors, []);
    assert.equal(await storage.count('/registry/h/'), 30);
  });

  it('sends progress notifications with the current revision to idle watchers that ask', async (t) => {
    const storage = new MemoryStorage({ progressIntervalMs: 20 });
    t.after(() => storage.close());
    const rev = await storage.create('/registry/q/1', '1');
    const rec = new Recorder(storage, '/registry/q/', rev, true);
    t.after(() => rec.close());
    for (let i = 0; i < 200 && rec.progress.length === 0; i++) await rec.settle(10);
    assert.ok(rec.progress.length > 0);
    assert.ok(rec.progress.every((r) => r === rev));
  });

  it('fails open watches and further calls once closed', async () => {
    const storage = new MemoryStorage();
    const rec = new Recorder(storage, '/registry/', 0);
    await storage.close();
    await rec.waitFor(1);
    assert.ok(isStorageError('Unavailable')(rec.errors[0]));
    await assert.rejects(storage.get('/registry/x'), isStorageError('Unavailable'));
  });
});
