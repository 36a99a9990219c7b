import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { spkiOf } from '../../src/x509/certificate.js';

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
