// SubjectPublicKeyInfo as Go's x509 parsePublicKey checks it (RSA with NULL parameters and a positive
// modulus and exponent, EC on a named curve with an uncompressed point, Ed25519/X25519 with no parameters
// and 32 bytes), and the import of the key into a KeyObject, which is made only when something needs it:
// importing costs as much as verifying a signature.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { checkInteger, decodeBitString, decodeOid, DerError, DerReader, rightAlign, TAG, type DerElement } from './der-reader.js';
import { isOnNistCurve } from './ec-point.js';

export type PublicKeyAlgorithm = 'RSA' | 'ECDSA' | 'Ed25519' | 'X25519' | 'DSA' | 'Unknown';

const PUBLIC_KEY_ALGORITHMS: Record<string, PublicKeyAlgorithm> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10045.2.1': 'ECDSA',
  '1.3.101.112': 'Ed25519',
  '1.3.101.110': 'X25519',
};

/** The named curves Go's x509 knows: JWK name and coordinate size. */
const CURVES: Record<string, { crv: string; size: number }> = {
  '1.3.132.0.33': { crv: 'P-224', size: 28 },
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

export interface PublicKeyInfo {
  /** The exact DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  algorithm: PublicKeyAlgorithm;
  /** Imported on first read; throws InvalidKey for a key OpenSSL refuses (the parse has refused what Go refuses). */
  readonly key: KeyObject;
}

const fail = (message: string): never => {
  throw new DerError(message);
};

/** Reads and checks one SubjectPublicKeyInfo element (SEQUENCE { AlgorithmIdentifier, BIT STRING }). */
export function parsePublicKeyInfo(el: DerElement): PublicKeyInfo {
  const r = DerReader.of(el);
  const algId = DerReader.of(r.read(TAG.SEQUENCE, 'public key algorithm'));
  const oid = decodeOid(algId.read(TAG.OID, 'public key algorithm').content);
  const params = algId.empty ? undefined : algId.readAny();
  const keyBytes = rightAlign(decodeBitString(r.read(TAG.BIT_STRING, 'public key').content));
  const algorithm = PUBLIC_KEY_ALGORITHMS[oid] ?? 'Unknown';
  // The key as a JWK, from the fields Go reads, for every algorithm Go reads: OpenSSL's SPKI decoder is
  // stricter than Go about the rest (an RSAPublicKey or AlgorithmIdentifier with an element after the ones
  // Go reads), and would refuse a certificate kube-apiserver, kubectl and the kubelet accept.
  let jwk: JsonWebKey | undefined;
  switch (algorithm) {
    case 'RSA': {
      if (!params || params.tag !== TAG.NULL || params.content.length !== 0) fail('x509: RSA key missing NULL parameters');
      const { n, e } = checkRsaKey(keyBytes);
      jwk = { kty: 'RSA', n: unsignedBase64url(n), e: unsignedBase64url(e) };
      break;
    }
    case 'ECDSA': {
      if (params?.tag !== TAG.OID) fail('x509: invalid ECDSA parameters');
      let curveOid = '';
      try {
        curveOid = decodeOid(params!.content);
      } catch {
        fail('x509: invalid ECDSA parameters');
      }
      const curve = CURVES[curveOid] ?? fail('x509: unsupported elliptic curve');
      // elliptic.Unmarshal: the uncompressed form only, of exactly the curve's size, on the curve.
      if (!isOnNistCurve(keyBytes, curve.crv, curve.size)) fail('x509: failed to unmarshal elliptic curve point');
      // An EC key from its coordinates is imported twice as fast as through OpenSSL 3's SPKI decoder (which
      // checks the point on the curve again).
      jwk = ecJwk(keyBytes, curve);
      break;
    }
    case 'Ed25519':
    case 'X25519':
      if (params) fail(`x509: ${algorithm} key encoded with illegal parameters`);
      if (keyBytes.length !== 32) fail(`x509: wrong ${algorithm} public key size`);
      jwk = { kty: 'OKP', crv: algorithm, x: Buffer.from(keyBytes).toString('base64url') };
      break;
    default:
      break; // DSA and unknown algorithms: Go leaves the key unparsed; the signature check refuses it.
  }
  let key: KeyObject | undefined;
  const spki = el.der;
  return {
    spki,
    algorithm,
    get key(): KeyObject {
      if (!key) {
        try {
          key = jwk ? createPublicKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
        } catch (err) {
          const message = algorithm === 'ECDSA' ? 'x509: failed to unmarshal elliptic curve point' : `x509: unsupported public key: ${(err as Error).message}`;
          throw new KubepkiError('InvalidKey', message, { cause: err });
        }
      }
      return key;
    },
  };
}

/** pkcs1PublicKey by cryptobyte: SEQUENCE { INTEGER n > 0, INTEGER e > 0 (fits int64) }; what follows is not read. */
function checkRsaKey(keyBytes: Uint8Array): { n: Uint8Array; e: Uint8Array } {
  let seq: DerReader;
  try {
    seq = DerReader.of(new DerReader(keyBytes).read(TAG.SEQUENCE, 'RSA public key'));
  } catch {
    return fail('x509: invalid RSA public key');
  }
  const integer = (what: string): Uint8Array => {
    try {
      const c = seq.read(TAG.INTEGER, what).content;
      checkInteger(c);
      return c;
    } catch {
      return fail(`x509: invalid RSA ${what}`);
    }
  };
  const n = integer('modulus');
  const e = integer('public exponent');
  if (e.length > 8) fail('x509: invalid RSA public exponent');
  const positive = (c: Uint8Array) => (c[0]! & 0x80) === 0 && c.some((b) => b !== 0);
  if (!positive(n)) fail('x509: RSA modulus is not a positive number');
  if (!positive(e)) fail('x509: RSA public exponent is not a positive number');
  return { n, e };
}

/** A positive INTEGER's content without its sign octet, as JWK's base64urlUInt. */
function unsignedBase64url(content: Uint8Array): string {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return Buffer.from(content.buffer, content.byteOffset + i, content.byteLength - i).toString('base64url');
}

function ecJwk(point: Uint8Array, curve: { crv: string; size: number }): { kty: 'EC'; crv: string; x: string; y: string } {
  const b64 = (a: number, b: number) => Buffer.from(point.buffer, point.byteOffset + a, b - a).toString('base64url');
  return { kty: 'EC', crv: curve.crv, x: b64(1, 1 + curve.size), y: b64(1 + curve.size, point.length) };
}
