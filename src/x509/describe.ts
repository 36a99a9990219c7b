// Human- and machine-readable descriptions of certificates and CSRs: what `kubepki certs inspect` prints, in
// the spirit of `openssl x509 -text` (text) and `cfssl certinfo` (JSON). Pure: takes parsed values, returns data.
import { keyAlgorithmOf } from './keys.js';
import { fingerprint, type Certificate } from './certificate.js';
import type { CertificateRequest } from './csr.js';
import { formatName, type DistinguishedName } from './names.js';
import type { SubjectAltNames } from './san.js';
import { extKeyUsageName, keyUsageNames } from './usages.js';
import { formatTime } from '../util/time.js';

export interface CertificateDescription {
  kind: 'Certificate';
  subject: string;
  subjectFields: DistinguishedName;
  issuer: string;
  issuerFields: DistinguishedName;
  /** Lower-case hex, and decimal as cfssl certinfo prints it. */
  serialNumber: string;
  serialNumberDecimal: string;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  maxPathLen?: number;
  keyUsage: string[];
  extKeyUsage: string[];
  sans: SubjectAltNames;
  subjectKeyId: string;
  authorityKeyId: string;
  publicKey: string;
  signatureAlgorithm: string;
  sha256Fingerprint: string;
  sha1Fingerprint: string;
}

export interface CertificateRequestDescription {
  kind: 'CertificateSigningRequest';
  subject: string;
  subjectFields: DistinguishedName;
  sans: SubjectAltNames;
  publicKey: string;
  signatureAlgorithm: string;
  requestedKeyUsage: string[];
  requestedExtKeyUsage: string[];
  requestedIsCA?: boolean;
}

/** Colon-separated upper-case hex, as openssl and cfssl print key identifiers. */
export function colonHex(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}

export function describeCertificate(cert: Certificate): CertificateDescription {
  const d: CertificateDescription = {
    kind: 'Certificate',
    subject: formatName(cert.subject),
    subjectFields: cert.subject,
    issuer: formatName(cert.issuer),
    issuerFields: cert.issuer,
    serialNumber: cert.serialNumber,
    serialNumberDecimal: BigInt(`0x${cert.serialNumber}`).toString(10),
    notBefore: formatTime(cert.notBefore),
    notAfter: formatTime(cert.notAfter),
    isCA: cert.isCA,
    keyUsage: keyUsageNames(cert.keyUsage),
    extKeyUsage: cert.extKeyUsages.map(extKeyUsageName),
    sans: cert.sans,
    subjectKeyId: colonHex(cert.subjectKeyId),
    authorityKeyId: colonHex(cert.authorityKeyId),
    publicKey: keyAlgorithmOf(cert.publicKey).name,
    signatureAlgorithm: cert.signatureAlgorithm,
    sha256Fingerprint: fingerprint(cert, 'sha256'),
    sha1Fingerprint: fingerprint(cert, 'sha1'),
  };
  if (cert.maxPathLen !== undefined) d.maxPathLen = cert.maxPathLen;
  return d;
}

export function describeCertificateRequest(csr: CertificateRequest): CertificateRequestDescription {
  const d: CertificateRequestDescription = {
    kind: 'CertificateSigningRequest',
    subject: formatName(csr.subject),
    subjectFields: csr.subject,
    sans: csr.sans,
    publicKey: keyAlgorithmOf(csr.publicKey).name,
    signatureAlgorithm: csr.signatureAlgorithm.name,
    requestedKeyUsage: keyUsageNames(csr.requestedKeyUsage),
    requestedExtKeyUsage: csr.requestedExtKeyUsages.map(extKeyUsageName),
  };
  if (csr.requestedIsCA !== undefined) d.requestedIsCA = csr.requestedIsCA;
  return d;
}

