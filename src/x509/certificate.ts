// X.509 certificates: issuing (self-signed CAs and CA-signed leaves, with SKI/AKI and random serials) and
// parsing into a plain, typed description that the rest of kubepki reads instead of ASN.1.
import { createHash, createPublicKey, randomBytes, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { x509 } from './provider.js';
import { decodePem, encodePem } from './pem.js';
import { fromName, toJsonName, type DistinguishedName } from './names.js';
import { emptySans, canonicalIp, type SubjectAltNames } from './san.js';
import { keyAlgorithmOf, signingAlgorithmFor, toSigningKey, type KeyPair, type SignatureHash } from './keys.js';

export interface CertificateTemplate {
  subject: DistinguishedName;
  sans?: SubjectAltNames;
  notBefore: Date;
  notAfter: Date;
  isCA?: boolean;
  /** Basic constraints pathLenConstraint for CAs; undefined = none. */
  maxPathLen?: number;
  /** Bit mask of usages.ts KEY_USAGE_BITS. */
  keyUsage: number;
  /** EKU OIDs. */
  extKeyUsages: string[];
  /** Hex serial; default: a random positive serial of 128+ bits. */
  serialNumber?: string;
  /** Leave out the Authority Key Identifier (Go, and so cfssl, writes none on a self-signed certificate). */
  omitAuthorityKeyId?: boolean;
}

/** The CA that signs: its certificate and private key. */
export interface CertificateIssuer {
  certificate: Certificate;
  privateKey: KeyObject;
}

/** A parsed certificate. Immutable; `der` is the exact encoding. */
export interface Certificate {
  der: Uint8Array;
  pem: string;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** Lower-case hex, no leading zero byte. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  maxPathLen: number | undefined;
  keyUsage: number;
  extKeyUsages: string[];
  sans: SubjectAltNames;
  /** Lower-case hex, or '' when absent. */
  subjectKeyId: string;
  authorityKeyId: string;
  publicKey: KeyObject;
  signatureAlgorithm: string;
  /** Raw DER of the subject and issuer names (for exact issuer/subject matching). */
  rawSubject: Uint8Array;
  rawIssuer: Uint8Array;
}

/** 17 random bytes with the top bit clear: positive, at least 128 bits of randomness, ≤ 20 octets (RFC 5280). */
export function randomSerialNumber(): string {
  const bytes = randomBytes(17);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function buildExtensions(template: CertificateTemplate, publicKey: KeyObject, authorityKeyId: string): Promise<x509.Extension[]> {
  const exts: x509.Extension[] = [];
  // No key usage bits → no extension (as Go): an empty critical KeyUsage would make the certificate unusable.
  if (template.keyUsage !== 0) exts.push(new x509.KeyUsagesExtension(template.keyUsage as x509.KeyUsageFlags, true));
  if (template.extKeyUsages.length > 0) exts.push(new x509.ExtendedKeyUsageExtension(template.extKeyUsages, false));
  exts.push(new x509.BasicConstraintsExtension(template.isCA === true, template.isCA ? template.maxPathLen : undefined, true));
  const ski = subjectKeyIdOf(publicKey);
  exts.push(new x509.SubjectKeyIdentifierExtension(ski, false));
  if (!template.omitAuthorityKeyId) exts.push(new x509.AuthorityKeyIdentifierExtension(authorityKeyId || ski, false));
  const sans = template.sans ?? emptySans();
  const names: x509.JsonGeneralNames = [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value: canonicalIp(value) ?? value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  return exts;
}

/**
 * Key identifier as Go and RFC 5280 §4.2.1.2 method 1 compute it: SHA-1 of the subjectPublicKey BIT STRING.
 * The SPKI is SEQUENCE { AlgorithmIdentifier, BIT STRING }, so the bit string is the last element.
 */
export function subjectKeyIdOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const outer = derElement(spki, 0); // SEQUENCE
  const alg = derElement(spki, outer.contentStart); // AlgorithmIdentifier
  const bits = derElement(spki, alg.end); // BIT STRING: first content byte is the unused-bits count
  return createHash('sha1').update(spki.subarray(bits.contentStart + 1, bits.end)).digest('hex');
}

/** Header of the DER element at `offset`: where its content starts and where it ends. */
function derElement(buf: Buffer, offset: number): { contentStart: number; end: number } {
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  return { contentStart: start, end: start + len };
}

/** Signs a certificate for `publicKey` with the issuer's key, or self-signs with `selfSignKey`. */
export async function issueCertificate(options: {
  template: CertificateTemplate;
  publicKey: KeyObject;
  issuer: CertificateIssuer | { selfSigned: KeyPair };
  /** Digest of the signature; default: Go's choice for the signing key. */
  signatureHash?: SignatureHash;
  /** Let the certificate expire after its CA (cfssl does not cap a profile's expiry at the CA's). */
  allowOutlivingIssuer?: boolean;
}): Promise<Certificate> {
  const { template, publicKey, issuer, signatureHash } = options;
  const selfSigned = 'selfSigned' in issuer;
  const signerKey = selfSigned ? issuer.selfSigned.privateKey : issuer.privateKey;
  if (!selfSigned) {
    if (!issuer.certificate.isCA) throw new KubepkiError('InvalidCertificate', 'the issuing certificate is not a CA (basic constraints CA:FALSE)');
    if (!options.allowOutlivingIssuer && template.notAfter > issuer.certificate.notAfter) {
      throw new KubepkiError('InvalidArgument', `the certificate would outlive its CA (CA expires ${issuer.certificate.notAfter.toISOString()})`);
    }
  }
  const extensions = await buildExtensions(template, publicKey, selfSigned ? '' : issuer.certificate.subjectKeyId);
  const signingKey = await toSigningKey(signerKey, signatureHash);
  const alg = signingAlgorithmFor(signerKey, signatureHash);
  const subject = new x509.Name(toJsonName(template.subject));
  const issuerName = selfSigned ? subject : new x509.Name(issuer.certificate.rawSubject);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: template.serialNumber ?? randomSerialNumber(),
    subject,
    issuer: issuerName,
    notBefore: template.notBefore,
    notAfter: template.notAfter,
    publicKey: new x509.PublicKey(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))),
    signingKey: signingKey as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never,
    signingAlgorithm: { name: alg.name, hash: alg.hash } as unknown as Algorithm,
    extensions,
  });
  return parseCertificateDer(new Uint8Array(cert.rawData));
}

