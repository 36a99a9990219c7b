import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CertificateStore, nodeStoreFs, type StoreFs } from '../../src/agent/cert-store.js';
import { Backoff } from '../../src/agent/backoff.js';
import {
  CertificateManager,
  certificateSatisfiesTemplate,
  rotationDeadline,
  type CertificateManagerOptions,
  type FailureReason,
} from '../../src/agent/rotation.js';
import { FakeClock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import { parseHosts } from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { InProcessSigner } from './in-process-signer.js';
import { DAY, HOUR, issueLeaf, makeCa } from '../helpers/pki.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER } from '../../src/apis/names.js';
import { until } from '../helpers/poll.js';

const START = new Date('2026-06-01T00:00:00Z');
const MIN = 60_000;


interface Setup {
  clock: FakeClock;
  signer: InProcessSigner;
  store: CertificateStore;
  manager: CertificateManager;
  failures: { reason: FailureReason; message: string }[];
  rotations: number;
  dir: string;
  ca: Awaited<ReturnType<typeof makeCa>>;
}

async function setup(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<CertificateManagerOptions> & { lifetimeMs?: number; random?: () => number; fs?: StoreFs; dir?: string; ca?: Setup['ca']; clock?: FakeClock } = {},
): Promise<Setup> {
  const dir = options.dir ?? (await tempDir(t));
  const clock = options.clock ?? new FakeClock(START);
  const ca = options.ca ?? (await makeCa({ notBefore: new Date(START.getTime() - DAY) }));
  const signer = new InProcessSigner(ca, clock, options.lifetimeMs ?? HOUR);
  const store = options.store ?? new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client', clock, ...(options.fs ? { fs: options.fs } : {}) });
  const s: Setup = { clock, signer, store, manager: undefined as unknown as CertificateManager, failures: [], rotations: 0, dir, ca };
  s.manager = new CertificateManager({
    name: 'client',
    store,
    signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
    usages: ['digital signature', 'client auth'],
    usage: 'client auth',
    template: () => ({ subject: { commonName: 'system:node:node-1', organization: ['system:nodes'] } }),
    csrApi: signer.factory,
    roots: () => [ca.certificate],
    bootstrapKeyFile: path.join(dir, 'pki', 'kubelet-client.key.tmp'),
    clock,
    random: options.random ?? (() => 0.5),
    observer: {
      failed: (f) => s.failures.push({ reason: f.reason, message: f.message }),
      rotated: () => s.rotations++,
    },
    ...options,
  });
  t.after(() => s.manager.stop());
  return s;
}

test('the rotation deadline falls uniformly between 70 % and 90 % of the lifetime', () => {
  const cert = { notBefore: new Date(0), notAfter: new Date(1000 * HOUR) };
  assert.equal(rotationDeadline(cert, () => 0).getTime(), 700 * HOUR);
  assert.equal(rotationDeadline(cert, () => 0.5).getTime(), 800 * HOUR);
  assert.ok(Math.abs(rotationDeadline(cert, () => 0.999999).getTime() - 900 * HOUR) < 1000);
  for (let i = 0; i < 200; i++) {
    const d = rotationDeadline(cert, Math.random).getTime();
    assert.ok(d >= 700 * HOUR && d < 900 * HOUR);
  }
});

test('the backoff is 2, 4, 8, 16 then 32 s forever, each lengthened by up to 10 %', () => {
  const none = new Backoff({}, () => 0);
  assert.deepEqual(Array.from({ length: 7 }, () => none.next()), [2000, 4000, 8000, 16000, 32000, 32000, 32000]);
  const most = new Backoff({}, () => 1);
  assert.deepEqual(Array.from({ length: 3 }, () => Math.round(most.next())), [2200, 4400, 8800]);
});

test('with no certificate it bootstraps at once: bootstrap credentials, node CSR, cached key then removed', async (t) => {
  const s = await setup(t);
  await s.manager.init();
  assert.equal(s.manager.current(), null);
  s.manager.start();
  await until(() => s.manager.current() !== null, 'a certificate is issued');
  const [req] = s.signer.requests;
  assert.equal(req!.credentials, 'bootstrap');
  assert.match(req!.ref.name, /^node-csr-[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(req!.subject, { commonName: 'system:node:node-1', organization: ['system:nodes'] });
  assert.equal(req!.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual(req!.spec.usages, ['digital signature', 'client auth']);
  assert.equal(existsSync(path.join(s.dir, 'pki', 'kubelet-client.key.tmp')), false, 'the cached bootstrap key is removed once stored');
  const stored = await s.store.current();
  assert.equal(stored?.certificate.serialNumber, s.manager.current()!.certificate.serialNumber);
  // It then sleeps until 80 % of the hour (random 0.5).
  await until(() => s.clock.pendingSleeps > 0, 'the manager sleeps');
  assert.equal(s.manager.status().nextDeadline?.getTime(), START.getTime() + 48 * MIN);
});

test('it rotates at the deadline with the current certificate, and the old pair stays in use until the new one is stored', async (t) => {
  const s = await setup(t);
  await s.manager.init();
  s.manager.start();
  await until(() => s.manager.current() !== null && s.clock.pendingSleeps > 0, 'bootstrapped and sleeping');
  const first = s.manager.current()!;
  s.clock.advance(47 * MIN);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.signer.requests.length, 1, 'nothing before the deadline');
  s.signer.script({ kind: 'hold' });
  s.clock.advance(2 * MIN);
  await until(() => s.signer.requests.length === 2, 'the rotation request is made');
  const req = s.signer.requests[1]!;
  assert.equal(req.credentials, 'certificate', 'a rotation authenticates with the current certificate (selfnodeclient)');
  assert.match(req.ref.name, /^csr-/, 'rotations use generateName, not the bootstrap name');
  // While the request is pending, the old pair is the one in use and on disk.
  assert.equal(s.manager.current()?.certificate.serialNumber, first.certificate.serialNumber);
  assert.equal((await s.store.current())?.certificate.serialNumber, first.certificate.serialNumber);
  s.signer.releaseAll();
  await until(() => s.manager.current()?.certificate.serialNumber !== first.certificate.serialNumber, 'the new pair is in use');
  const second = s.manager.current()!;
  assert.ok(!second.certificate.publicKey.equals(first.certificate.publicKey), 'a rotation makes a new key');
  assert.equal((await s.store.current())?.certificate.serialNumber, second.certificate.serialNumber);
  assert.equal(s.rotations, 2);
});

test('failures back off 2, 4, 8 s before the next attempt, and each failure is reported', async (t) => {
  const s = await setup(t, { random: () => 0 });
  s.signer.script({ kind: 'error' }, { kind: 'error' }, { kind: 'error' });
  await s.manager.init();
  s.manager.start();
  await until(() => s.failures.length === 1 && s.clock.pendingSleeps > 0, 'first failure');
  for (const [delay, attempts] of [
    [2000, 2],
    [4000, 3],
    [8000, 4],
  ] as const) {
    s.clock.advance(delay - 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(s.signer.requests.length, attempts - 1, `no attempt before ${delay} ms`);
    s.clock.advance(1);
    await until(() => s.signer.requests.length === attempts, `attempt ${attempts}`);
  }
  await until(() => s.manager.current() !== null, 'issued after the failures');
  assert.deepEqual(
    s.failures.map((f) => f.reason),
    ['api', 'api', 'api'],
  );
  assert.match(s.failures[0]!.message, /ECONNREFUSED/);
});

test('a denied CSR is reported with its reason, does not stop the manager, and the retry is a new request', async (t) => {
  const s = await setup(t, { random: () => 0 });
  s.signer.script({ kind: 'deny', reason: 'NotAllowed', message: 'no bootstrapping for you' });
  await s.manager.init();
  s.manager.start();
  await until(() => s.failures.length === 1 && s.clock.pendingSleeps > 0, 'the denial is reported');
  assert.equal(s.failures[0]!.reason, 'denied');
  assert.match(s.failures[0]!.message, /was denied, reason: NotAllowed, message: no bootstrapping for you/);
  s.clock.advance(2000);
  await until(() => s.manager.current() !== null, 'the retry succeeds');
  assert.equal(s.signer.requests.length, 2);
  assert.notEqual(s.signer.requests[0]!.ref.name, s.signer.requests[1]!.ref.name, 'a denied request is never re-used');
});

test('an expired stored certificate is replaced through the bootstrap credentials', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(START);
  const ca = await makeCa({ notBefore: new Date(START.getTime() - 30 * DAY) });
  const old = await issueLeaf(ca, { notBefore: new Date(START.getTime() - 2 * DAY), notAfter: new Date(START.getTime() - HOUR) });
  const store = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client', clock });
  await store.update(old.certificate.pem, old.keyPem!);
  const s = await setup(t, { dir, clock, ca, store });
  await s.manager.init();
  assert.equal(s.manager.current(), null, 'an expired certificate is not current');
  assert.equal(s.manager.status().pair?.certificate.serialNumber, old.certificate.serialNumber);
  s.manager.start();
  await until(() => s.manager.current() !== null, 're-bootstrapped');
  assert.deepEqual(s.signer.factoryCalls, ['bootstrap']);
});

test('when the server rejects the current certificate, the next attempt falls back to the bootstrap credentials', async (t) => {
  const s = await setup(t);
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), true); // bootstrap
  s.signer.script({ kind: 'error', status: 401, message: 'Unauthorized' });
  assert.equal(await s.manager.rotateOnce(), false);
  assert.equal(s.failures[0]!.reason, 'unauthorized');
  assert.match(s.failures[0]!.message, /rejected the current certificate/);
  assert.equal(await s.manager.rotateOnce(), true);
  assert.deepEqual(s.signer.factoryCalls, ['bootstrap', 'certificate', 'bootstrap']);
  s.signer.script({ kind: 'error', status: 401 });
  assert.equal(await s.manager.rotateOnce(), false);
  assert.equal(await s.manager.rotateOnce(), true);
  // Rejected bootstrap credentials are reported as such.
  const b = await setup(t);
  await b.manager.init();
  b.signer.script({ kind: 'error', status: 401 });
  assert.equal(await b.manager.rotateOnce(), false);
  assert.match(b.failures[0]!.message, /rejected the bootstrap credentials/);
});

test('a renewal still pending when the certificate expires is abandoned and the next attempt uses the bootstrap credentials', async (t) => {
  const s = await setup(t);
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), true); // bootstrap: the certificate lives one hour
  const notAfter = s.manager.current()!.certificate.notAfter;
  s.signer.script({ kind: 'hold' });
  const renewal = s.manager.rotateOnce();
  await until(() => s.signer.requests.length === 2 && s.clock.pendingSleeps > 0, 'the renewal waits');
  s.clock.set(new Date(notAfter.getTime() - 1000));
  assert.equal(s.clock.pendingSleeps, 1, 'a second before expiry the expiry timer has not fired');
  s.clock.set(new Date(notAfter.getTime() + 1));
  assert.equal(await renewal, false);
  assert.equal(s.failures[0]!.reason, 'expired');
  assert.match(s.failures[0]!.message, /expired at .* while its renewal request csr-\d+ was pending; the next attempt uses the bootstrap credentials/);
  assert.equal(await s.manager.rotateOnce(), true);
  assert.deepEqual(s.signer.factoryCalls, ['bootstrap', 'certificate', 'bootstrap']);
  assert.equal(s.clock.pendingSleeps, 0, 'no expiry timer is left behind');
});

