import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { isOnNistCurve } from '../../src/x509/ec-point.js';

const CURVES = [
  { crv: 'P-224', openssl: 'secp224r1', size: 28 },
  { crv: 'P-256', openssl: 'prime256v1', size: 32 },
  { crv: 'P-384', openssl: 'secp384r1', size: 48 },
  { crv: 'P-521', openssl: 'secp521r1', size: 66 },
];

/** The uncompressed point of a fresh key of the curve, as its SPKI carries it. */
function pointOf(openssl: string, size: number): Buffer {
  const spki = generateKeyPairSync('ec', { namedCurve: openssl }).publicKey.export({ type: 'spki', format: 'der' });
  return spki.subarray(spki.length - (1 + 2 * size));
}

test('isOnNistCurve accepts the points of keys OpenSSL generates on each curve Go knows', () => {
  for (const { crv, openssl, size } of CURVES) {
    for (let i = 0; i < 5; i++) assert.equal(isOnNistCurve(pointOf(openssl, size), crv, size), true, crv);
  }
});

test('isOnNistCurve refuses a point off the curve, a coordinate not below the prime, another form or length, an unknown curve', () => {
  for (const { crv, openssl, size } of CURVES) {
    const point = pointOf(openssl, size);
    const offCurve = Buffer.from(point);
    offCurve[offCurve.length - 1]! ^= 1;
    assert.equal(isOnNistCurve(offCurve, crv, size), false, `${crv} y changed`);
    // x = p: reduced modulo p it is x = 0, which may be on the curve; Go refuses it by its range check.
    const xIsP = Buffer.from(point);
    xIsP.fill(0xff, 1, 1 + size);
    assert.equal(isOnNistCurve(xIsP, crv, size), false, `${crv} x out of range`);
    const compressedTag = Buffer.from(point);
    compressedTag[0] = 0x02;
    assert.equal(isOnNistCurve(compressedTag, crv, size), false, `${crv} not uncompressed`);
    assert.equal(isOnNistCurve(point.subarray(0, point.length - 1), crv, size), false, `${crv} truncated`);
    assert.equal(isOnNistCurve(Buffer.alloc(1 + 2 * size), crv, size), false, `${crv} all zero`);
  }
  assert.equal(isOnNistCurve(pointOf('prime256v1', 32), 'secp256k1', 32), false);
});

test('a point whose y is replaced by p − y (the negated point) is on the curve; y + p is not', () => {
  const p = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
  const point = pointOf('prime256v1', 32);
  const y = BigInt(`0x${point.subarray(33).toString('hex')}`);
  const withY = (v: bigint) => Buffer.concat([point.subarray(0, 33), Buffer.from(v.toString(16).padStart(64, '0'), 'hex')]);
  assert.equal(isOnNistCurve(withY(p - y), 'P-256', 32), true);
  if (y + p < 1n << 256n) assert.equal(isOnNistCurve(withY(y + p), 'P-256', 32), false);
});
