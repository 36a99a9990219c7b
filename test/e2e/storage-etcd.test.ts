// EtcdStorage against a real etcd v3.4 (/usr/bin/etcd): the shared contract, two API replicas on one etcd,
// mutual TLS, compaction and failures.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EtcdStorage } from '../../src/storage/etcd.js';
import { FakeClock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/poll.js';
import { isStorageError, Recorder, storageContract } from '../storage/contract.js';
import { makeEtcdCerts, type EtcdTestCerts } from '../storage/etcd-certs.js';

// One plain etcd for the whole file; every test gets its own key prefix, so tests never see each other's keys.
let workDir = '';
let cluster: EtcdCluster | undefined;
let started: Promise<EtcdCluster> | undefined;
let prefixes = 0;

function plainEtcd(): Promise<EtcdCluster> {
  started ??= (async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-etcd-'));
    cluster = await startEtcd({
      dataDir: workDir,
      startTimeoutMs: 20_000,
      // Only watches that ask for progress notifications get them.
      extraArgs: ['--experimental-watch-progress-notify-interval=200ms'],
    });
    return cluster;
  })();
  return started;
}

before(() => plainEtcd(), { timeout: 30_000 });
after(async () => {
  await cluster?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function newStorage(c: EtcdCluster, prefix = `/test-${process.pid}-${++prefixes}`): EtcdStorage {
  return new EtcdStorage({ endpoints: c.clientUrls, prefix, compactionIntervalMs: 0 });
}

storageContract('etcd', async (t) => {
  const storage = newStorage(await plainEtcd());
  t.after(() => storage.close());
  return { storage, compact: (rev) => storage.compact(rev) };
});

describe('EtcdStorage', () => {
  it('two storages on one etcd are one store: writes seen by the other watch, conflicts across them', async (t) => {
    const c = await plainEtcd();
    const prefix = `/replicas-${process.pid}`;
    const a = newStorage(c, prefix);
    const b = newStorage(c, prefix);
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const start = await b.currentRevision();
    const recB = new Recorder(b, '/registry/csr/', start);
    t.after(() => recB.close());

    const r1 = await a.create('/registry/csr/node-1', '{"v":1}');
    await assert.rejects(b.create('/registry/csr/node-1', '{"v":"b"}'), isStorageError('KeyExists'));
    const seenByB = await b.get('/registry/csr/node-1');
    assert.equal(seenByB?.modRevision, r1);
    // Both read revision r1; A wins the race, B's compare-and-swap must fail.
    const r2 = await a.update('/registry/csr/node-1', '{"v":2}', r1);
    await assert.rejects(b.update('/registry/csr/node-1', '{"v":"stale"}', r1), isStorageError('Conflict'));
    await assert.rejects(b.delete('/registry/csr/node-1', r1), isStorageError('Conflict'));
    const r3 = await b.update('/registry/csr/node-1', '{"v":3}', r2);
    assert.ok(r3 > r2 && r2 > r1);
    assert.equal(await a.currentRevision(), await b.currentRevision());

    await recB.waitFor(3);
    assert.deepEqual(recB.errors, []);
    assert.deepEqual(
      recB.events.map((e) => [e.type, e.value, e.prevValue, e.revision]),
      [
        ['put', '{"v":1}', undefined, r1],
        ['put', '{"v":2}', '{"v":1}', r2],
        ['put', '{"v":3}', '{"v":2}', r3],
      ],
    );
  });

  it('writes of one event-loop turn each get their own answer and their own resourceVersion; gets of the turn share one read', async (t) => {
    const s = newStorage(await plainEtcd());
    t.after(() => s.close());
    const taken = await s.create('/registry/b/taken', 'old');
    const kept = await s.create('/registry/b/kept', 'v1');
    const results = await Promise.allSettled([
      s.create('/registry/b/new-1', 'n1'),
      s.create('/registry/b/taken', 'again'),
      s.create('/registry/b/new-2', 'n2'),
      s.update('/registry/b/kept', 'v2', kept),
      s.update('/registry/b/taken', 'stale', taken + 1000),
      s.update('/registry/b/missing', 'x', 5),
      s.delete('/registry/b/missing'),
    ]);
    const [n1, dup, n2, upd, stale, missing, delMissing] = results;
    assert.equal(dup.status, 'rejected');
    assert.ok(isStorageError('KeyExists')((dup as PromiseRejectedResult).reason));
    assert.ok(isStorageError('Conflict')((stale as PromiseRejectedResult).reason));
    assert.ok(isStorageError('NotFound')((missing as PromiseRejectedResult).reason));
    assert.ok(isStorageError('NotFound')((delMissing as PromiseRejectedResult).reason));
    // Every committed write has a revision of its own: a watcher resuming after any one of them ("events
    // after RV n") still gets the others, which a shared transaction revision would hide.
    const revs = [n1, n2, upd].map((r) => (r as PromiseFulfilledResult<number>).value);
    assert.equal(new Set(revs).size, 3);
    assert.ok(revs.every((r) => r > kept));
    assert.deepEqual(
      (await s.list('/registry/b/')).items.map((i) => [i.key, i.value, i.modRevision]),
      [
        ['/registry/b/kept', 'v2', revs[2]],
        ['/registry/b/new-1', 'n1', revs[0]],
        ['/registry/b/new-2', 'n2', revs[1]],
        ['/registry/b/taken', 'old', taken],
      ],
    );
    const events: string[] = [];
    let watchError: Error | undefined;
    const w = s.watch('/registry/b/', { afterRevision: Math.min(...revs), onEvent: (e) => void events.push(e.key), onError: (err) => (watchError = err) });
    t.after(() => w.close());
    await until(() => events.length >= 2, 'the events after the first write');
    assert.equal(watchError, undefined);
    const byRevision: [string, number][] = [['/registry/b/new-1', revs[0]!], ['/registry/b/new-2', revs[1]!], ['/registry/b/kept', revs[2]!]];
    const first = Math.min(...revs);
    assert.deepEqual(events.sort(), byRevision.filter(([, r]) => r !== first).map(([k]) => k).sort());
    // Gets of one turn (one read-only transaction): each its own key's value.
    const got = await Promise.all(['/registry/b/new-1', '/registry/b/new-2', '/registry/b/none'].map((k) => s.get(k)));
    assert.deepEqual(got.map((g) => g?.value ?? null), ['n1', 'n2', null]);
  });

  it('keeps stores with different key prefixes apart', async (t) => {
    const c = await plainEtcd();
    const a = newStorage(c, `/tenant-a-${process.pid}`);
    const b = newStorage(c, `/tenant-b-${process.pid}`);
    t.after(async () => {
      await a.close();
      await b.close();
    });
    await a.create('/registry/x/1', 'a');
    assert.equal(await b.get('/registry/x/1'), null);
    await b.create('/registry/x/1', 'b');
    assert.deepEqual((await a.list('/registry/')).items.map((i) => [i.key, i.value]), [['/registry/x/1', 'a']]);
  });

  it('compacts on the kube-apiserver schedule: each tick compacts to the revision seen one tick earlier', async (t) => {
    const c = await plainEtcd();
    const clock = new FakeClock();
    const storage = new EtcdStorage({ endpoints: c.clientUrls, prefix: `/compactor-${process.pid}`, compactionIntervalMs: 1000, clock });
    t.after(() => storage.close());
    // A tick is over when the compactor sleeps again.
    const tick = async () => {
      clock.advance(1000);
      const deadline = Date.now() + 10_000;
      while (clock.pendingSleeps === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(clock.pendingSleeps, 1, 'the compactor finished its tick');
    };
    while (clock.pendingSleeps === 0) await new Promise((r) => setTimeout(r, 5));
    await storage.create('/registry/k/1', '1');
    // First tick: takes its turn on compact_rev_key (or syncs with an earlier writer) and remembers the revision.
    const beforeFirst = await storage.currentRevision();
    await tick();
    const afterFirst = await storage.currentRevision();
    const r2 = await storage.create('/registry/k/2', '2');
    // Second tick: compacts to the revision the first tick saw, not to anything written since.
    await tick();
    const compactedAt = await storage.compactedRevision();
    assert.ok(compactedAt >= beforeFirst && compactedAt <= afterFirst, `compacted at ${compactedAt}, first tick saw ${beforeFirst}..${afterFirst}`);
    await assert.rejects(storage.list('/registry/k/', { revision: beforeFirst - 1 }), isStorageError('Compacted'));
    assert.equal((await storage.list('/registry/k/', { revision: r2 })).items.length, 2);
  });

  it('sends progress notifications carrying the current revision to a quiet watch that asks', async (t) => {
    const storage = newStorage(await plainEtcd());
    t.after(() => storage.close());
    const rev = await storage.create('/registry/quiet/1', '1');
    const rec = new Recorder(storage, '/registry/quiet/', rev, true);
    t.after(() => rec.close());
    for (let i = 0; i < 300 && rec.progress.length === 0; i++) await rec.settle(10);
    assert.ok(rec.progress.length > 0, 'a progress notification arrived');
    assert.ok(rec.progress[0]! >= rev);
    assert.deepEqual(rec.events, []);
  });

  it('reports Unavailable when no etcd answers', async (t) => {
    const port = await freePort();
    const storage = new EtcdStorage({ endpoints: [`http://127.0.0.1:${port}`], compactionIntervalMs: 0, requestTimeoutMs: 1000 });
    t.after(() => storage.close());
    await assert.rejects(storage.get('/registry/x/1'), isStorageError('Unavailable'));
  });

  it('goes on with the next endpoint when one cannot be reached, writes and watches included', async (t) => {
    const c = await plainEtcd();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const storage = new EtcdStorage({ endpoints: [dead, ...c.clientUrls], prefix: `/failover-${process.pid}`, compactionIntervalMs: 0, requestTimeoutMs: 5000 });
    t.after(() => storage.close());
    const rec = new Recorder(storage, '/registry/f/', await storage.currentRevision());
    t.after(() => rec.close());
    // A create never sent to the dead endpoint is sent to the live one: it is applied once.
    const rev = await storage.create('/registry/f/1', 'one');
    assert.equal((await storage.get('/registry/f/1'))?.modRevision, rev);
    await rec.waitFor(1);
    assert.deepEqual(rec.events.map((e) => [e.key, e.revision]), [['/registry/f/1', rev]]);
  });

  it('leaves an endpoint that accepts connections but answers nothing (not even a PING) for the next one', async (t) => {
    const c = await plainEtcd();
    // A peer that takes the TCP connection and never speaks: TCP alone would not notice for minutes.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      silent.close();
      for (const s of sockets) s.destroy();
    });
    const sockets: net.Socket[] = [];
    silent.on('connection', (s) => sockets.push(s));
    const port = (silent.address() as net.AddressInfo).port;
    const storage = new EtcdStorage({ endpoints: [`http://127.0.0.1:${port}`, ...c.clientUrls], prefix: `/silent-${process.pid}`, compactionIntervalMs: 0, requestTimeoutMs: 400 });
    t.after(() => storage.close());
    await assert.rejects(storage.get('/registry/s/1'), isStorageError('Unavailable'));
    assert.equal(sockets.length, 1);
    // The unanswered PING drops that connection and makes the live etcd current.
    await until(() => storage.create('/registry/s/1', 'x').then(() => true, () => false), 'a create answered by the live etcd');
    assert.equal((await storage.get('/registry/s/1'))?.value, 'x');
  });

  it('stores values whose lengths take one, two and three bytes of protobuf length, and keys of any byte', async (t) => {
    const storage = newStorage(await plainEtcd());
    t.after(() => storage.close());
    const values = ['', 'x'.repeat(127), 'y'.repeat(128), 'z'.repeat(16_383), 'w'.repeat(16_384), 'é'.repeat(200_000)];
    const revs: number[] = [];
    for (const [i, v] of values.entries()) revs.push(await storage.create(`/registry/len/${i}-ü`, v));
    const listed = await storage.list('/registry/len/');
    assert.deepEqual(listed.items.map((it) => [it.key, it.value.length, it.modRevision]), values.map((v, i) => [`/registry/len/${i}-ü`, v.length, revs[i]]));
    assert.ok(listed.items.every((it, i) => it.value === values[i]));
  });

  it('moves answers larger than the 4 MiB receive window (a list, a watch) and then keeps serving calls on the same connection', async (t) => {
    const storage = newStorage(await plainEtcd());
    t.after(() => storage.close());
    const rec = new Recorder(storage, '/registry/big/', await storage.currentRevision());
    t.after(() => rec.close());
    // 6 x 1 MiB: each write is beyond etcd's 64 kB send window too, so it goes out as its window grows.
    const values = Array.from({ length: 6 }, (_, i) => String.fromCharCode(97 + i).repeat(1 << 20));
    for (const [i, v] of values.entries()) await storage.create(`/registry/big/${i}`, v);
    for (let round = 0; round < 2; round++) {
      const listed = await storage.list('/registry/big/');
      assert.deepEqual(listed.items.map((it) => it.value.length), values.map((v) => v.length));
      assert.ok(listed.items.every((it, i) => it.value === values[i]));
    }
    await rec.waitFor(6);
    assert.deepEqual(rec.events.map((e) => e.value?.[0]), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.equal((await storage.get('/registry/big/5'))?.value, values[5]);
  });

  it('ends a watch with Unavailable when etcd goes away', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-etcd-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const own = await startEtcd({ dataDir: dir });
    t.after(() => own.stop());
    const storage = new EtcdStorage({ endpoints: own.clientUrls, compactionIntervalMs: 0, requestTimeoutMs: 2000 });
    t.after(() => storage.close());
    const rec = new Recorder(storage, '/registry/', await storage.currentRevision());
    t.after(() => rec.close());
    await storage.create('/registry/w/1', '1');
    await rec.waitFor(1);
    await own.stop();
    await rec.waitFor(2, 15_000);
    assert.equal(rec.errors.length, 1);
    assert.ok(isStorageError('Unavailable')(rec.errors[0]), String(rec.errors[0]));
  });

  describe('over mutual TLS', () => {
    let tlsDir = '';
    let certs: EtcdTestCerts;
    let secure: EtcdCluster;
    before(
      async () => {
        tlsDir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-etcd-tls-'));
        certs = await makeEtcdCerts(tlsDir);
        secure = await startEtcd({
          dataDir: tlsDir,
          tls: {
            server: () => ({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, trustedCaFile: certs.caFile, clientCertAuth: true }),
          },
        });
      },
      { timeout: 30_000 },
    );
    after(async () => {
      await secure?.stop();
      await rm(tlsDir, { recursive: true, force: true });
    });

    it('works with a client certificate from the etcd CA, watches included', async (t) => {
      assert.match(secure.clientUrls[0]!, /^https:\/\/127\.0\.0\.1:\d+$/);
      const storage = new EtcdStorage({
        endpoints: secure.clientUrls,
        caFile: certs.caFile,
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
        compactionIntervalMs: 0,
      });
      t.after(() => storage.close());
      const rec = new Recorder(storage, '/registry/secure/', await storage.currentRevision());
      t.after(() => rec.close());
      const rev = await storage.create('/registry/secure/a', 'over tls');
      assert.equal((await storage.get('/registry/secure/a'))?.modRevision, rev);
      await rec.waitFor(1);
      assert.deepEqual(rec.events.map((e) => [e.key, e.value, e.revision]), [['/registry/secure/a', 'over tls', rev]]);
    });

    it('is rejected with a client certificate from another CA', async (t) => {
      const storage = new EtcdStorage({
        endpoints: secure.clientUrls,
        caFile: certs.caFile,
        certFile: certs.otherClientCertFile,
        keyFile: certs.otherClientKeyFile,
        compactionIntervalMs: 0,
        requestTimeoutMs: 3000,
      });
      t.after(() => storage.close());
      await assert.rejects(storage.create('/registry/secure/intruder', 'x'), isStorageError('Unavailable'));
      await assert.rejects(storage.get('/registry/secure/a'), isStorageError('Unavailable'));
    });

    it('is rejected without a client certificate, and refuses a server its CA did not sign', async (t) => {
      const noCert = new EtcdStorage({ endpoints: secure.clientUrls, caFile: certs.caFile, compactionIntervalMs: 0, requestTimeoutMs: 3000 });
      t.after(() => noCert.close());
      await assert.rejects(noCert.get('/registry/secure/a'), isStorageError('Unavailable'));
      const wrongCa = new EtcdStorage({
        endpoints: secure.clientUrls,
        caFile: certs.otherCaFile,
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
        compactionIntervalMs: 0,
        requestTimeoutMs: 3000,
      });
      t.after(() => wrongCa.close());
      await assert.rejects(wrongCa.get('/registry/secure/a'), isStorageError('Unavailable'));
    });

    it('a three-member cluster with peer TLS is one store whichever member a client talks to', async (t) => {
      const member = () => ({ certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, trustedCaFile: certs.caFile, clientCertAuth: true });
      const three = await startEtcd({ members: 3, dataDir: tlsDir, tls: { server: member, peer: member } });
      t.after(() => three.stop());
      assert.equal(three.clientUrls.length, 3);
      assert.ok(three.peerUrls.every((u) => u.startsWith('https://127.0.0.1:')));
      const tls = { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile, compactionIntervalMs: 0 };
      const first = new EtcdStorage({ endpoints: [three.clientUrls[0]!], ...tls });
      const last = new EtcdStorage({ endpoints: [three.clientUrls[2]!], ...tls });
      t.after(async () => {
        await first.close();
        await last.close();
      });
      const rec = new Recorder(last, '/registry/ha/', await last.currentRevision());
      t.after(() => rec.close());
      const rev = await first.create('/registry/ha/x', 'replicated');
      assert.equal((await last.get('/registry/ha/x'))?.modRevision, rev);
      await rec.waitFor(1);
      assert.deepEqual(rec.events.map((e) => [e.key, e.revision]), [['/registry/ha/x', rev]]);
    });

    it('refuses https endpoints without a CA, a certificate without its key and an unreadable file', () => {
      const invalid = (code: string) => (err: unknown) => err instanceof KubepkiError && err.code === code;
      assert.throws(() => new EtcdStorage({ endpoints: secure.clientUrls }), invalid('InvalidConfig'));
      assert.throws(
        () => new EtcdStorage({ endpoints: secure.clientUrls, caFile: certs.caFile, certFile: certs.clientCertFile }),
        invalid('InvalidConfig'),
      );
      assert.throws(
        () => new EtcdStorage({ endpoints: secure.clientUrls, caFile: path.join(tlsDir, 'missing-ca.crt') }),
        (err: unknown) => invalid('FileMissing')(err) && /missing-ca\.crt/.test((err as Error).message),
      );
    });
  });
});