test('an agent restarted mid-bootstrap re-uses its cached key and so the same CSR name', async (t) => {
  const s1 = await setup(t);
  s1.signer.script({ kind: 'hold' });
  await s1.manager.init();
  s1.manager.start();
  await until(() => s1.signer.requests.length === 1, 'the first request is made');
  await s1.manager.stop();
  assert.ok(existsSync(path.join(s1.dir, 'pki', 'kubelet-client.key.tmp')), 'the key is cached while the request is pending');
  const s2 = await setup(t, { dir: s1.dir, ca: s1.ca, clock: s1.clock });
  await s2.manager.init();
  assert.equal(await s2.manager.rotateOnce(), true);
  assert.equal(s2.signer.requests[0]!.ref.name, s1.signer.requests[0]!.ref.name);
});

test('a stored certificate for another node name is replaced at once', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(START);
  const ca = await makeCa({ notBefore: new Date(START.getTime() - DAY) });
  const other = await issueLeaf(ca, { cn: 'system:node:node-2', notBefore: START });
  const store = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client', clock });
  await store.update(other.certificate.pem, other.keyPem!);
  const s = await setup(t, { dir, clock, ca, store });
  await s.manager.init();
  assert.equal(s.manager.nextRotationDeadline().getTime(), START.getTime());
  assert.match(certificateSatisfiesTemplate(other.certificate, { subject: { commonName: 'system:node:node-1' } }) ?? '', /CN system:node:node-2/);
});

