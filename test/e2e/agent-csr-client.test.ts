// The agent's CSR client against the real `kubepki serve` (approver off, so each test decides by hand as the
// admin; the real signer issues what is approved). The paths a healthy server rarely takes — watch refused,
// connections dropped, the server killed mid-wait — are made by a fault-injecting proxy in front of it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { ClientConfig } from '../../src/client/kubeconfig.js';
import { CertificateStore } from '../../src/agent/cert-store.js';
import { certificateKubeconfig } from '../../src/agent/kubeconfig.js';
import { apiStatusOf, CsrDeniedError, digestedCsrName, KubernetesCsrClient, type CsrSpec } from '../../src/agent/csr-client.js';
import { createCertificateRequest, generateKeyPair } from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { APPROVER_OFF, startCluster, TOKEN, type Cluster } from '../agent/cluster.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER } from '../../src/apis/names.js';
import { until } from '../helpers/poll.js';

const SUBJECT = { commonName: 'system:node:node-1', organization: ['system:nodes'] };
const USAGES = ['digital signature', 'client auth'];
const CSRS = 'certificatesigningrequests';

function tokenKubeconfig(server: string, caPem: string, token = TOKEN): ClientConfig {
  return { cluster: { server, caPem }, user: { token } };
}

// One server for the file (tests in a file run one after another); the test that kills its server has its own.
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});
let shared: Promise<Cluster> | undefined;
const cluster = () => (shared ??= startCluster({ after: (fn) => cleanups.push(fn) }, { serveArgs: APPROVER_OFF }));

async function proxied(t: { after: (fn: () => Promise<void>) => void }, c: Cluster): Promise<FaultProxy> {
  return startFaultProxy(t, { target: c.url, targetCa: c.caPem, tls: c.servingPair });
}

async function nodeCsr(name?: string): Promise<CsrSpec> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  const csr = await createCertificateRequest({ subject: SUBJECT, keyPair });
  return { csrPem: csr.pem, signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER, usages: USAGES, privateKey: keyPair.privateKey, ...(name ? { name } : {}) };
}

/** Approves as the admin; the server's signer then issues. */
const approve = (c: Cluster, name: string) => c.decide(name, 'Approved', 'TestApproval', 'approved by the test');
/** The certificate the server holds for a CSR. */
const issued = async (c: Cluster, name: string) => Buffer.from((await c.csr(name)).status.certificate ?? '', 'base64').toString();

test('the bootstrap CSR name is node-csr-<digest> of key, subject and usages', async () => {
  const a = await generateKeyPair('ECDSA-P256');
  const b = await generateKeyPair('ECDSA-P256');
  const n = digestedCsrName(a.publicKey, SUBJECT, USAGES);
  assert.match(n, /^node-csr-[A-Za-z0-9_-]{43}$/);
  assert.equal(digestedCsrName(a.publicKey, SUBJECT, USAGES), n);
  assert.notEqual(digestedCsrName(b.publicKey, SUBJECT, USAGES), n);
  assert.notEqual(digestedCsrName(a.publicKey, { ...SUBJECT, commonName: 'system:node:node-2' }, USAGES), n);
  assert.notEqual(digestedCsrName(a.publicKey, SUBJECT, [...USAGES, 'key encipherment']), n);
});

test('a CSR is created with the bootstrap token and its certificate arrives through the watch', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem) });
  const spec = await nodeCsr();
  const ref = await client.create(spec);
  assert.match(ref.name, /^csr-/);
  const stored = await c.csr(ref.name);
  assert.equal(stored.spec.username, 'system:bootstrap:07401b', 'created as the bootstrap token');
  assert.equal(stored.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual(stored.spec.usages, USAGES);
  assert.equal(Buffer.from(stored.spec.request, 'base64').toString(), spec.csrPem);
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => proxy.count('watch', { resource: CSRS, answered: true }) === 1, 'the watch is open');
  await approve(c, ref.name);
  const pem = await waiting;
  assert.match(pem, /BEGIN CERTIFICATE/);
  assert.equal(pem, await issued(c, ref.name), 'exactly what the signer put in status.certificate');
  assert.equal(proxy.count('get', { resource: CSRS }), 0, 'no polling while the watch works');
  assert.equal(proxy.count('list', { resource: CSRS }), 1);
});

test('when the server refuses to watch, the client polls', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  proxy.refuse = (r) => (r.verb === 'watch' ? { code: 405, reason: 'MethodNotAllowed', message: 'watch is not supported' } : undefined);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem), pollIntervalMs: 20 });
  const spec = await nodeCsr();
  const ref = await client.create(spec);
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => proxy.count('get', { resource: CSRS, answered: true }) >= 2, 'polling');
  await approve(c, ref.name);
  const pem = await waiting;
  assert.equal(pem, await issued(c, ref.name));
  assert.equal(proxy.count('watch'), 1, 'watch tried once, then polling');
});

test('Denied and Failed end the wait with the reason; a deleted CSR ends it too', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem) });
  const cases: [string, (name: string) => Promise<void>, (err: unknown) => boolean][] = [
    ['denied', (n) => c.decide(n, 'Denied', 'NotAllowed', 'node not known'), (e) => e instanceof CsrDeniedError && /denied, reason: NotAllowed, message: node not known/.test(e.message)],
    ['failed', (n) => c.fail(n, 'SignerError', 'the CA key is gone'), (e) => (e as { code?: string }).code === 'CSRFailed' && /SignerError/.test((e as Error).message)],
    ['deleted', (n) => c.remove(n), (e) => /was deleted/.test((e as Error).message)],
  ];
  for (const [name, act, check] of cases) {
    const ref = await client.create(await nodeCsr());
    const watches = proxy.count('watch', { answered: true });
    const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
    await until(() => proxy.count('watch', { answered: true }) === watches + 1, `${name}: the watch is open`);
    await act(ref.name);
    await assert.rejects(waiting, (e) => check(e), name);
  }
  // Already decided before the wait starts: the first list says so.
  const ref = await client.create(await nodeCsr());
  await c.decide(ref.name, 'Denied', 'NotAllowed', 'no');
  await assert.rejects(client.waitForCertificate(ref, { timeoutMs: 20_000 }), CsrDeniedError);
});

