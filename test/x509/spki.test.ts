import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { isCanonicalEcSpki, spkiOf } from '../../src/x509/certificate.js';

test('spkiOf encodes RSA and EC public keys exactly as OpenSSL exports them', () => {
  const keys = [
    generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
    generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3 }).publicKey,
    ...['P-256', 'P-384', 'P-521'].flatMap((namedCurve) => [1, 2, 3].map(() => generateKeyPairSync('ec', { namedCurve }).publicKey)),
    generateKeyPairSync('ed25519').publicKey,
  ];
  for (const k of keys) {
    const want = k.export({ type: 'spki', format: 'der' });
    assert.deepEqual(spkiOf(k), want, `${k.asymmetricKeyType} ${String(k.asymmetricKeyDetails?.modulusLength ?? k.asymmetricKeyDetails?.namedCurve)}`);
  }
});

test('spkiOf writes the uncompressed point of an EC key read from a compressed one (Go re-encodes uncompressed)', () => {
  const k = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const full = k.export({ type: 'spki', format: 'der' });
  const point = full.subarray(full.length - 65);
  const compressed = Buffer.concat([full.subarray(0, full.length - 66 - 2), Buffer.from([0x03, 0x22, 0x00, 0x02 | (point[64]! & 1)]), point.subarray(1, 33)]);
  // Fix the outer SEQUENCE length (the inner AlgorithmIdentifier is unchanged).
  compressed[1] = compressed.length - 2;
  const fromCompressed = createPublicKey({ key: compressed, format: 'der', type: 'spki' });
  assert.deepEqual(spkiOf(fromCompressed), full);
});

test('isCanonicalEcSpki accepts exactly what spkiOf writes for named-curve EC keys', () => {
  for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
    const k = generateKeyPairSync('ec', { namedCurve }).publicKey;
    assert.equal(isCanonicalEcSpki(spkiOf(k)), true, namedCurve);
  }
  const p256 = spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  const otherCurveOid = Buffer.from(p256);
  otherCurveOid[otherCurveOid.indexOf(Buffer.from('2a8648ce3d030107', 'hex')) + 7] = 0x08; // 1.2.840.10045.3.1.8
  const compressedTag = Buffer.from(p256);
  compressedTag[26] = 0x02;
  for (const [name, spki] of [
    ['RSA', spkiOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)],
    ['Ed25519', spkiOf(generateKeyPairSync('ed25519').publicKey)],
    ['another curve OID', otherCurveOid],
    ['a point that is not uncompressed', compressedTag],
    ['truncated', p256.subarray(0, 90)],
    ['one byte more', Buffer.concat([p256, Buffer.from([0])])],
  ] as const) {
    assert.equal(isCanonicalEcSpki(spki), false, name);
  }
});