/** openssl's names for the usages (X509v3 Key Usage / Extended Key Usage lines). */
const OPENSSL_KU: Record<string, string> = {
  'digital signature': 'Digital Signature',
  'content commitment': 'Non Repudiation',
  'key encipherment': 'Key Encipherment',
  'data encipherment': 'Data Encipherment',
  'key agreement': 'Key Agreement',
  'cert sign': 'Certificate Sign',
  'crl sign': 'CRL Sign',
  'encipher only': 'Encipher Only',
  'decipher only': 'Decipher Only',
};
const OPENSSL_EKU: Record<string, string> = {
  'server auth': 'TLS Web Server Authentication',
  'client auth': 'TLS Web Client Authentication',
  'code signing': 'Code Signing',
  'email protection': 'E-mail Protection',
  timestamping: 'Time Stamping',
  'ocsp signing': 'OCSP Signing',
  any: 'Any Extended Key Usage',
};

function sanLine(sans: SubjectAltNames): string {
  return [
    ...sans.dnsNames.map((v) => `DNS:${v}`),
    ...sans.emailAddresses.map((v) => `email:${v}`),
    ...sans.ipAddresses.map((v) => `IP Address:${v}`),
    ...sans.uris.map((v) => `URI:${v}`),
  ].join(', ');
}

/** An `openssl x509 -text`-like dump (without the key modulus and signature bytes). */
export function formatCertificateText(cert: Certificate): string {
  const d = describeCertificate(cert);
  const lines = [
    'Certificate:',
    `    Serial Number: ${colonHex(d.serialNumber.length % 2 ? `0${d.serialNumber}` : d.serialNumber).toLowerCase()}`,
    `    Signature Algorithm: ${d.signatureAlgorithm}`,
    `    Issuer: ${d.issuer}`,
    '    Validity',
    `        Not Before: ${d.notBefore}`,
    `        Not After : ${d.notAfter}`,
    `    Subject: ${d.subject}`,
    `    Subject Public Key Info: ${d.publicKey}`,
    '    X509v3 extensions:',
  ];
  if (d.keyUsage.length > 0) lines.push('        X509v3 Key Usage: critical', `            ${d.keyUsage.map((k) => OPENSSL_KU[k] ?? k).join(', ')}`);
  if (d.extKeyUsage.length > 0) lines.push('        X509v3 Extended Key Usage:', `            ${d.extKeyUsage.map((k) => OPENSSL_EKU[k] ?? k).join(', ')}`);
  lines.push('        X509v3 Basic Constraints: critical', `            CA:${d.isCA ? 'TRUE' : 'FALSE'}${d.maxPathLen !== undefined ? `, pathlen:${d.maxPathLen}` : ''}`);
  if (d.subjectKeyId) lines.push('        X509v3 Subject Key Identifier:', `            ${d.subjectKeyId}`);
  if (d.authorityKeyId) lines.push('        X509v3 Authority Key Identifier:', `            ${d.authorityKeyId}`);
  const san = sanLine(d.sans);
  if (san) lines.push('        X509v3 Subject Alternative Name:', `            ${san}`);
  lines.push(`    SHA256 Fingerprint: ${d.sha256Fingerprint}`);
  return lines.join('\n') + '\n';
}

/** An `openssl req -text`-like dump of a CSR. */
export function formatCertificateRequestText(csr: CertificateRequest): string {
  const d = describeCertificateRequest(csr);
  const lines = ['Certificate Request:', `    Subject: ${d.subject}`, `    Subject Public Key Info: ${d.publicKey}`, `    Signature Algorithm: ${d.signatureAlgorithm}`];
  const san = sanLine(d.sans);
  if (san || d.requestedKeyUsage.length || d.requestedExtKeyUsage.length || d.requestedIsCA !== undefined) lines.push('    Requested Extensions:');
  if (d.requestedKeyUsage.length) lines.push('        X509v3 Key Usage:', `            ${d.requestedKeyUsage.map((k) => OPENSSL_KU[k] ?? k).join(', ')}`);
  if (d.requestedExtKeyUsage.length) lines.push('        X509v3 Extended Key Usage:', `            ${d.requestedExtKeyUsage.map((k) => OPENSSL_EKU[k] ?? k).join(', ')}`);
  if (d.requestedIsCA !== undefined) lines.push('        X509v3 Basic Constraints:', `            CA:${d.requestedIsCA ? 'TRUE' : 'FALSE'}`);
  if (san) lines.push('        X509v3 Subject Alternative Name:', `            ${san}`);
  return lines.join('\n') + '\n';
}

