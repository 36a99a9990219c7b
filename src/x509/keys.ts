// Private/public keys: generation (Node's async keygen runs on the libuv thread pool, off the event loop, so
// several keys are made in parallel), PEM import/export in the encodings kubeadm writes, and the signature
// algorithm Go picks for a key.
import { createPrivateKey, createPublicKey, generateKeyPair as nodeGenerateKeyPair, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KubepkiError } from '../util/errors.js';
import { decodePem } from './pem.js';
import { generateRsaKeyPairFromPrimes } from './rsa-keygen.js';

const generateKeyPairAsync = promisify(nodeGenerateKeyPair);

/** kubeadm's --encryption-algorithm values. */
export const KEY_ALGORITHMS = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'ECDSA-P256', 'ECDSA-P384'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export function parseKeyAlgorithm(value: string): KeyAlgorithm {
  const v = value.toUpperCase();
  if ((KEY_ALGORITHMS as readonly string[]).includes(v)) return v as KeyAlgorithm;
  throw new KubepkiError('InvalidArgument', `unknown encryption algorithm "${value}": use one of ${KEY_ALGORITHMS.join(', ')}`);
}

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  switch (algorithm) {
    case 'RSA-2048':
    case 'RSA-3072':
    case 'RSA-4096':
      return generateKeyPairFromSpec({ type: 'RSA', bits: Number(algorithm.slice(4)) });
    case 'ECDSA-P256':
      return generateKeyPairFromSpec({ type: 'ECDSA', curve: 'P-256' });
    case 'ECDSA-P384':
      return generateKeyPairFromSpec({ type: 'ECDSA', curve: 'P-384' });
  }
}

/** A key shape beyond kubeadm's five (cfssl's csr.json allows RSA 2048..8192 bits and ECDSA P-521). */
export type KeySpec = { type: 'RSA'; bits: number } | { type: 'ECDSA'; curve: 'P-256' | 'P-384' | 'P-521' };

const NODE_CURVES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

export async function generateKeyPairFromSpec(spec: KeySpec): Promise<KeyPair> {
  if (spec.type === 'RSA') {
    // Even sizes from two OpenSSL primes (3-6x faster than OpenSSL 3's SP 800-56B keygen; see rsa-keygen.ts).
    if (spec.bits >= 1024 && spec.bits % 2 === 0) return generateRsaKeyPairFromPrimes(spec.bits);
    return generateKeyPairAsync('rsa', { modulusLength: spec.bits, publicExponent: 0x10001 });
  }
  return generateKeyPairAsync('ec', { namedCurve: NODE_CURVES[spec.curve] });
}

/** The algorithm of an existing key (RSA of another size is reported by its size). */
export function keyAlgorithmOf(key: KeyObject): { type: 'RSA' | 'ECDSA' | 'Ed25519'; bits: number; curve?: string; name: string } {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { type: 'RSA', bits: d.modulusLength ?? 0, name: `RSA-${d.modulusLength}` };
    case 'ec': {
      const curve = d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : d.namedCurve === 'secp521r1' ? 'P-521' : String(d.namedCurve);
      const bits = curve === 'P-256' ? 256 : curve === 'P-384' ? 384 : 521;
      return { type: 'ECDSA', bits, curve, name: `ECDSA-${curve.replace('-', '')}` };
    }
    case 'ed25519':
      return { type: 'Ed25519', bits: 256, name: 'Ed25519' };
    default:
      throw new KubepkiError('InvalidKey', `unsupported key type ${key.asymmetricKeyType}`);
  }
}

/** PEM of a private key as kubeadm writes it: PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY". */
export function privateKeyToPem(key: KeyObject): string {
  if (key.asymmetricKeyType === 'rsa') return key.export({ type: 'pkcs1', format: 'pem' }) as string;
  if (key.asymmetricKeyType === 'ec') return key.export({ type: 'sec1', format: 'pem' }) as string;
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** PKIX "PUBLIC KEY" PEM (sa.pub). */
export function publicKeyToPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }) as string;
}

export function publicKeyToDer(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}

const PRIVATE_KEY_TYPES = new Set(['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY']);

/** Reads the first private key of a PEM text (PKCS#1, SEC1 or PKCS#8). `what` names the source in errors. */
export function parsePrivateKeyPem(pem: string, what = 'private key'): KeyObject {
  const blocks = decodePem(pem, what);
  const block = blocks.find((b) => PRIVATE_KEY_TYPES.has(b.type));
  if (!block) {
    if (blocks.some((b) => b.type === 'ENCRYPTED PRIVATE KEY' || b.headers?.['Proc-Type']?.includes('ENCRYPTED'))) {
      throw new KubepkiError('InvalidKey', `${what}: encrypted private keys are not supported`);
    }
    throw new KubepkiError('InvalidKey', `${what}: no private key found (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)`);
  }
  try {
    const type = block.type === 'RSA PRIVATE KEY' ? 'pkcs1' : block.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
    return createPrivateKey({ key: Buffer.from(block.der), format: 'der', type });
  } catch (err) {
    throw new KubepkiError('InvalidKey', `${what}: cannot parse private key: ${(err as Error).message}`, { cause: err });
  }
}

export function parsePublicKeyPem(pem: string, what = 'public key'): KeyObject {
  const blocks = decodePem(pem, what);
  const block = blocks.find((b) => b.type === 'PUBLIC KEY' || b.type === 'RSA PUBLIC KEY');
  if (!block) throw new KubepkiError('InvalidKey', `${what}: no PUBLIC KEY block found`);
  try {
    return createPublicKey({ key: Buffer.from(block.der), format: 'der', type: block.type === 'PUBLIC KEY' ? 'spki' : 'pkcs1' });
  } catch (err) {
    throw new KubepkiError('InvalidKey', `${what}: cannot parse public key: ${(err as Error).message}`, { cause: err });
  }
}

/** True when the private key belongs to the public key (compares the derived SPKI bytes). */
export function keyMatchesPublicKey(privateKey: KeyObject, publicKey: KeyObject): boolean {
  const a = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const b = publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.compare(a, b) === 0;
}

/** Digest of a signature; the default is the one Go's x509 picks for the key (see signingAlgorithmFor). */
export type SignatureHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

/**
 * WebCrypto algorithm used to sign with a key of this kind (SHA-256, or SHA-384 for P-384 as Go picks).
 * `hash` overrides the digest (cfssl signs with SHA-384/SHA-512 for RSA keys of 3072/4096+ bits).
 */
export function signingAlgorithmFor(key: KeyObject, hash?: SignatureHash): webcrypto.RsaHashedImportParams | (webcrypto.EcKeyImportParams & { hash: string }) {
  const alg = keyAlgorithmOf(key);
  if (alg.type === 'RSA') return { name: 'RSASSA-PKCS1-v1_5', hash: hash ?? 'SHA-256' };
  if (alg.type === 'ECDSA') {
    const defaultHash = alg.curve === 'P-384' ? 'SHA-384' : alg.curve === 'P-521' ? 'SHA-512' : 'SHA-256';
    return { name: 'ECDSA', namedCurve: alg.curve!, hash: hash ?? defaultHash };
  }
  throw new KubepkiError('Unsupported', `signing with ${alg.name} keys is not supported`);
}
