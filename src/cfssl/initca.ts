// `cfssl gencert -initca csr.json` (and genkey -initca): a self-signed CA with cfssl's CA policy —
// cert sign + crl sign, CA:TRUE with the "ca" section's pathlen, 5 years unless "ca.expiry".
import type { Clock } from '../util/clock.js';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { generateKeyPairFromSpec, privateKeyToPem, type KeyPair } from '../x509/index.js';
import { csrFor, keySpecOf, validateCsrJson, type CsrJson } from './csr-json.js';
import { initCaProfile } from './ca-config.js';
import { cfsslSign } from './signer.js';
import type { CfsslResponse } from './response.js';

/**
 * `existingKey` re-issues a CA for a key it already has (`gencert -initca -ca-key`); the key is then not
 * printed, as cfssl does not print it.
 */
export async function initCa(options: { request: CsrJson; clock: Clock; existingKey?: KeyObject }): Promise<CfsslResponse> {
  const { request, clock, existingKey } = options;
  validateCsrJson(request);
  const keyPair: KeyPair = existingKey
    ? { privateKey: existingKey, publicKey: createPublicKey(existingKey) }
    : await generateKeyPairFromSpec(keySpecOf(request));
  const csr = await csrFor(request, keyPair, request.hosts);
  const ca = request.ca;
  const profile = initCaProfile({
    ...(ca?.expiryMs === undefined ? {} : { expiryMs: ca.expiryMs }),
    ...(ca?.backdateMs === undefined ? {} : { backdateMs: ca.backdateMs }),
    // pathlen > 0 wins over pathlenzero, as in cfssl.
    maxPathLen: ca?.pathlen ?? 0,
    maxPathLenZero: ca?.pathlenzero ?? false,
  });
  const cert = await cfsslSign({ request: csr, hosts: request.hosts, profile, defaultProfile: profile, issuer: { selfSigned: keyPair }, clock });
  return existingKey ? { cert: cert.pem, csr: csr.pem } : { cert: cert.pem, csr: csr.pem, key: privateKeyToPem(keyPair.privateKey) };
}