test('a connection dropped mid-wait is re-established and the request is not lost', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem), pollIntervalMs: 20 });
  const ref = await client.create(await nodeCsr());
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => proxy.count('watch', { answered: true }) === 1, 'the watch is open');
  proxy.dropConnections();
  await until(() => proxy.count('watch', { answered: true }) >= 2, 'the client watches again');
  await approve(c, ref.name);
  assert.equal(await waiting, await issued(c, ref.name));
  assert.equal((await c.csrs()).filter((x) => x.metadata.name === ref.name).length, 1);
});

test('an API server killed and restarted mid-wait does not lose the request', async (t) => {
  const c = await startCluster(t, { serveArgs: APPROVER_OFF });
  const proxy = await proxied(t, c);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem), pollIntervalMs: 20 });
  const ref = await client.create(await nodeCsr());
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => proxy.count('watch', { answered: true }) === 1, 'the watch is open');
  await c.stop();
  const answeredWhileUp = proxy.requests.length;
  await new Promise((r) => setTimeout(r, 150)); // the client finds nobody there for a while
  assert.ok(proxy.requests.slice(answeredWhileUp).every((r) => r.status === undefined), 'nothing was answered while the server was down');
  await c.restart();
  await until(() => proxy.count('watch', { answered: true }) >= 2, 'the client watches again', { timeoutMs: 15_000 });
  await approve(c, ref.name);
  assert.equal(await waiting, await issued(c, ref.name));
});

test('credentials rejected mid-wait (an expired certificate, a deleted token) end the wait with the 401 at once', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, c.caPem), pollIntervalMs: 20 });
  const ref = await client.create(await nodeCsr());
  proxy.refuse = () => ({ code: 401, reason: 'Unauthorized', message: 'Unauthorized' });
  await assert.rejects(client.waitForCertificate(ref, { timeoutMs: 20_000 }), (e) => apiStatusOf(e) === 401 && /cannot read certificate signing request/.test((e as Error).message));
  assert.equal(proxy.count('list', { resource: CSRS }), 1, 'no re-reading with credentials the server rejects');
});

test('re-creating a named CSR re-uses it only when it is for the same key', async () => {
  const c = await cluster();
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(c.url, c.caPem) });
  const spec = await nodeCsr('node-csr-fixed');
  const first = await client.create(spec);
  const again = await client.create(spec);
  assert.deepEqual(again, first);
  const other = await nodeCsr('node-csr-fixed');
  await assert.rejects(client.create(other), { code: 'APIError', message: /not compatible: it was made for another key/ });
});

test('a wait with nothing happening times out with a clear error', async () => {
  const c = await cluster();
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(c.url, c.caPem) });
  const ref = await client.create(await nodeCsr());
  await assert.rejects(client.waitForCertificate(ref, { timeoutMs: 500 }), { code: 'APIError', message: /timed out waiting for certificate signing request/ });
});

test('the API server is verified against the kubeconfig CA, and a wrong token is a 401', async (t) => {
  const c = await cluster();
  const proxy = await proxied(t, c);
  const before = (await c.csrs()).length;
  const stranger = await makeCa({ cn: 'not-the-cluster-ca' });
  const wrongCa = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(proxy.url, stranger.certificate.pem) });
  await assert.rejects(wrongCa.create(await nodeCsr()), (e: Error) => /certificate/i.test(e.message) && apiStatusOf(e) === undefined);
  assert.equal(proxy.count(), 0, 'no request was sent over an unverified connection');
  assert.equal((await c.csrs()).length, before, 'nothing reached the server');
  const badToken = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(c.url, c.caPem, '07401b.0000000000000000') });
  await assert.rejects(badToken.create(await nodeCsr()), (e) => apiStatusOf(e) === 401);
  assert.equal((await c.csrs()).length, before);
});

test('the kubelet-client-current.pem file (certificate and key in one) authenticates requests', async (t) => {
  const c = await cluster();
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client' });
  const leaf = await issueLeaf(c.ca, { cn: 'system:node:node-cert-1' });
  await store.update(leaf.certificate.pem, leaf.keyPem!);
  const kc = certificateKubeconfig({ server: c.url, caPem: c.caPem }, store.currentPath());
  const client = new KubernetesCsrClient({ kubeConfig: kc });
  const byUser = async (u: string) => (await c.csrs()).filter((x) => x.spec.username === u).map((x) => x.metadata.name);
  const first = await client.create(await nodeCsr());
  assert.deepEqual(await byUser('system:node:node-cert-1'), [first.name], 'one request, made as the certificate\'s subject');
  // After a rotation the next request presents the new certificate (the file is read per connection).
  const next = await issueLeaf(c.ca, { cn: 'system:node:node-cert-1-rotated' });
  await store.update(next.certificate.pem, next.keyPem!);
  const second = await client.create(await nodeCsr());
  assert.deepEqual(await byUser('system:node:node-cert-1-rotated'), [second.name]);
  assert.deepEqual(await byUser('system:node:node-cert-1'), [first.name]);
});