test('an issued certificate without client auth is not stored and the failure says why', async (t) => {
  const s = await setup(t);
  s.signer.script({ kind: 'issue', usages: ['digital signature', 'server auth'] });
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), false);
  assert.equal(s.failures[0]!.reason, 'invalid-certificate');
  assert.match(s.failures[0]!.message, /incompatible key usage/);
  assert.equal(await s.store.current(), null);
});

test('a store failure keeps the old certificate in use and is retried', async (t) => {
  let full = false;
  const fs: StoreFs = {
    ...nodeStoreFs,
    writeFile: async (file, data, mode) => {
      if (full && !file.endsWith('.key.tmp')) throw new KubepkiError('FileWrite', `cannot write ${file}: ENOSPC: no space left on device`);
      return nodeStoreFs.writeFile(file, data, mode);
    },
  };
  const s = await setup(t, { fs });
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), true);
  const first = s.manager.current()!;
  full = true;
  s.clock.advance(MIN);
  assert.equal(await s.manager.rotateOnce(), false);
  assert.equal(s.failures[0]!.reason, 'store');
  assert.match(s.failures[0]!.message, /ENOSPC/);
  assert.equal(s.manager.current()?.certificate.serialNumber, first.certificate.serialNumber);
  assert.equal((await s.store.current())?.certificate.serialNumber, first.certificate.serialNumber);
  full = false;
  assert.equal(await s.manager.rotateOnce(), true);
});

