import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { cleanupDecision, CSRCleanerController, DEFAULT_CLEANER_DURATIONS, issuedCertificateNotAfter } from '../../src/controllers/cleaner/csr-cleaner.js';
import { TokenCleanerController, tokenExpiry } from '../../src/controllers/cleaner/token-cleaner.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import { bootstrapTokenToSecret } from '../../src/auth/bootstrap-token-secret.js';
import {FakeKubeClient, settle } from './fake-client.js';
import { approved, createdAt, csrObject, denied, failed, issuedWith, NODE_SUBJECT, nodeClientCertPem, requestPem } from './fixtures.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';
import type { Secret } from '../../src/apis/objects.js';
import { until } from '../helpers/poll.js';

const H = 3_600_000;
const T0 = '2026-01-01T00:00:00Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms);

const certPem = (notAfter: Date) => nodeClientCertPem(new Date(T0), notAfter);

test('kube\'s defaults: approved+issued and denied and failed after 1 h, pending after 24 h', () => {
  assert.deepEqual(DEFAULT_CLEANER_DURATIONS, { approvedMs: H, deniedMs: H, failedMs: H, pendingMs: 24 * H });
});

test('cleanup decisions follow kube\'s rules and say when to look again', async () => {
  const pem = await requestPem(NODE_SUBJECT('n'));
  const longCert = await certPem(new Date('2030-01-01T00:00:00Z'));
  const issued = csrObject('i', pem, createdAt(T0), approved(T0), issuedWith(longCert));
  assert.deepEqual(cleanupDecision(issued, at(H)), { delete: false, nextCheckAt: at(H + 1) });
  assert.equal(cleanupDecision(issued, at(H + 1)).delete, true);

  const approvedNotIssued = csrObject('a', pem, createdAt(T0), approved(T0));
  assert.equal(cleanupDecision(approvedNotIssued, at(100 * H)).delete, false, 'approved but never issued is kept (kube)');

  const den = csrObject('d', pem, createdAt(T0), denied(T0));
  assert.equal(cleanupDecision(den, at(H)).delete, false);
  assert.deepEqual(cleanupDecision(den, at(H + 1)), { delete: true, reason: 'more than 3600s old and denied' });

  const fail = csrObject('f', pem, createdAt(T0), approved(T0), failed(T0));
  assert.equal(cleanupDecision(fail, at(H + 1)).delete, true);

  const pending = csrObject('p', pem, createdAt(T0));
  assert.deepEqual(cleanupDecision(pending, at(24 * H)), { delete: false, nextCheckAt: at(24 * H + 1) });
  assert.deepEqual(cleanupDecision(pending, at(24 * H + 1)), { delete: true, reason: 'more than 86400s old and unhandled' });

  const noTime = csrObject('n', pem, createdAt(T0), denied(''));
  noTime.status!.conditions![0]!.lastUpdateTime = undefined;
  assert.equal(cleanupDecision(noTime, at(1000 * H)).delete, false, 'a condition without lastUpdateTime never ages (kube)');
});

test('an issued certificate that has expired is cleaned even before the approval deadline', async () => {
  const pem = await requestPem(NODE_SUBJECT('n'));
  const shortCert = await certPem(at(10 * 60_000));
  const csr = csrObject('e', pem, createdAt(T0), approved(T0), issuedWith(shortCert));
  assert.equal(issuedCertificateNotAfter(csr)!.toISOString(), at(10 * 60_000).toISOString());
  const d = { approvedMs: 10 * H, deniedMs: H, failedMs: H, pendingMs: 24 * H };
  assert.deepEqual(cleanupDecision(csr, at(10 * 60_000), d), { delete: false, nextCheckAt: at(10 * 60_000 + 1) });
  assert.deepEqual(cleanupDecision(csr, at(10 * 60_000 + 1), d), { delete: true, reason: 'the associated certificate is expired' });
  const garbage = csrObject('g', pem, createdAt(T0), approved(T0), issuedWith('not a certificate'));
  assert.equal(issuedCertificateNotAfter(garbage), undefined);
});

