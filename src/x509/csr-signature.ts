// The one check of a PKCS#10 request's self-signature: Go's CertificateRequest.CheckSignature, with its
// rules (SHA-1 allowed for requests, MD2/MD5 refused as insecure, the key type must be the algorithm's) and
// its messages. Node's verify runs on libuv's thread pool here; signature-workers.ts runs parse + check on
// worker threads when the caller wants the key import off the event loop too (the API server's create path).
import { constants, verify } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import type { CertificateRequest } from './certificate-request.js';

const GO_KEY_TYPES: Record<string, string> = { RSA: '*rsa.PublicKey', ECDSA: '*ecdsa.PublicKey', Ed25519: 'ed25519.PublicKey', DSA: '*dsa.PublicKey', X25519: '*ecdh.PublicKey' };

const refuse = (message: string): never => {
  throw new KubepkiError('SignatureInvalid', message);
};

/**
 * Resolves when `csr`'s signature verifies with its own public key; rejects with a KubepkiError
 * (SignatureInvalid, Go's message) otherwise. `onThisThread` verifies synchronously (a worker thread's own
 * job: no hop to libuv's pool); by default the verification runs on the pool.
 */
export async function checkCsrSignature(csr: CertificateRequest, options: { onThisThread?: boolean } = {}): Promise<void> {
  const alg = csr.signatureAlgorithm;
  if (alg.name === 'Unknown') refuse('x509: cannot verify signature: algorithm unimplemented');
  if (alg.insecure) refuse(`x509: cannot verify signature: insecure algorithm ${alg.name}`);
  if (csr.publicKeyAlgorithm === 'Unknown') refuse('x509: cannot verify signature: algorithm unimplemented');
  if (alg.publicKeyAlgorithm !== csr.publicKeyAlgorithm) {
    refuse(`x509: signature algorithm specifies an ${alg.publicKeyAlgorithm} public key, but have public key of type ${GO_KEY_TYPES[csr.publicKeyAlgorithm] ?? csr.publicKeyAlgorithm}`);
  }
  // Go verifies no DSA signature any more.
  if (alg.publicKeyAlgorithm === 'DSA') refuse('x509: cannot verify signature: algorithm unimplemented');
  let key;
  try {
    key = csr.publicKey;
  } catch (err) {
    return refuse((err as Error).message);
  }
  const k = alg.pssSaltLength === undefined ? key : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg.pssSaltLength };
  const ok = options.onThisThread
    ? verifyHere(alg.hash, csr, k)
    : await new Promise<boolean>((resolve) => {
        try {
          verify(alg.hash, csr.tbs, k, csr.signature, (err, result) => resolve(!err && result));
        } catch {
          resolve(false);
        }
      });
  if (ok) return;
  if (alg.publicKeyAlgorithm === 'ECDSA') refuse('x509: ECDSA verification failure');
  if (alg.publicKeyAlgorithm === 'Ed25519') refuse('x509: Ed25519 verification failure');
  refuse('crypto/rsa: verification error');
}

function verifyHere(hash: string | null, csr: CertificateRequest, key: Parameters<typeof verify>[2]): boolean {
  try {
    return verify(hash, csr.tbs, key, csr.signature);
  } catch {
    return false;
  }
}
