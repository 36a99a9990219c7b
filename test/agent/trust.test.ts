import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followCaBundle } from '../../src/agent/trust.js';
import type { Certificate } from '../../src/x509/index.js';
import { crossSign, DAY, issueLeaf, makeCa } from '../helpers/pki.js';

const now = new Date();

const serials = (cs: Certificate[]) => cs.map((c) => c.serialNumber).sort();

test('an unchanged bundle changes nothing', async () => {
  const old = await makeCa();
  const r = followCaBundle({ trusted: [old.certificate], published: [old.certificate], now });
  assert.equal(r.changed, false);
  assert.deepEqual(serials(r.trusted), serials([old.certificate]));
});

test('a new self-signed CA that the old one never signed is rejected, with or without the old CA beside it', async () => {
  const old = await makeCa();
  const stranger = await makeCa({ cn: 'kubernetes-2' });
  for (const published of [[old.certificate, stranger.certificate], [stranger.certificate]]) {
    const r = followCaBundle({ trusted: [old.certificate], published, now });
    assert.equal(r.changed, false);
    assert.deepEqual(serials(r.trusted), serials([old.certificate]), 'the agent keeps trusting the old CA, never nothing and never the stranger');
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0]!.certificate.serialNumber, stranger.certificate.serialNumber);
    assert.match(r.rejected[0]!.reason, /not signed by a trusted CA/);
  }
});

test('a new CA cross-signed by the old one is followed, and the old CA is dropped once the bundle drops it', async () => {
  const old = await makeCa();
  const next = await makeCa({ cn: 'kubernetes-2' });
  const cross = await crossSign(next, old);
  const during = followCaBundle({ trusted: [old.certificate], published: [old.certificate, next.certificate, cross], now });
  assert.equal(during.changed, true);
  assert.deepEqual(serials(during.trusted), serials([old.certificate, next.certificate, cross]));
  assert.deepEqual(serials(during.added), serials([next.certificate, cross]));
  assert.deepEqual(during.rejected, []);
  const after = followCaBundle({ trusted: during.trusted, published: [next.certificate], now });
  assert.deepEqual(serials(after.trusted), serials([next.certificate]));
  assert.deepEqual(serials(after.removed), serials([old.certificate, cross]));
  // The same end state in one step: the new CA and its cross-certificate, without the old CA.
  const direct = followCaBundle({ trusted: [old.certificate], published: [next.certificate, cross], now });
  assert.deepEqual(serials(direct.trusted), serials([next.certificate, cross]));
  assert.deepEqual(serials(direct.removed), serials([old.certificate]));
});

test('a new CA issued by the old CA is followed; trust spreads through a chain of cross-certificates', async () => {
  const old = await makeCa();
  const issued = await makeCa({ cn: 'kubernetes-b' });
  const issuedByOld = await crossSign(issued, old); // a CA certificate whose issuer is the old CA
  const r1 = followCaBundle({ trusted: [old.certificate], published: [issuedByOld], now });
  assert.deepEqual(serials(r1.trusted), serials([issuedByOld]));
  const second = await makeCa({ cn: 'kubernetes-c' });
  const third = await makeCa({ cn: 'kubernetes-d' });
  const bundle = [third.certificate, await crossSign(third, second), second.certificate, await crossSign(second, old)];
  const r2 = followCaBundle({ trusted: [old.certificate], published: bundle, now });
  assert.deepEqual(r2.rejected, []);
  assert.equal(r2.trusted.length, 4);
});

test('expired cross-certificates, cross-certificates for another key, and non-CA certificates do not bring trust', async () => {
  const old = await makeCa();
  const next = await makeCa({ cn: 'kubernetes-2' });
  const expiredCross = await crossSign(next, old, { notBefore: new Date(now.getTime() - 10 * DAY), notAfter: new Date(now.getTime() - DAY) });
  const r1 = followCaBundle({ trusted: [old.certificate], published: [next.certificate, expiredCross], now });
  assert.equal(r1.changed, false);
  assert.equal(r1.rejected.length, 2);
  // Same name as the new CA, but a cross-certificate for a different key vouches for nothing.
  const impostor = await makeCa({ cn: 'kubernetes-2' });
  const crossForImpostor = await crossSign(impostor, old);
  const r2 = followCaBundle({ trusted: [old.certificate], published: [next.certificate, crossForImpostor], now });
  assert.ok(!r2.trusted.some((c) => c.serialNumber === next.certificate.serialNumber));
  const leaf = await issueLeaf(old, { usages: ['digital signature', 'server auth'] });
  const r3 = followCaBundle({ trusted: [old.certificate], published: [old.certificate, leaf.certificate], now });
  assert.equal(r3.rejected[0]!.reason, 'not a CA certificate');
  assert.equal(r3.changed, false);
});
