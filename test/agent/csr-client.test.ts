import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { CertificateStore } from '../../src/agent/cert-store.js';
import { certificateKubeconfig } from '../../src/agent/kubeconfig.js';
import {
  apiStatusOf,
  CsrDeniedError,
  digestedCsrName,
  KubernetesCsrClient,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  type CsrSpec,
} from '../../src/agent/csr-client.js';
import { createCertificateRequest, generateKeyPair, issueCertificate, parseCertificateRequestPem, parseUsages } from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { StubApiServer } from './stub-apiserver.js';
import { DAY, issueLeaf, makeCa, type TestCa } from './pki.js';

const TOKEN = '07401b.f395accd246ae52d';
const SUBJECT = { commonName: 'system:node:node-1', organization: ['system:nodes'] };
const USAGES = ['digital signature', 'client auth'];

function tokenKubeconfig(server: string, caPem: string, token = TOKEN): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false }],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

async function start(t: { after: (fn: () => Promise<void>) => void }, ca?: TestCa) {
  const theCa = ca ?? (await makeCa());
  const server = new StubApiServer(theCa, TOKEN);
  await server.start();
  t.after(() => server.kill().catch(() => undefined));
  return { ca: theCa, server };
}

async function nodeCsr(name?: string): Promise<CsrSpec> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  const csr = await createCertificateRequest({ subject: SUBJECT, keyPair });
  return { csrPem: csr.pem, signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER, usages: USAGES, privateKey: keyPair.privateKey, ...(name ? { name } : {}) };
}

/** What a signer would put in status.certificate for this request. */
async function sign(ca: TestCa, csrPem: string): Promise<string> {
  const req = await parseCertificateRequestPem(csrPem);
  const now = new Date();
  const cert = await issueCertificate({
    template: { subject: req.subject, notBefore: now, notAfter: new Date(now.getTime() + DAY), ...parseUsages(USAGES) },
    publicKey: req.publicKey,
    issuer: ca,
  });
  return cert.pem;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

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
  const { ca, server } = await start(t);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem) });
  const spec = await nodeCsr();
  const ref = await client.create(spec);
  assert.match(ref.name, /^csr-/);
  const stored = server.csrs.get(ref.name)!;
  assert.equal(stored.spec['signerName'], 'kubernetes.io/kube-apiserver-client-kubelet');
  assert.deepEqual(stored.spec['usages'], USAGES);
  assert.equal(Buffer.from(String(stored.spec['request']), 'base64').toString(), spec.csrPem);
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => server.counts.watch === 1, 'the watch is open');
  const pem = await sign(ca, spec.csrPem);
  server.approve(ref.name, pem);
  assert.equal(await waiting, pem);
  assert.equal(server.counts.get, 0, 'no polling while the watch works');
  assert.equal(server.counts.list, 1);
});

test('when the server refuses to watch, the client polls', async (t) => {
  const { ca, server } = await start(t);
  server.refuseWatch = true;
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem), pollIntervalMs: 20 });
  const spec = await nodeCsr();
  const ref = await client.create(spec);
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => server.counts.get >= 2, 'polling');
  server.approve(ref.name, await sign(ca, spec.csrPem));
  assert.match(await waiting, /BEGIN CERTIFICATE/);
  assert.equal(server.counts.watch, 1, 'watch tried once, then polling');
});

