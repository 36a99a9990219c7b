import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { parseCertificatePem } from '../../src/x509/index.js';
import { validatePath } from '../../src/x509/path-validation/index.js';
import { CSRSigningController } from '../../src/controllers/signer/controller.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import { ControllerMetrics } from '../../src/controllers/metrics.js';
import type { SigningAuthority } from '../../src/controllers/signer/issue.js';
import { FakeKubeClient, settle } from './fake-client.js';
import { approved, csrObject, failed, NODE_SUBJECT, requestPem, testCA, withExpirationSeconds, withSigner, withUsages } from './fixtures.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';

const NOW = new Date('2026-04-01T10:00:00Z');

async function setup(options: { durationMs?: number; authorities?: Map<string, SigningAuthority>; requestsVerifiedByServer?: boolean } = {}) {
  const clock = new FakeClock(NOW);
  const client = new FakeKubeClient();
  const ca = await testCA('RSA-2048');
  const authorities =
    options.authorities ??
    new Map(['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown'].map((s) => [s, ca.authority]));
  const informer = new Informer<CertificateSigningRequest>({ name: 'csr', listerWatcher: client.resource(RESOURCES.certificateSigningRequests), clock });
  const metrics = new ControllerMetrics();
  const signer = new CSRSigningController({
    client, informer, authorities, clock, metrics,
    ...(options.durationMs ? { signingDurationMs: options.durationMs } : {}),
    ...(options.requestsVerifiedByServer ? { requestsVerifiedByServer: true } : {}),
  });
  const ac = new AbortController();
  void informer.run(ac.signal);
  await informer.waitForSync();
  const csrs = client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
  const add = async (csr: CertificateSigningRequest) => {
    await csrs.create(csr);
    await settle();
  };
  const certOf = async (name: string) => parseCertificatePem(Buffer.from((await csrs.get(name)).status!.certificate!, 'base64').toString());
  return { clock, client, ca, informer, signer, metrics, ac, csrs, add, certOf };
}

test('an approved kubelet client request is issued a certificate that verifies as a client against the CA', async (t) => {
  const { signer, add, certOf, ca, client, metrics, ac } = await setup();
  t.after(() => ac.abort());
  await add(csrObject('node-1', await requestPem(NODE_SUBJECT('node-1')), approved()));
  assert.equal((await signer.reconcile('node-1')).type, 'terminal');
  const cert = await certOf('node-1');
  assert.equal(cert.subject.commonName, 'system:node:node-1');
  const v = validatePath(cert, { roots: [ca.certificate], now: NOW, purposes: ['client'] });
  assert.equal(v.ok, true);
  assert.ok(client.writes.includes('update certificatesigningrequests/node-1/status'));
  assert.match(await metrics.registry.metrics(), /kubepki_csr_signed_total\{signer_name="kubernetes.io\/kube-apiserver-client-kubelet"\} 1/);
  assert.match(await metrics.registry.metrics(), /kubepki_csr_signing_duration_seconds_count\{signer_name="kubernetes.io\/kube-apiserver-client-kubelet"\} 1/);
});

test('lifetime: --cluster-signing-duration by default, spec.expirationSeconds when shorter, backdated 5 minutes', async (t) => {
  const { signer, add, certOf, ac } = await setup({ durationMs: 24 * 3_600_000 });
  t.after(() => ac.abort());
  const pem = await requestPem(NODE_SUBJECT('n'));
  await add(csrObject('default', pem, approved()));
  await add(csrObject('short', pem, approved(), withExpirationSeconds(3600)));
  await add(csrObject('long', pem, approved(), withExpirationSeconds(10 * 86400)));
  for (const n of ['default', 'short', 'long']) await signer.reconcile(n);
  const d = await certOf('default');
  assert.equal(d.notBefore.getTime(), NOW.getTime() - 300_000);
  assert.equal(d.notAfter.getTime(), NOW.getTime() + 24 * 3_600_000 - 300_000);
  const s = await certOf('short');
  assert.equal(s.notAfter.getTime(), NOW.getTime() + 3_600_000, 'under 8 h: not backdated at the end');
  const l = await certOf('long');
  assert.equal(l.notAfter.getTime(), d.notAfter.getTime(), 'capped by the signing duration');
});