type Algorithm = { name: string };

/** Parses one DER certificate. */
export function parseCertificateDer(der: Uint8Array, what = 'certificate'): Certificate {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(der);
  } catch (err) {
    throw new KubepkiError('InvalidCertificate', `${what}: not a valid X.509 certificate: ${(err as Error).message}`, { cause: err });
  }
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const bc = cert.getExtension(x509.BasicConstraintsExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = emptySans();
  for (const n of san?.names.items ?? []) {
    if (n.type === 'dns') sans.dnsNames.push(n.value);
    else if (n.type === 'ip') sans.ipAddresses.push(canonicalIp(n.value) ?? n.value);
    else if (n.type === 'email') sans.emailAddresses.push(n.value);
    else if (n.type === 'url') sans.uris.push(n.value);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(cert.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (err) {
    throw new KubepkiError('InvalidCertificate', `${what}: unsupported public key: ${(err as Error).message}`, { cause: err });
  }
  const serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=[0-9a-f])/, '');
  return {
    der,
    pem: encodePem('CERTIFICATE', der),
    subject: fromName(cert.subjectName),
    issuer: fromName(cert.issuerName),
    serialNumber: serial === '' ? '0' : serial,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: bc?.ca ?? false,
    maxPathLen: bc?.pathLength,
    keyUsage: ku?.usages ?? 0,
    extKeyUsages: Array.from(eku?.usages ?? [], String),
    sans,
    subjectKeyId: ski?.keyId.toLowerCase() ?? '',
    authorityKeyId: aki?.keyId?.toLowerCase() ?? '',
    publicKey,
    signatureAlgorithm: signatureAlgorithmName(cert),
    rawSubject: new Uint8Array(cert.subjectName.toArrayBuffer()),
    rawIssuer: new Uint8Array(cert.issuerName.toArrayBuffer()),
  };
}

function signatureAlgorithmName(cert: x509.X509Certificate): string {
  const a = cert.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  const hash = (a.hash?.name ?? '').replace('-', '');
  if (a.name === 'RSASSA-PKCS1-v1_5') return `${hash}-RSA`;
  if (a.name === 'ECDSA') return `ECDSA-${hash}`;
  if (a.name === 'RSA-PSS') return `${hash}-RSAPSS`;
  return a.name ?? 'unknown';
}

/** Every certificate of a PEM text (a bundle gives several). */
export function parseCertificatesPem(pem: string, what = 'certificate'): Certificate[] {
  const blocks = decodePem(pem, what).filter((b) => b.type === 'CERTIFICATE');
  if (blocks.length === 0) throw new KubepkiError('InvalidCertificate', `${what}: no CERTIFICATE block found`);
  return blocks.map((b, i) => parseCertificateDer(b.der, blocks.length > 1 ? `${what} (certificate ${i + 1})` : what));
}

/** Exactly one certificate; a bundle is an error (e.g. --cluster-signing-cert-file must not be a bundle). */
export function parseCertificatePem(pem: string, what = 'certificate'): Certificate {
  const certs = parseCertificatesPem(pem, what);
  if (certs.length !== 1) throw new KubepkiError('InvalidCertificate', `${what}: expected one certificate, found a bundle of ${certs.length}`);
  return certs[0]!;
}

/** True when `cert` is signed by `issuerCert`'s key and names it as issuer (native signature check). */
export function isSignedBy(cert: Certificate, issuerCert: Certificate): boolean {
  if (Buffer.compare(Buffer.from(cert.rawIssuer), Buffer.from(issuerCert.rawSubject)) !== 0) return false;
  try {
    return new NodeX509(Buffer.from(cert.der)).verify(issuerCert.publicKey);
  } catch {
    return false;
  }
}

/** Fingerprint (SHA-256 by default) as upper-case colon-separated hex, as openssl prints it. */
export function fingerprint(cert: Certificate, algorithm: 'sha1' | 'sha256' = 'sha256'): string {
  return createHash(algorithm).update(cert.der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

export function publicKeyDescription(cert: Certificate): string {
  return keyAlgorithmOf(cert.publicKey).name;
}