test('Denied and Failed end the wait with the reason; a deleted CSR ends it too', async (t) => {
  const { ca, server } = await start(t);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem) });
  const cases: [string, (name: string) => void, (err: unknown) => boolean][] = [
    ['denied', (n) => server.condition(n, 'Denied', 'NotAllowed', 'node not known'), (e) => e instanceof CsrDeniedError && /denied, reason: NotAllowed, message: node not known/.test(e.message)],
    ['failed', (n) => server.condition(n, 'Failed', 'SignerError', 'the CA key is gone'), (e) => (e as { code?: string }).code === 'CSRFailed' && /SignerError/.test((e as Error).message)],
    ['deleted', (n) => server.delete(n), (e) => /was deleted/.test((e as Error).message)],
  ];
  for (const [name, act, check] of cases) {
    const ref = await client.create(await nodeCsr());
    const watches = server.counts.watch;
    const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
    await until(() => server.counts.watch === watches + 1, `${name}: the watch is open`);
    act(ref.name);
    await assert.rejects(waiting, (e) => check(e), name);
  }
  // Already decided before the wait starts: the first list says so.
  const ref = await client.create(await nodeCsr());
  server.condition(ref.name, 'Denied', 'NotAllowed', 'no');
  await assert.rejects(client.waitForCertificate(ref, { timeoutMs: 20_000 }), CsrDeniedError);
});

test('an API server killed and restarted mid-wait does not lose the request', async (t) => {
  const { ca, server } = await start(t);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem), pollIntervalMs: 20 });
  const spec = await nodeCsr();
  const ref = await client.create(spec);
  const waiting = client.waitForCertificate(ref, { timeoutMs: 20_000 });
  await until(() => server.counts.watch === 1, 'the watch is open');
  const port = server.port;
  await server.kill();
  await new Promise((r) => setTimeout(r, 150)); // the client finds nobody listening for a while
  await server.start(port);
  await until(() => server.counts.watch >= 2, 'the client watches again');
  server.approve(ref.name, await sign(ca, spec.csrPem));
  assert.match(await waiting, /BEGIN CERTIFICATE/);
});

test('re-creating a named CSR re-uses it only when it is for the same key', async (t) => {
  const { ca, server } = await start(t);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem) });
  const spec = await nodeCsr('node-csr-fixed');
  const first = await client.create(spec);
  const again = await client.create(spec);
  assert.deepEqual(again, first);
  const other = await nodeCsr('node-csr-fixed');
  await assert.rejects(client.create(other), { code: 'APIError', message: /not compatible: it was made for another key/ });
});

test('a wait with nothing happening times out with a clear error', async (t) => {
  const { ca, server } = await start(t);
  const client = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem) });
  const ref = await client.create(await nodeCsr());
  await assert.rejects(client.waitForCertificate(ref, { timeoutMs: 500 }), { code: 'APIError', message: /timed out waiting for certificate signing request/ });
});

test('the API server is verified against the kubeconfig CA, and a wrong token is a 401', async (t) => {
  const { ca, server } = await start(t);
  const stranger = await makeCa({ cn: 'not-the-cluster-ca' });
  const wrongCa = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, stranger.certificate.pem) });
  await assert.rejects(wrongCa.create(await nodeCsr()), (e: Error) => /certificate/i.test(e.message) && apiStatusOf(e) === undefined);
  assert.equal(server.counts.create, 0, 'nothing reached the server over an unverified connection');
  const badToken = new KubernetesCsrClient({ kubeConfig: tokenKubeconfig(server.url, ca.certificate.pem, '07401b.0000000000000000') });
  await assert.rejects(badToken.create(await nodeCsr()), (e) => apiStatusOf(e) === 401);
});

test('the kubelet-client-current.pem file (certificate and key in one) authenticates requests', async (t) => {
  const { ca, server } = await start(t);
  const dir = await tempDir(t);
  const store = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client' });
  const leaf = await issueLeaf(ca, {});
  await store.update(leaf.certificate.pem, leaf.keyPem!);
  const kc = certificateKubeconfig({ server: server.url, caPem: ca.certificate.pem }, store.currentPath());
  const client = new KubernetesCsrClient({ kubeConfig: kc });
  await client.create(await nodeCsr());
  assert.deepEqual(server.users, ['system:node:node-1']);
  // After a rotation the next request presents the new certificate (the file is read per connection).
  const next = await issueLeaf(ca, { cn: 'system:node:node-1-rotated' });
  await store.update(next.certificate.pem, next.keyPem!);
  await client.create(await nodeCsr());
  assert.equal(server.users.at(-1), 'system:node:node-1-rotated');
});