test('a kubelet serving request with a client usage or an email SAN is marked Failed, with no certificate', async (t) => {
  const { signer, add, csrs, metrics, ac } = await setup();
  t.after(() => ac.abort());
  const serving = withSigner('kubernetes.io/kubelet-serving');
  await add(csrObject('client-usage', await requestPem(NODE_SUBJECT('n'), { dnsNames: ['n'] }), serving, withUsages('digital signature', 'server auth', 'client auth'), approved()));
  await add(csrObject('email', await requestPem(NODE_SUBJECT('n'), { dnsNames: ['n'], emailAddresses: ['n@example.com'] }), serving, withUsages('digital signature', 'server auth'), approved()));
  for (const [name, message] of [
    ['client-usage', 'usages did not match [digital signature key encipherment server auth]'],
    ['email', 'Email subjectAltNames are not allowed'],
  ] as const) {
    assert.equal((await signer.reconcile(name)).type, 'terminal');
    const csr = await csrs.get(name);
    assert.equal(csr.status!.certificate, undefined);
    const cond = csr.status!.conditions!.find((c) => c.type === 'Failed')!;
    assert.deepEqual([cond.status, cond.reason, cond.message], ['True', 'SignerValidationFailure', message]);
    assert.equal(cond.lastUpdateTime, '2026-04-01T10:00:00Z');
  }
  assert.match(await metrics.registry.metrics(), /kubepki_csr_failed_total\{signer_name="kubernetes.io\/kubelet-serving"\} 2/);
});

test('pending, denied, failed, issued or foreign-signer requests are not signed', async (t) => {
  const ca = await testCA('ECDSA-P256');
  const { signer, add, client, ac } = await setup({ authorities: new Map([['kubernetes.io/kube-apiserver-client-kubelet', ca.authority]]) });
  t.after(() => ac.abort());
  const pem = await requestPem(NODE_SUBJECT('n'));
  await add(csrObject('pending', pem));
  await add(csrObject('failed', pem, approved(), failed()));
  await add(csrObject('custom', pem, approved(), withSigner('example.com/serving')));
  await add(csrObject('serving-no-ca', await requestPem(NODE_SUBJECT('n'), { dnsNames: ['n'] }), approved(), withSigner('kubernetes.io/kubelet-serving'), withUsages('digital signature', 'server auth')));
  for (const n of ['pending', 'failed', 'custom', 'serving-no-ca']) assert.equal((await signer.reconcile(n)).type, 'waiting', n);
  assert.equal((await signer.reconcile('missing')).type, 'terminal');
  assert.equal(client.writes.filter((w) => w.startsWith('update')).length, 0);
});

test('an expired CA signs nothing: the request is retried, not failed', async (t) => {
  const old = await testCA('ECDSA-P256', { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2026-03-01T00:00:00Z') });
  const { signer, add, csrs, ac } = await setup({ authorities: new Map([['kubernetes.io/kube-apiserver-client-kubelet', old.authority]]) });
  t.after(() => ac.abort());
  await add(csrObject('x', await requestPem(NODE_SUBJECT('n')), approved()));
  const outcome = await signer.reconcile('x');
  assert.equal(outcome.type, 'retryable');
  assert.match((outcome as { error: Error }).error.message, /refusing to sign a certificate that expired in the past|the signer has expired/);
  assert.equal((await csrs.get('x')).status?.conditions?.some((c) => c.type === 'Failed'), false);
});

test('the running controller signs as soon as an approval arrives through the watch', async (t) => {
  const { signer, add, csrs, ac } = await setup();
  t.after(() => ac.abort());
  void signer.run(ac.signal);
  await add(csrObject('live', await requestPem(NODE_SUBJECT('live'))));
  await settle();
  assert.equal((await csrs.get('live')).status?.certificate, undefined, 'not approved yet');
  const csr = await csrs.get('live');
  approved()(csr);
  await csrs.update(csr, 'approval');
  for (let i = 0; i < 200 && !(await csrs.get('live')).status?.certificate; i++) await settle(5);
  assert.ok((await csrs.get('live')).status!.certificate);
});

test("the request's signature is checked, unless the API server in this process already did (serve's controllers)", async (t) => {
  const pem = await requestPem(NODE_SUBJECT('node-1'));
  // Flip a bit of the signature: the request still parses, its signature no longer verifies.
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  der[der.length - 5] ^= 0x01;
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  const csr = csrObject('forged', forged, approved());
  const external = await setup();
  t.after(() => external.ac.abort());
  await assert.rejects(external.signer.decide(csr), /unable to verify certificate request signature/);
  const inProcess = await setup({ requestsVerifiedByServer: true });
  t.after(() => inProcess.ac.abort());
  const decision = await inProcess.signer.decide(csr);
  assert.equal(decision.type, 'issued', 'the server verified it at create; spec.request is immutable since');
});
