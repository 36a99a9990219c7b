// The DER pieces that certificates (certificate.ts) and requests (csr.ts) both write: an Extension, the
// subjectAltName value, the signature's AlgorithmIdentifier, and the signature itself (Node's crypto, on the
// libuv pool). Encoded with der.ts, as Go's x509 encodes them.
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import * as der from './der.js';
import { ipAddressBytes, type SubjectAltNames } from './san.js';

export function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value)) : der.sequence(der.oid(id), der.octetString(value));
}


/** The subjectAltName extension's value (DNS, e-mail, IP, URI names in that order, as Go), or undefined if none. */
export function subjectAltNameValue(sans: SubjectAltNames): Buffer | undefined {
  const names = [
    ...sans.dnsNames.map((v) => der.implicitPrimitive(2, Buffer.from(v, 'latin1'))),
    ...sans.emailAddresses.map((v) => der.implicitPrimitive(1, Buffer.from(v, 'latin1'))),
    ...sans.ipAddresses.map((v) => der.implicitPrimitive(7, ipBytes(v))),
    ...sans.uris.map((v) => der.implicitPrimitive(6, Buffer.from(v, 'latin1'))),
  ];
  return names.length > 0 ? der.sequence(...names) : undefined;
}

function ipBytes(value: string): Uint8Array {
  const bytes = ipAddressBytes(value);
  if (bytes === null) throw new KubepkiError('InvalidArgument', `"${value}" is not an IP address (IP SAN)`);
  return bytes;
}

export /** AlgorithmIdentifier of the signature: sha*WithRSAEncryption (NULL parameters) or ecdsa-with-SHA* (none). */
function signatureAlgorithmIdentifier(type: 'RSA' | 'ECDSA', hash: string): { der: Buffer; name: string } {
  const bits = hash.replace('SHA-', '');
  if (type === 'RSA') {
    const oidByBits: Record<string, string> = { '256': '1.2.840.113549.1.1.11', '384': '1.2.840.113549.1.1.12', '512': '1.2.840.113549.1.1.13' };
    return { der: der.sequence(der.oid(oidByBits[bits]!), der.nullValue()), name: `SHA${bits}-RSA` };
  }
  const oidByBits: Record<string, string> = { '256': '1.2.840.10045.4.3.2', '384': '1.2.840.10045.4.3.3', '512': '1.2.840.10045.4.3.4' };
  return { der: der.sequence(der.oid(oidByBits[bits]!)), name: `ECDSA-SHA${bits}` };
}

export const signAsync = (hash: string, data: Buffer, key: KeyObject) =>
  new Promise<Buffer>((resolve, reject) => nodeSign(hash, data, key, (err, sig) => (err ? reject(err) : resolve(sig))));