test('without credentials for the request the failure is reported, not thrown', async (t) => {
  const s = await setup(t, {
    csrApi: () => {
      throw new KubepkiError('InvalidConfig', 'the client certificate has expired and no --bootstrap-kubeconfig was given');
    },
  });
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), false);
  assert.deepEqual(s.failures, [{ reason: 'no-credentials', message: 'the client certificate has expired and no --bootstrap-kubeconfig was given' }]);
});

test('the serving manager asks kubelet-serving for the node names and IPs with server auth', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(START);
  const sans = parseHosts(['node-1', '10.0.0.5', 'fd00::5']);
  const s = await setup(t, {
    dir,
    clock,
    name: 'serving',
    store: new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-server', clock }),
    signerName: KUBELET_SERVING_SIGNER,
    usages: ['digital signature', 'server auth'],
    usage: 'server auth',
    template: () => ({ subject: { commonName: 'system:node:node-1', organization: ['system:nodes'] }, sans }),
  });
  await s.manager.init();
  assert.equal(await s.manager.rotateOnce(), true);
  const req = s.signer.requests[0]!;
  assert.equal(req.spec.signerName, 'kubernetes.io/kubelet-serving');
  assert.deepEqual(req.dnsNames, ['node-1']);
  assert.deepEqual(req.ipAddresses, ['10.0.0.5', 'fd00::5']);
  assert.ok(existsSync(path.join(dir, 'pki', 'kubelet-server-current.pem')));
  // A new node IP makes the current certificate unfit: rotate at once.
  sans.ipAddresses.push('10.0.0.6');
  assert.equal(s.manager.nextRotationDeadline().getTime(), clock.now().getTime());
});

test('a year-long certificate is rotated after months of sleeping in bounded steps', async (t) => {
  const s = await setup(t, { lifetimeMs: 365 * DAY });
  await s.manager.init();
  s.manager.start();
  await until(() => s.manager.current() !== null && s.clock.pendingSleeps > 0, 'bootstrapped and sleeping');
  s.clock.advance(291 * DAY);
  await until(() => s.clock.pendingSleeps > 0, 'asleep again');
  assert.equal(s.signer.requests.length, 1, 'not before 80 % (292 days)');
  s.clock.advance(2 * DAY);
  await until(() => s.signer.requests.length === 2 && s.rotations === 2, 'rotated');
});

test('a node clock a few minutes behind the signer still uses the new certificate; far behind, it says why not', async (t) => {
  const s = await setup(t);
  const signerClock = new FakeClock(new Date(START.getTime() + 3 * MIN)); // the signer's clock is 3 minutes ahead
  const skewed = new InProcessSigner(s.ca, signerClock, HOUR);
  const m = new CertificateManager({
    name: 'client',
    store: s.store,
    signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
    usages: ['digital signature', 'client auth'],
    usage: 'client auth',
    template: () => ({ subject: { commonName: 'system:node:node-1', organization: ['system:nodes'] } }),
    csrApi: skewed.factory,
    roots: () => [s.ca.certificate],
    clock: s.clock,
    observer: { failed: (f) => s.failures.push({ reason: f.reason, message: f.message }) },
  });
  await m.init();
  assert.equal(await m.rotateOnce(), true);
  assert.ok(m.current(), 'a certificate not yet valid by 3 minutes of node time is in use');
  signerClock.advance(HOUR); // now an hour ahead: the node would hold a certificate it cannot judge
  assert.equal(await m.rotateOnce(), false);
  assert.equal(s.failures.at(-1)?.reason, 'invalid-certificate');
  assert.match(s.failures.at(-1)?.message ?? '', /not valid before/);
});
