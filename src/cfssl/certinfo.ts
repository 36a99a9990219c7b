// `cfssl certinfo -cert FILE`: cfssl's JSON description of a certificate, field for field (Go's field
// order, omitempty rules, "%X" key ids without zero padding, decimal serial, RFC 3339 times).
import { readNameAttributes } from '../x509/name-reader.js';
import type { Certificate, DistinguishedName } from '../x509/index.js';
import { goJsonStringify } from './go-json.js';

export interface CertInfoName {
  common_name?: string;
  serial_number?: string;
  country?: string;
  organization?: string;
  organizational_unit?: string;
  locality?: string;
  province?: string;
  street_address?: string;
  postal_code?: string;
  /** Every attribute value of the name, in the certificate's order. */
  names?: string[];
}

export interface CertInfo {
  subject: CertInfoName;
  issuer: CertInfoName;
  serial_number?: string;
  sans?: string[];
  not_before: string;
  not_after: string;
  sigalg: string;
  authority_key_id: string;
  subject_key_id: string;
  pem: string;
}

function nameInfo(dn: DistinguishedName, raw: Uint8Array): CertInfoName {
  const join = (v: string[] | undefined) => (v && v.length ? v.join(',') : undefined);
  const names = readNameAttributes(raw).map((a) => a.value);
  const out: CertInfoName = {
    common_name: dn.commonName || undefined,
    serial_number: dn.serialNumber || undefined,
    country: join(dn.country),
    organization: join(dn.organization),
    organizational_unit: join(dn.organizationalUnit),
    locality: join(dn.locality),
    province: join(dn.province),
    street_address: join(dn.streetAddress),
    postal_code: join(dn.postalCode),
    names: names.length ? names : undefined,
  };
  return out;
}

/** Go's "%X" of each byte, joined with ':' (so 0x0C prints as "C", as cfssl does). */
function keyIdText(hex: string): string {
  return (hex.match(/../g) ?? []).map((b) => parseInt(b, 16).toString(16).toUpperCase()).join(':');
}

/** Go's x509.SignatureAlgorithm names as cfssl's helpers.SignatureString prints them. */
function sigAlgName(name: string): string {
  let m = /^SHA(\d+)-RSA$/.exec(name);
  if (m) return `SHA${m[1]}WithRSA`;
  m = /^ECDSA-SHA(\d+)$/.exec(name);
  if (m) return `ECDSAWithSHA${m[1]}`;
  m = /^SHA(\d+)-RSAPSS$/.exec(name);
  if (m) return `SHA${m[1]}WithRSAPSS`;
  if (name === 'Ed25519') return 'Ed25519';
  return 'Unknown Signature';
}

/** Go's RFC 3339 for a UTC time: no fractional part when it is zero. */
function goTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

export function certInfo(cert: Certificate): CertInfo {
  // cfssl lists DNS names, then IP addresses (e-mail and URI names are not shown).
  const sans = [...cert.sans.dnsNames, ...cert.sans.ipAddresses];
  return {
    subject: nameInfo(cert.subject, cert.rawSubject),
    issuer: nameInfo(cert.issuer, cert.rawIssuer),
    serial_number: BigInt(`0x${cert.serialNumber}`).toString(10),
    sans: sans.length ? sans : undefined,
    not_before: goTime(cert.notBefore),
    not_after: goTime(cert.notAfter),
    sigalg: sigAlgName(cert.signatureAlgorithm),
    authority_key_id: keyIdText(cert.authorityKeyId),
    subject_key_id: keyIdText(cert.subjectKeyId),
    pem: cert.pem,
  };
}

/** The text `cfssl certinfo` prints: indented JSON and a newline. */
export function formatCertInfo(cert: Certificate): string {
  return `${goJsonStringify(certInfo(cert), '  ')}\n`;
}
