// Building and signing the certificate for an approved request, in the shape Go's x509.CreateCertificate
// gives kube's signer: v3, random 128-bit serial, issuer = the CA's subject, subject and public key copied
// from the request, key usage (critical), extended key usage (sorted as Go sorts them), basic constraints
// CA:FALSE (critical), authority key id = the CA's subject key id, SANs (DNS, email, IP, URI). The signature
// is computed on libuv's thread pool, so signing never stalls the event loop.
import { randomBytes, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../../util/errors.js';
import { keyAlgorithmOf } from '../../x509/keys.js';
import { EXT_KEY_USAGE_OIDS, parseUsages } from '../../x509/usages.js';
import type { Certificate } from '../../x509/certificate.js';
import type { SubjectAltNames } from '../../x509/san.js';
import {
  contextConstructed,
  contextPrimitive,
  encode,
  encodeBitString,
  encodeBoolean,
  encodeIA5,
  encodeOctetString,
  encodeOid,
  encodeSmallInteger,
  encodeTime,
  encodeUnsignedInteger,
  sequence,
  TAG,
} from './der.js';
import type { CertificateRequestInfo } from './request.js';
import type { Validity } from './policy.js';

/** A CA ready to sign: its parsed certificate, key, and the precomputed pieces every certificate repeats. */
export interface SigningAuthority {
  certificate: Certificate;
  privateKey: KeyObject;
  /** DER AlgorithmIdentifier of the CA's signature. */
  signatureAlgorithm: Uint8Array;
  /** Digest for crypto.sign (null for Ed25519). */
  hash: string | null;
}

const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
};

/** Go's choice of signature algorithm for a CA key (x509.signingParamsForKey). */
export function signingAuthority(certificate: Certificate, privateKey: KeyObject): SigningAuthority {
  const alg = keyAlgorithmOf(privateKey);
  const NULL = encode(TAG.NULL);
  if (alg.type === 'RSA') return { certificate, privateKey, signatureAlgorithm: sequence(encodeOid('1.2.840.113549.1.1.11'), NULL), hash: 'sha256' };
  if (alg.type === 'Ed25519') return { certificate, privateKey, signatureAlgorithm: sequence(encodeOid('1.3.101.112')), hash: null };
  const [oid, hash] =
    alg.curve === 'P-384' ? ['1.2.840.10045.4.3.3', 'sha384'] : alg.curve === 'P-521' ? ['1.2.840.10045.4.3.4', 'sha512'] : ['1.2.840.10045.4.3.2', 'sha256'];
  return { certificate, privateKey, signatureAlgorithm: sequence(encodeOid(oid)), hash };
}

/** EKU OIDs in Go's x509.ExtKeyUsage enum order (kube sorts them so). */
const EKU_ORDER: string[] = [...new Set(Object.values(EXT_KEY_USAGE_OIDS))];

/** Key usage bits and EKUs from certificates.k8s.io usage names, with kube's error for unknown ones. */
export function usagesToExtensions(usages: readonly string[]): { keyUsage: number; extKeyUsages: string[] } {
  const unknown = usages.filter((u) => {
    try {
      parseUsages([u]);
      return false;
    } catch {
      return true;
    }
  });
  if (unknown.length > 0) throw new KubepkiError('InvalidArgument', `unrecognized usage values: [${unknown.map((u) => JSON.stringify(u)).join(' ')}]`);
  const { keyUsage, extKeyUsages } = parseUsages(usages);
  return { keyUsage, extKeyUsages: [...extKeyUsages].sort((a, b) => EKU_ORDER.indexOf(a) - EKU_ORDER.indexOf(b)) };
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? sequence(encodeOid(oid), encodeBoolean(true), encodeOctetString(value)) : sequence(encodeOid(oid), encodeOctetString(value));
}

/** KeyUsage BIT STRING as Go marshals it: bit 0 = digitalSignature is the top bit, trailing zero bits trimmed. */
function keyUsageValue(mask: number): Uint8Array {
  const rev = (b: number) => {
    let r = 0;
    for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 1 << (7 - i);
    return r;
  };
  const bytes = [rev(mask & 0xff), rev((mask >> 8) & 0xff)];
  const used = bytes[1] !== 0 ? bytes : [bytes[0]!];
  const last = used[used.length - 1]!;
  let unused = 0;
  if (last !== 0) while (((last >> unused) & 1) === 0) unused++;
  return encodeBitString(Uint8Array.from(used), unused);
}

function ipBytes(ip: string): Uint8Array {
  if (ip.includes('.') && !ip.includes(':')) return Uint8Array.from(ip.split('.').map(Number));
  // Expand :: then write 8 groups.
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** GeneralNames in Go's order: DNS, email, IP, URI. */
function subjectAltNameValue(sans: SubjectAltNames): Uint8Array {
  return sequence(
    ...sans.dnsNames.map((d) => contextPrimitive(2, encodeIA5(d))),
    ...sans.emailAddresses.map((e) => contextPrimitive(1, encodeIA5(e))),
    ...sans.ipAddresses.map((ip) => contextPrimitive(7, ipBytes(ip))),
    ...sans.uris.map((u) => contextPrimitive(6, encodeIA5(u))),
  );
}

/** 128 random bits as a positive INTEGER (Go: rand.Int(rand.Reader, 2^128)). */
function randomSerial(): Uint8Array {
  for (;;) {
    const b = randomBytes(16);
    if (b.some((x) => x !== 0)) return encodeUnsignedInteger(b);
  }
}

function signAsync(hash: string | null, data: Uint8Array, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    cryptoSign(hash, data, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

/** Signs `request` with `authority`; returns the certificate's DER. */
export async function issueFromRequest(options: {
  authority: SigningAuthority;
  request: CertificateRequestInfo;
  usages: readonly string[];
  validity: Validity;
}): Promise<Uint8Array> {
  const { authority, request, usages, validity } = options;
  const { keyUsage, extKeyUsages } = usagesToExtensions(usages);
  const exts: Uint8Array[] = [];
  if (keyUsage !== 0) exts.push(extension(OID.keyUsage, true, keyUsageValue(keyUsage)));
  if (extKeyUsages.length > 0) exts.push(extension(OID.extKeyUsage, false, sequence(...extKeyUsages.map(encodeOid))));
  exts.push(extension(OID.basicConstraints, true, sequence()));
  const ski = authority.certificate.subjectKeyId;
  if (ski) exts.push(extension(OID.authorityKeyId, false, sequence(contextPrimitive(0, Buffer.from(ski, 'hex')))));
  const sans = request.sans;
  if (sans.dnsNames.length + sans.emailAddresses.length + sans.ipAddresses.length + sans.uris.length > 0) {
    // RFC 5280 §4.2.1.6: critical when the subject is empty.
    const emptySubject = request.rawSubject.length <= 2;
    exts.push(extension(OID.subjectAltName, emptySubject, subjectAltNameValue(sans)));
  }
  const tbs = sequence(
    contextConstructed(0, encodeSmallInteger(2)),
    randomSerial(),
    authority.signatureAlgorithm,
    authority.certificate.rawSubject,
    sequence(encodeTime(validity.notBefore), encodeTime(validity.notAfter)),
    request.rawSubject,
    request.spki,
    contextConstructed(3, sequence(...exts)),
  );
  const signature = await signAsync(authority.hash, tbs, authority.privateKey);
  return sequence(tbs, authority.signatureAlgorithm, encodeBitString(signature));
}
