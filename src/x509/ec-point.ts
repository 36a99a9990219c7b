// Go's elliptic.Unmarshal check of an uncompressed NIST curve point (crypto/internal/nistec SetBytes): both
// coordinates below the field prime and y² = x³ − 3x + b. Done here, at parse time, as Go does it while parsing
// a certificate or a request, instead of by importing the key into OpenSSL (whose SPKI/JWK import costs about
// as much as a signature check, and is only needed when the key is used).

/** Field prime and curve constant b of the NIST curves Go's x509 knows (a = −3 for all of them). */
const NIST_CURVES: Record<string, { p: bigint; b: bigint }> = {
  'P-224': {
    p: 0xffffffffffffffffffffffffffffffff000000000000000000000001n,
    b: 0xb4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4n,
  },
  'P-256': {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    p: (1n << 521n) - 1n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
};

const toBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`));

/**
 * Whether `point` (0x04 ‖ x ‖ y, each coordinate `size` bytes) is a point of the named curve. The caller has
 * checked the form and the length; a curve this module does not know is never on it.
 */
export function isOnNistCurve(point: Uint8Array, crv: string, size: number): boolean {
  const curve = NIST_CURVES[crv];
  if (!curve || point.length !== 1 + 2 * size || point[0] !== 0x04) return false;
  const { p, b } = curve;
  const x = toBigInt(point.subarray(1, 1 + size));
  const y = toBigInt(point.subarray(1 + size));
  if (x >= p || y >= p) return false;
  const rhs = (((x * x) % p) * x - 3n * x + b) % p;
  return (y * y - rhs) % p === 0n;
}
