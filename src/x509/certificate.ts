// X.509 certificates: issuing (self-signed CAs and CA-signed leaves, with SKI/AKI and random serials) and
// parsing into a plain, typed description that the rest of kubepki reads instead of ASN.1.
import { createHash, createPublicKey, randomBytes, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import * as der from './der.js';
import { extension, signAsync, signatureAlgorithmIdentifier, subjectAltNameValue } from './signed-der.js';
import { encodePem } from './pem.js';
import { encodeName, normalizeName, type DistinguishedName } from './names.js';
import { emptySans, canonicalIp, type SubjectAltNames } from './san.js';
import { keyAlgorithmOf, signingAlgorithmFor, type KeyPair, type SignatureHash } from './keys.js';

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

const OID = {
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  subjectAltName: '2.5.29.17',
} as const;

/** The extensions kubepki writes, in this order: key usage, EKU, basic constraints, SKI, AKI, SAN (as Go). */
function buildExtensions(template: CertificateTemplate, ski: string, authorityKeyId: string): Buffer[] {
  const exts: Buffer[] = [];
  // No key usage bits → no extension (as Go): an empty critical KeyUsage would make the certificate unusable.
  if (template.keyUsage !== 0) exts.push(extension(OID.keyUsage, true, der.namedBitString(template.keyUsage)));
  if (template.extKeyUsages.length > 0) exts.push(extension(OID.extKeyUsage, false, der.sequence(...template.extKeyUsages.map(der.oid))));
  const bc = template.isCA ? [der.boolean(true), ...(template.maxPathLen !== undefined ? [der.integer(template.maxPathLen)] : [])] : [];
  exts.push(extension(OID.basicConstraints, true, der.sequence(...bc)));
  exts.push(extension(OID.subjectKeyId, false, der.octetString(Buffer.from(ski, 'hex'))));
  if (!template.omitAuthorityKeyId) exts.push(extension(OID.authorityKeyId, false, der.sequence(der.implicitPrimitive(0, Buffer.from(authorityKeyId || ski, 'hex')))));
  const names = subjectAltNameValue(template.sans ?? emptySans());
  if (names) exts.push(extension(OID.subjectAltName, false, names));
  return exts;
}

/** Seconds precision, as the certificate stores it. */
const toSecond = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/**
 * Key identifier as Go and RFC 5280 §4.2.1.2 method 1 compute it: SHA-1 of the subjectPublicKey BIT STRING.
 * The SPKI is SEQUENCE { AlgorithmIdentifier, BIT STRING }, so the bit string is the last element.
 */
export function subjectKeyIdOf(publicKey: KeyObject): string {
  return subjectKeyIdOfSpki(publicKey.export({ type: 'spki', format: 'der' }));
}

/** subjectKeyIdOf for an already exported SPKI (exporting an EC key costs as much as an ECDSA signature). */
function subjectKeyIdOfSpki(spki: Buffer): string {
  const outer = derElement(spki, 0); // SEQUENCE
  const alg = derElement(spki, outer.contentStart); // AlgorithmIdentifier
  const bits = derElement(spki, alg.end); // BIT STRING: first content byte is the unused-bits count
  return createHash('sha1').update(spki.subarray(bits.contentStart + 1, bits.end)).digest('hex');
}

const EC_CURVE_OIDS: Record<string, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' };

/**
 * The DER SubjectPublicKeyInfo of an RSA or EC key, encoded here from the key's JWK (as Go's
 * MarshalPKIXPublicKey does: rsaEncryption with NULL parameters; named curve, uncompressed point). OpenSSL
 * 3's SPKI encoder costs ~0.1 ms per key, the JWK export a few µs; other key types go through the encoder.
 */
export function spkiOf(publicKey: KeyObject): Buffer {
  const type = publicKey.asymmetricKeyType;
  if (type === 'rsa') {
    const jwk = publicKey.export({ format: 'jwk' });
    const n = der.tlv(0x02, unsignedInteger(Buffer.from(jwk.n!, 'base64url')));
    const e = der.tlv(0x02, unsignedInteger(Buffer.from(jwk.e!, 'base64url')));
    return der.sequence(der.sequence(der.oid('1.2.840.113549.1.1.1'), der.nullValue()), der.bitString(der.sequence(n, e)));
  }
  if (type === 'ec') {
    const jwk = publicKey.export({ format: 'jwk' });
    const curve = EC_CURVE_OIDS[jwk.crv ?? ''];
    if (curve) {
      const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
      return der.sequence(der.sequence(der.oid('1.2.840.10045.2.1'), der.oid(curve)), der.bitString(point));
    }
  }
  return publicKey.export({ type: 'spki', format: 'der' });
}

/** What spkiOf writes for a named-curve EC key, less the point's coordinates: the prefix per coordinate size. */
const EC_SPKI_PREFIXES = new Map(
  Object.entries(EC_CURVE_OIDS).map(([, curve]) => {
    const size = curve === EC_CURVE_OIDS['P-256'] ? 32 : curve === EC_CURVE_OIDS['P-384'] ? 48 : 66;
    const spki = der.sequence(der.sequence(der.oid('1.2.840.10045.2.1'), der.oid(curve)), der.bitString(Buffer.alloc(1 + 2 * size, 4)));
    return [spki.length, spki.subarray(0, spki.length - 2 * size)] as const;
  }),
);

/**
 * True when `spki` is byte for byte what spkiOf (and Go's MarshalPKIXPublicKey) writes for its key: a P-256,
 * P-384 or P-521 key with an uncompressed point. Says nothing of whether the point is on the curve.
 */
export function isCanonicalEcSpki(spki: Uint8Array): boolean {
  const prefix = EC_SPKI_PREFIXES.get(spki.length);
  return prefix !== undefined && Buffer.from(spki.buffer, spki.byteOffset, prefix.length).equals(prefix);
}

/** Minimal two's-complement content of a non-negative big-endian integer. */
function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
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
  /**
   * The subject's key, or its SubjectPublicKeyInfo when the caller holds it already verified and in the
   * canonical form (isCanonicalEcSpki): it is then copied as is, and the key is imported only if read.
   */
  publicKey: KeyObject | { spki: Uint8Array };
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
  // The certificate is encoded here (der.ts) and signed with Node's crypto on the libuv pool; the returned
  // description is built from the same values, so issuing never needs an ASN.1 parser.
  const hash = String(signingAlgorithmFor(signerKey, signatureHash).hash); // throws for key types we cannot sign with
  const algorithm = signatureAlgorithmIdentifier(keyAlgorithmOf(signerKey).type as 'RSA' | 'ECDSA', hash);
  if ('spki' in publicKey && !isCanonicalEcSpki(publicKey.spki)) throw new KubepkiError('InvalidArgument', 'the public key is not a canonical EC SubjectPublicKeyInfo');
  const spki = 'spki' in publicKey ? Buffer.from(publicKey.spki) : spkiOf(publicKey);
  const ski = subjectKeyIdOfSpki(spki);
  const authorityKeyId = selfSigned ? '' : issuer.certificate.subjectKeyId;
  const rawSubject = encodeName(template.subject);
  const rawIssuer = selfSigned ? rawSubject : Buffer.from(issuer.certificate.rawSubject);
  const serialDer = der.integerFromHex(template.serialNumber ?? randomSerialNumber());
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    serialDer,
    algorithm.der,
    rawIssuer,
    der.sequence(der.time(template.notBefore), der.time(template.notAfter)),
    rawSubject,
    spki,
    der.explicit(3, der.sequence(...buildExtensions(template, ski, authorityKeyId))),
  );
  const signature = await signAsync(hash.replace('-', '').toLowerCase(), tbs, signerKey);
  const certDer = new Uint8Array(der.sequence(tbs, algorithm.der, der.bitString(signature)));
  const subject = normalizeName(template.subject);
  const serialContent = serialDer.subarray(2).toString('hex'); // short form: a serial is at most 21 bytes
  const sans = template.sans ?? emptySans();
  let subjectKey = 'spki' in publicKey || publicKey.type !== 'public' ? undefined : publicKey;
  return {
    der: certDer,
    pem: encodePem('CERTIFICATE', certDer),
    subject,
    issuer: selfSigned ? normalizeName(template.subject) : issuer.certificate.subject,
    serialNumber: serialContent.replace(/^(00)+(?=[0-9a-f])/, ''),
    notBefore: toSecond(template.notBefore),
    notAfter: toSecond(template.notAfter),
    isCA: template.isCA === true,
    maxPathLen: template.isCA ? template.maxPathLen : undefined,
    keyUsage: template.keyUsage,
    extKeyUsages: [...template.extKeyUsages],
    sans: {
      dnsNames: [...sans.dnsNames],
      ipAddresses: sans.ipAddresses.map((ip) => canonicalIp(ip) ?? ip),
      emailAddresses: [...sans.emailAddresses],
      uris: [...sans.uris],
    },
    subjectKeyId: ski,
    authorityKeyId: template.omitAuthorityKeyId ? '' : (authorityKeyId || ski).toLowerCase(),
    // Importing a key costs as much as an ECDSA signature: only on first read when the caller passed none.
    get publicKey(): KeyObject {
      return (subjectKey ??= createPublicKey({ key: spki, format: 'der', type: 'spki' }));
    },
    signatureAlgorithm: algorithm.name,
    rawSubject: new Uint8Array(rawSubject),
    rawIssuer: new Uint8Array(rawIssuer),
  };
}


export { parseCertificateDer, parseCertificatesPem, parseCertificatePem } from './certificate-parser.js';

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
