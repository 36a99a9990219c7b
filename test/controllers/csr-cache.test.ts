import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { CERTIFICATE_NOT_CACHED, issuedCertificateNotAfter, trimSettledRequest } from '../../src/controllers/csr-cache.js';
import { cleanupDecision } from '../../src/controllers/cleaner/csr-cleaner.js';
import { isIssued } from '../../src/controllers/csr.js';
import { FakeKubeClient, settle } from './fake-client.js';
import { approved, createdAt, csrObject, denied, failed, issuedWith, NODE_SUBJECT, nodeClientCertPem, requestPem } from './fixtures.js';
import { startApproverAndSigner } from './approver-and-signer.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';

const H = 3_600_000;
const T0 = '2026-01-01T00:00:00Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms);

const certPem = (notAfter: Date) => nodeClientCertPem(new Date(T0), notAfter);

/** Every state a CSR can be in, whole, as the server serves it. */
async function requests(): Promise<Record<string, CertificateSigningRequest>> {
  const pem = await requestPem(NODE_SUBJECT('n'));
  const shortCert = await certPem(at(10 * 60_000));
  return {
    pending: csrObject('pending', pem, createdAt(T0)),
    approved: csrObject('approved', pem, createdAt(T0), approved(T0)),
    failedOnly: csrObject('failedOnly', pem, createdAt(T0), failed(T0)),
    approvedFailed: csrObject('approvedFailed', pem, createdAt(T0), approved(T0), failed(T0)),
    denied: csrObject('denied', pem, createdAt(T0), denied(T0)),
    issued: csrObject('issued', pem, createdAt(T0), approved(T0), issuedWith(shortCert)),
    issuedGarbage: csrObject('issuedGarbage', pem, createdAt(T0), approved(T0), issuedWith('not a certificate')),
  };
}

test('trimSettledRequest keeps the request while a controller may parse it, and the certificate as its notAfter once issued', async () => {
  const all = await requests();
  for (const name of ['pending', 'approved', 'failedOnly']) {
    const before = structuredClone(all[name]!);
    assert.deepEqual(trimSettledRequest(all[name]!), before, `${name}: kept whole (the approver or the signer reads its request)`);
  }
  for (const name of ['approvedFailed', 'denied', 'issued', 'issuedGarbage']) {
    const before = structuredClone(all[name]!);
    const cached = trimSettledRequest(structuredClone(before));
    assert.equal(cached.spec.request, '', name);
    const { request: _r, ...spec } = before.spec;
    assert.deepEqual({ ...cached.spec, request: undefined }, { ...spec, request: undefined }, `${name}: the rest of spec is kept`);
    assert.deepEqual(cached.status?.conditions, before.status?.conditions, `${name}: conditions are kept`);
    assert.deepEqual(cached.metadata, before.metadata);
  }
  const issued = trimSettledRequest(structuredClone(all['issued']!));
  assert.equal(issued.status?.certificate, CERTIFICATE_NOT_CACHED);
  assert.equal(isIssued(issued), true);
  assert.equal(issued.status?.cachedCertificateNotAfterMs, at(10 * 60_000).getTime());
  assert.equal(issuedCertificateNotAfter(issued)?.toISOString(), at(10 * 60_000).toISOString());
  assert.deepEqual(trimSettledRequest(structuredClone(issued)), issued, 'trimming a cached object again changes nothing');
  const garbage = trimSettledRequest(structuredClone(all['issuedGarbage']!));
  assert.equal(garbage.status?.cachedCertificateNotAfterMs, null);
  assert.equal(issuedCertificateNotAfter(garbage), undefined);
  assert.ok(!('cachedCertificateNotAfterMs' in trimSettledRequest(structuredClone(all['denied']!)).status!));
  // The condition's two equal timestamps become one string (same value).
  const c = trimSettledRequest(structuredClone(all['denied']!)).status!.conditions![0]!;
  assert.equal(c.lastTransitionTime, c.lastUpdateTime);
});

test('the cleaner decides the same on cached (trimmed) requests as on whole ones', async () => {
  const all = await requests();
  const durations = { approvedMs: 10 * H, deniedMs: H, failedMs: H, pendingMs: 24 * H };
  for (const [name, whole] of Object.entries(all)) {
    const cached = trimSettledRequest(structuredClone(whole));
    for (const t of [0, 10 * 60_000, 10 * 60_000 + 1, H, H + 1, 10 * H + 1, 24 * H + 1]) {
      assert.deepEqual(cleanupDecision(cached, at(t), durations), cleanupDecision(whole, at(t), durations), `${name} at +${t} ms`);
    }
  }
  // The expired certificate is what deletes the issued one before its approval deadline, trimmed or not.
  assert.deepEqual(cleanupDecision(trimSettledRequest(structuredClone(all['issued']!)), at(10 * 60_000 + 1), durations), { delete: true, reason: 'the associated certificate is expired' });
});

test('the approver and the signer, fed by an informer that trims, decide as on whole requests and never write a trimmed one', async (t) => {
  const clock = new FakeClock(new Date('2026-02-01T00:00:00Z'));
  const client = new FakeKubeClient();
  client.authorize = () => true;
  const { informer, approver, signer, csrs } = await startApproverAndSigner(t, { client, clock, transform: trimSettledRequest });
  const all = await requests();
  for (const csr of Object.values(all)) await csrs.create(csr);
  await settle();
  for (const name of ['approvedFailed', 'denied', 'issued', 'issuedGarbage']) assert.equal(informer.get(name)!.spec.request, '', `${name} is cached trimmed`);
  const expected: Record<string, [string, string]> = {
    approvedFailed: ['terminal', 'waiting'],
    denied: ['terminal', 'waiting'],
    issued: ['terminal', 'terminal'],
    issuedGarbage: ['terminal', 'terminal'],
  };
  for (const [name, [a, s]] of Object.entries(expected)) {
    assert.equal((await approver.reconcile(name)).type, a, `approver on ${name}`);
    assert.equal((await signer.reconcile(name)).type, s, `signer on ${name}`);
  }
  assert.equal(client.writes.filter((w) => w.startsWith('update') && Object.keys(expected).some((n) => w.includes(`/${n}/`) || w.endsWith(`/${n}`))).length, 0, 'no trimmed request is written');
  // A whole pending request still goes all the way: approved (from its parsed request), then signed, and its
  // issued version is cached trimmed with the new certificate's notAfter.
  assert.equal((await approver.reconcile('pending')).type, 'terminal');
  await settle();
  assert.equal((await signer.reconcile('pending')).type, 'terminal');
  await settle();
  const cached = informer.get('pending')!;
  assert.equal(cached.status?.certificate, CERTIFICATE_NOT_CACHED);
  assert.equal(cached.spec.request, '');
  const stored = await csrs.get('pending');
  assert.ok(stored.spec.request.length > 0 && (stored.status?.certificate ?? '').length > 100, 'the server keeps the whole request');
  assert.equal(cached.status?.cachedCertificateNotAfterMs, issuedCertificateNotAfter(stored)?.getTime());
});
