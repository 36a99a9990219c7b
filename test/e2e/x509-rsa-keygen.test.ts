import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { checkPrimeSync, createPrivateKey, generatePrimeSync, sign, verify } from 'node:crypto';
import path from 'node:path';
import { assembleRsaKey, generateRsaKeyPairFromPrimes } from '../../src/x509/rsa-keygen.js';
import { generateKeyPair, privateKeyToPem } from '../../src/x509/keys.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

for (const bits of [2048, 3072]) {
  test(`an RSA-${bits} key made from two primes passes openssl rsa -check, has e=65537 and exactly ${bits} bits`, async (t) => {
    const dir = await tempDir(t);
    const { privateKey, publicKey } = await generateRsaKeyPairFromPrimes(bits);
    assert.equal(privateKey.asymmetricKeyDetails?.modulusLength, bits);
    assert.equal(privateKey.asymmetricKeyDetails?.publicExponent, 65537n);
    const file = path.join(dir, 'k.pem');
    await writeFile(file, privateKeyToPem(privateKey));
    const check = await run('openssl', ['rsa', '-in', file, '-check', '-noout']);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /RSA key ok/);
    const data = Buffer.from('kubepki');
    assert.ok(verify('sha256', data, publicKey, sign('sha256', data, privateKey)));
  });
}

test('generateKeyPair(RSA-2048) uses the prime-based generator and gives distinct keys', async () => {
  const [a, b] = await Promise.all([generateKeyPair('RSA-2048'), generateKeyPair('RSA-2048')]);
  assert.equal(a.privateKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.notEqual(a.publicKey.export({ format: 'jwk' }).n, b.publicKey.export({ format: 'jwk' }).n);
});

test('assembleRsaKey refuses equal primes, primes too close together, and p-1 divisible by e', () => {
  const p = generatePrimeSync(512, { bigint: true });
  assert.equal(assembleRsaKey(p, p, 1024), null);
  // The next prime after p is far closer than 2^(512-100): FIPS 186-4 forbids such pairs.
  let q = p + 2n;
  while (!isProbablePrime(q)) q += 2n;
  assert.equal(assembleRsaKey(p, q, 1024), null);
  // A valid pair assembles into a key Node accepts, with d > 2^(nlen/2).
  const r = generatePrimeSync(512, { bigint: true });
  const jwk = assembleRsaKey(p, r, 1024);
  if (jwk) {
    const key = createPrivateKey({ key: jwk, format: 'jwk' });
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 1024);
  }
  // p with e | p-1: p = 65537*k + 1 prime.
  let k = 2n ** 495n;
  while (!isProbablePrime(65537n * k + 1n) || (65537n * k + 1n).toString(2).length !== 512) k += 1n;
  assert.equal(assembleRsaKey(65537n * k + 1n, r, 1024), null);
});

function isProbablePrime(n: bigint): boolean {
  return checkPrimeSync(n);
}
