// Certificates for path-validation tests, with every knob Go's verifier looks at: basic constraints present
// or not, path length, key usage, EKUs, SANs, name constraints, key IDs, validity, cross-signing (same
// subject and key under another issuer). Built with @peculiar/x509's generator and extensions encoded with
// der.ts, so the chains can hold what kubepki's own issuing path refuses to write.
import { createHash, webcrypto } from 'node:crypto';
import * as der from '../../../src/x509/der.js';
import { x509 } from '../../helpers/peculiar.js';
import { parseCertificatePem, type Certificate } from '../../../src/x509/certificate.js';
import { ipAddressBytes } from '../../../src/x509/san.js';

export interface Identity {
  cn: string;
  o?: string;
  keys: webcrypto.CryptoKeyPair;
  ski: Buffer;
}

export interface NameConstraintsSpec {
  permittedDns?: string[];
  excludedDns?: string[];
  /** CIDR text, e.g. 10.0.0.0/8 */
  permittedIps?: string[];
  excludedIps?: string[];
  permittedEmails?: string[];
  excludedEmails?: string[];
  permittedUris?: string[];
  excludedUris?: string[];
}

export interface CertSpec {
  subject: Identity;
  /** Signer; omitted = self-signed. */
  issuer?: Identity;
  notBefore: Date;
  notAfter: Date;
  /** true/false writes basic constraints; 'absent' writes none. */
  ca: boolean | 'absent';
  pathLen?: number;
  /** KU bit mask (usages.ts KEY_USAGE_BITS); 0 = no extension. */
  keyUsage?: number;
  ekus?: string[];
  dns?: string[];
  ips?: string[];
  emails?: string[];
  uris?: string[];
  nameConstraints?: NameConstraintsSpec;
  omitSki?: boolean;
  omitAki?: boolean;
  /** A critical extension Go does not know. */
  unknownCritical?: boolean;
}

export async function identity(cn: string, o?: string): Promise<Identity> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const raw = Buffer.from(await webcrypto.subtle.exportKey('raw', keys.publicKey));
  return { cn, o, keys, ski: createHash('sha1').update(raw).digest() };
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ipAddressBytes(ip)!);
}

function cidrBytes(cidr: string): Buffer {
  const [ip, bits] = cidr.split('/');
  const addr = ipBytes(ip!);
  const mask = Buffer.alloc(addr.length);
  let n = Number(bits);
  for (let i = 0; i < mask.length; i++) {
    const take = Math.min(8, Math.max(0, n));
    mask[i] = take === 0 ? 0 : (0xff << (8 - take)) & 0xff;
    n -= 8;
  }
  return Buffer.concat([addr, mask]);
}

function subtrees(spec: { dns?: string[]; ips?: string[]; emails?: string[]; uris?: string[] }): Buffer[] {
  return [
    ...(spec.dns ?? []).map((d) => der.sequence(der.implicitPrimitive(2, Buffer.from(d, 'latin1')))),
    ...(spec.ips ?? []).map((c) => der.sequence(der.implicitPrimitive(7, cidrBytes(c)))),
    ...(spec.emails ?? []).map((e) => der.sequence(der.implicitPrimitive(1, Buffer.from(e, 'latin1')))),
    ...(spec.uris ?? []).map((u) => der.sequence(der.implicitPrimitive(6, Buffer.from(u, 'latin1')))),
  ];
}

const dn = (id: Identity) => (id.o ? `O=${id.o}, CN=${id.cn}` : `CN=${id.cn}`);
let serial = 1;

export async function makeCert(spec: CertSpec): Promise<Certificate> {
  const ext = (oid: string, critical: boolean, value: Buffer) => new x509.Extension(oid, critical, value);
  const exts = [];
  if (spec.keyUsage) exts.push(ext('2.5.29.15', true, der.namedBitString(spec.keyUsage)));
  if (spec.ekus && spec.ekus.length > 0) exts.push(ext('2.5.29.37', false, der.sequence(...spec.ekus.map(der.oid))));
  if (spec.ca !== 'absent') {
    const bc = spec.ca ? [der.boolean(true), ...(spec.pathLen !== undefined ? [der.integer(spec.pathLen)] : [])] : [];
    exts.push(ext('2.5.29.19', true, der.sequence(...bc)));
  }
  if (!spec.omitSki) exts.push(ext('2.5.29.14', false, der.octetString(spec.subject.ski)));
  const issuer = spec.issuer ?? spec.subject;
  if (!spec.omitAki && spec.issuer) exts.push(ext('2.5.29.35', false, der.sequence(der.implicitPrimitive(0, issuer.ski))));
  const names = [
    ...(spec.dns ?? []).map((v) => der.implicitPrimitive(2, Buffer.from(v, 'latin1'))),
    ...(spec.emails ?? []).map((v) => der.implicitPrimitive(1, Buffer.from(v, 'latin1'))),
    ...(spec.ips ?? []).map((v) => der.implicitPrimitive(7, ipBytes(v))),
    ...(spec.uris ?? []).map((v) => der.implicitPrimitive(6, Buffer.from(v, 'latin1'))),
  ];
  if (names.length > 0) exts.push(ext('2.5.29.17', false, der.sequence(...names)));
  const nc = spec.nameConstraints;
  if (nc) {
    const permitted = subtrees({ dns: nc.permittedDns, ips: nc.permittedIps, emails: nc.permittedEmails, uris: nc.permittedUris });
    const excluded = subtrees({ dns: nc.excludedDns, ips: nc.excludedIps, emails: nc.excludedEmails, uris: nc.excludedUris });
    const parts = [...(permitted.length ? [der.tlv(0xa0, ...permitted)] : []), ...(excluded.length ? [der.tlv(0xa1, ...excluded)] : [])];
    exts.push(ext('2.5.29.30', true, der.sequence(...parts)));
  }
  if (spec.unknownCritical) exts.push(ext('1.3.6.1.4.1.99999.1', true, der.nullValue()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject: dn(spec.subject),
    issuer: dn(issuer),
    notBefore: spec.notBefore,
    notAfter: spec.notAfter,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: spec.subject.keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: exts,
  });
  return parseCertificatePem(cert.toString('pem'));
}
