// RSA key generation from two primes made by OpenSSL (crypto.generatePrime, on the libuv pool).
//
// Why not crypto.generateKeyPair('rsa')? With e = 65537 and 2048+ bits, OpenSSL 3 takes its SP 800-56B path
// (auxiliary primes, extra Miller-Rabin rounds), which costs 3-6x a plain pair of probable primes; a cluster
// PKI needs sixteen keys, so that is most of `init`'s time. The primes here come from the same OpenSSL CSPRNG
// and prime test (BN_generate_prime_ex2: top two bits set, 64 Miller-Rabin rounds), and the key is checked
// against FIPS 186-4 B.3.1's remaining conditions: gcd(e, p-1) = gcd(e, q-1) = 1, |p - q| > 2^(nlen/2 - 100),
// and d > 2^(nlen/2). d is e^-1 mod lcm(p-1, q-1), as OpenSSL and Go compute it.
import { createPrivateKey, createPublicKey, generatePrime } from 'node:crypto';
import { promisify } from 'node:util';

const generatePrimeAsync = promisify(generatePrime) as unknown as (size: number, options: { bigint: true }) => Promise<bigint>;

const E = 65537n;

/** A 2-prime RSA key pair of exactly `bits` bits (even, >= 1024), public exponent 65537. */
export async function generateRsaKeyPairFromPrimes(bits: number): Promise<{ privateKey: ReturnType<typeof createPrivateKey>; publicKey: ReturnType<typeof createPublicKey> }> {
  if (!Number.isInteger(bits) || bits < 1024 || bits % 2 !== 0) throw new RangeError(`RSA key size ${bits} must be an even number of bits >= 1024`);
  const half = bits / 2;
  for (;;) {
    const [a, b] = await Promise.all([generatePrimeAsync(half, { bigint: true }), generatePrimeAsync(half, { bigint: true })]);
    const key = assembleRsaKey(a, b, bits);
    if (key) {
      const privateKey = createPrivateKey({ key: key, format: 'jwk' });
      return { privateKey, publicKey: createPublicKey(privateKey) };
    }
  }
}

/** The JWK of the key made of primes a and b, or null when they fail a FIPS 186-4 condition (then draw again). */
export function assembleRsaKey(a: bigint, b: bigint, bits: number): { kty: 'RSA'; n: string; e: string; d: string; p: string; q: string; dp: string; dq: string; qi: string } | null {
  const half = BigInt(bits / 2);
  if (a === b) return null;
  const [p, q] = a > b ? [a, b] : [b, a];
  if ((p - 1n) % E === 0n || (q - 1n) % E === 0n) return null; // e is prime: gcd(e, x) = 1 unless e | x
  if ((p - q) >> (half - 100n) === 0n) return null;
  const n = p * q;
  if (bitLength(n) !== bits) return null;
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const d = modInverse(E, lambda);
  if (d === null || d >> half === 0n) return null;
  const qi = modInverse(q, p);
  if (qi === null) return null;
  return { kty: 'RSA', n: b64u(n), e: b64u(E), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(qi) };
}

function bitLength(x: bigint): number {
  return x.toString(2).length;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** a^-1 mod m by the extended Euclidean algorithm, or null when gcd(a, m) != 1. */
function modInverse(a: bigint, m: bigint): bigint | null {
  let [r0, r1] = [m, ((a % m) + m) % m];
  let [s0, s1] = [0n, 1n];
  while (r1 !== 0n) {
    const t = r0 / r1;
    [r0, r1] = [r1, r0 - t * r1];
    [s0, s1] = [s1, s0 - t * s1];
  }
  if (r0 !== 1n) return null;
  return ((s0 % m) + m) % m;
}

function b64u(x: bigint): string {
  let hex = x.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
}