test('the cleaner deletes each CSR when its (short, configured) deadline passes', async (t) => {
  const clock = new FakeClock(new Date(T0));
  const client = new FakeKubeClient();
  client.now = () => clock.now();
  const informer = new Informer<CertificateSigningRequest>({ name: 'csr', listerWatcher: client.resource(RESOURCES.certificateSigningRequests), clock });
  const cleaner = new CSRCleanerController({ client, informer, clock, durations: { approvedMs: 2000, deniedMs: 1000, failedMs: 1000, pendingMs: 5000 } });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  void cleaner.run(ac.signal);
  const csrs = client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
  const pem = await requestPem(NODE_SUBJECT('n'));
  await csrs.create(csrObject('denied', pem, denied(T0)));
  await csrs.create(csrObject('issued', pem, approved(T0), issuedWith(await certPem(new Date('2030-01-01T00:00:00Z')))));
  await csrs.create(csrObject('pending', pem));
  await settle();
  const names = () => informer.list().map((c) => c.metadata.name).sort();
  assert.deepEqual(names(), ['denied', 'issued', 'pending']);
  clock.advance(1001);
  await until(() => !names().includes('denied'), 'denied deleted');
  assert.deepEqual(names(), ['issued', 'pending']);
  clock.advance(1000);
  await until(() => !names().includes('issued'), 'issued deleted');
  clock.advance(3000);
  await until(() => names().length === 0, 'pending deleted');
  assert.deepEqual(client.writes.filter((w) => w.startsWith('delete')).sort(), ['delete certificatesigningrequests/denied', 'delete certificatesigningrequests/issued', 'delete certificatesigningrequests/pending']);
});

// ---- token cleaner ----

const token = (id: string, ttlMs: number | undefined, now: Date): Secret =>
  bootstrapTokenToSecret({ token: `${id}.0123456789abcdef`, usages: ['authentication', 'signing'], groups: [], ...(ttlMs !== undefined ? { ttlMs } : {}) }, now) as Secret;

test('token expiry: none, later, passed, or unparseable (counts as expired)', () => {
  const now = new Date(T0);
  assert.deepEqual(tokenExpiry(token('aaaaaa', undefined, now), now), { expired: false });
  assert.deepEqual(tokenExpiry(token('aaaaaa', 60_000, now), now), { expired: false, remainingMs: 60_000 });
  assert.deepEqual(tokenExpiry(token('aaaaaa', 60_000, now), at(60_000)), { expired: true });
  const bad = token('aaaaaa', undefined, now);
  bad.data!['expiration'] = Buffer.from('tomorrow').toString('base64');
  assert.deepEqual(tokenExpiry(bad, now), { expired: true });
});

test('the token cleaner deletes expired bootstrap tokens exactly when they expire, and nothing else', async (t) => {
  const clock = new FakeClock(new Date(T0));
  const client = new FakeKubeClient();
  const informer = new Informer<Secret>({ name: 'secrets', listerWatcher: client.resource(RESOURCES.secrets), clock, namespace: 'kube-system' });
  const cleaner = new TokenCleanerController({ client, informer, clock });
  const secrets = client.resource<Secret>(RESOURCES.secrets);
  await secrets.create(token('expird', 1000, new Date(clock.now().getTime() - 2000)));
  await secrets.create(token('later1', 30_000, clock.now()));
  await secrets.create(token('foreva', undefined, clock.now()));
  await secrets.create({ metadata: { name: 'other', namespace: 'kube-system' }, type: 'Opaque', data: { expiration: Buffer.from('2000-01-01T00:00:00Z').toString('base64') } });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  void cleaner.run(ac.signal);
  const names = () => informer.list().map((s) => s.metadata.name).sort();
  await until(() => !names().includes('bootstrap-token-expird'), 'expired token deleted');
  assert.deepEqual(names(), ['bootstrap-token-foreva', 'bootstrap-token-later1', 'other']);
  clock.advance(30_000);
  await until(() => !names().includes('bootstrap-token-later1'), 'token deleted at expiry');
  assert.deepEqual(names(), ['bootstrap-token-foreva', 'other']);
});
