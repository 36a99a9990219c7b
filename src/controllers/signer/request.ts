// Reading a CertificateSigningRequest's PKCS#10 request the way the signer and approver need it (Go's
// x509.ParseCertificateRequest + CheckSignature, as k8s.io/kubernetes/pkg/apis/certificates.ParseCSR uses):
// the raw subject to copy into the certificate, CN and O for the signer rules, the SANs, the public key, and
// a signature check that runs on libuv's thread pool instead of the event loop.
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import { ecJwk } from '../../resources/csr-signature.js';
import { KubepkiError } from '../../util/errors.js';
import { decodePem } from '../../x509/pem.js';
import { canonicalIp, emptySans, type SubjectAltNames } from '../../x509/san.js';
import type { DistinguishedName } from '../../x509/names.js';
import { children, decodeOid, decodeString, expectTag, readOne, TAG, type Tlv } from './der.js';

export interface CertificateRequestInfo {
  der: Uint8Array;
  /** The subject as Go's pkix.Name holds it (the attributes Go re-encodes into the certificate). */
  subject: DistinguishedName;
  commonName: string;
  organization: string[];
  sans: SubjectAltNames;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** Made on first use; throws InvalidCSR for an unsupported key. */
  readonly publicKey: KeyObject;
  /** The signed part and the signature, for verifySignature. */
  tbs: Uint8Array;
  signature: Uint8Array;
  signatureAlgorithm: SignatureScheme;
}

export interface SignatureScheme {
  name: string;
  /** Node digest name, or null for Ed25519. */
  hash: string | null;
  pssSaltLength?: number;
}

/** The attributes pkix.Name keeps in fields (and re-encodes when signing); others are dropped, as in Go. */
const NAME_FIELDS: Record<string, keyof DistinguishedName> = {
  '2.5.4.6': 'country',
  '2.5.4.8': 'province',
  '2.5.4.7': 'locality',
  '2.5.4.9': 'streetAddress',
  '2.5.4.17': 'postalCode',
  '2.5.4.10': 'organization',
  '2.5.4.11': 'organizationalUnit',
  '2.5.4.3': 'commonName',
  '2.5.4.5': 'serialNumber',
};
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_SAN = '2.5.29.17';
const OID_RSA_PSS = '1.2.840.113549.1.1.10';

const SIGNATURE_SCHEMES: Record<string, SignatureScheme> = {
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', hash: 'sha512' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', hash: null },
};
const HASH_OIDS: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** spec.request (base64 of PEM) → the one CERTIFICATE REQUEST block's DER, with kube's error text. */
export function decodeSpecRequest(specRequest: string): Uint8Array {
  const pem = Buffer.from(specRequest, 'base64').toString('utf8');
  let blocks;
  try {
    blocks = decodePem(pem, 'spec.request');
  } catch {
    throw new KubepkiError('InvalidCSR', 'PEM block type must be CERTIFICATE REQUEST');
  }
  if (blocks[0]!.type !== 'CERTIFICATE REQUEST') throw new KubepkiError('InvalidCSR', 'PEM block type must be CERTIFICATE REQUEST');
  return blocks[0]!.der;
}

/** Parses a DER PKCS#10 request (no signature check: see verifyRequestSignature). */
export function parseRequestDer(der: Uint8Array): CertificateRequestInfo {
  const outer = children(readOne(der, TAG.SEQUENCE, 'CertificationRequest'));
  const info = expectTag(outer[0], TAG.SEQUENCE, 'CertificationRequestInfo');
  const sigAlg = children(expectTag(outer[1], TAG.SEQUENCE, 'signatureAlgorithm'));
  const sigBits = expectTag(outer[2], TAG.BIT_STRING, 'signature');
  const fields = children(info);
  expectTag(fields[0], TAG.INTEGER, 'version');
  const subject = expectTag(fields[1], TAG.SEQUENCE, 'subject');
  const spki = expectTag(fields[2], TAG.SEQUENCE, 'subjectPKInfo');
  const name = readName(subject);
  const sans = fields[3] && fields[3].tag === 0xa0 ? readRequestedSans(fields[3]) : emptySans();
  // Importing the key costs as much as verifying a signature: only the signer needs it, so it is made on
  // first use (the approver and the rules never touch it).
  let publicKey: KeyObject | undefined;
  return {
    get publicKey(): KeyObject {
      if (!publicKey) {
        try {
          // EC keys from their coordinates, as the API server's signature check does (twice as fast).
          publicKey = ecJwk(spki.der) ?? createPublicKey({ key: Buffer.from(spki.der), format: 'der', type: 'spki' });
        } catch (err) {
          throw new KubepkiError('InvalidCSR', `unsupported public key: ${(err as Error).message}`, { cause: err });
        }
      }
      return publicKey;
    },
    der,
    subject: name,
    commonName: name.commonName ?? '',
    organization: name.organization ?? [],
    sans,
    spki: spki.der,
    tbs: info.der,
    signature: sigBits.content.subarray(1),
    signatureAlgorithm: signatureScheme(sigAlg),
  };
}

function signatureScheme(alg: Tlv[]): SignatureScheme {
  const oid = decodeOid(expectTag(alg[0], TAG.OID, 'signature algorithm').content);
  const known = SIGNATURE_SCHEMES[oid];
  if (known) return known;
  if (oid === OID_RSA_PSS && alg[1]?.tag === TAG.SEQUENCE) {
    let hash = 'sha1';
    let saltLength = 20;
    for (const p of children(alg[1])) {
      if (p.tag === 0xa0) hash = HASH_OIDS[decodeOid(children(children(p)[0]!)[0]!.content)] ?? 'unknown';
      if (p.tag === 0xa2) saltLength = Number(Buffer.from(children(p)[0]!.content).readUIntBE(0, Math.min(6, children(p)[0]!.content.length)));
    }
    if (hash !== 'unknown') return { name: `${hash.toUpperCase()}-RSAPSS`, hash, pssSaltLength: saltLength };
  }
  throw new KubepkiError('InvalidCSR', `unsupported signature algorithm ${oid}`);
}

/** Go's pkix.Name.FillFromRDNSequence: CN and serialNumber (the last one wins), the other fields in order. */
function readName(name: Tlv): DistinguishedName {
  const dn: DistinguishedName = {};
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      const field = NAME_FIELDS[decodeOid(expectTag(type, TAG.OID, 'attribute type').content)];
      if (!field) continue;
      const text = decodeString(value!);
      if (field === 'commonName' || field === 'serialNumber') dn[field] = text;
      else (dn[field] ??= []).push(text);
    }
  }
  return dn;
}

/** SANs from the extensionRequest attribute: dNSName [2], rfc822Name [1], uniformResourceIdentifier [6], iPAddress [7]. */
function readRequestedSans(attributes: Tlv): SubjectAltNames {
  const sans = emptySans();
  for (const attr of children(attributes)) {
    const [type, values] = children(attr);
    if (decodeOid(expectTag(type, TAG.OID, 'attribute type').content) !== OID_EXTENSION_REQUEST) continue;
    for (const extensions of children(expectTag(values, TAG.SET, 'attribute values'))) {
      for (const ext of children(extensions)) {
        const parts = children(ext);
        if (decodeOid(expectTag(parts[0], TAG.OID, 'extension id').content) !== OID_SAN) continue;
        const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extension value');
        for (const gn of children(readOne(value.content, TAG.SEQUENCE, 'GeneralNames'))) addGeneralName(sans, gn);
      }
    }
  }
  return sans;
}

function addGeneralName(sans: SubjectAltNames, gn: Tlv): void {
  const text = () => Buffer.from(gn.content).toString('ascii');
  switch (gn.tag) {
    case 0x81:
      sans.emailAddresses.push(text());
      break;
    case 0x82:
      sans.dnsNames.push(text());
      break;
    case 0x86:
      sans.uris.push(text());
      break;
    case 0x87: {
      const b = gn.content;
      let ip: string | null = null;
      if (b.length === 4) ip = Array.from(b).join('.');
      else if (b.length === 16) {
        const groups: string[] = [];
        for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
        ip = canonicalIp(groups.join(':'));
        // Go stores an IPv4-mapped IPv6 SAN as the IPv4 address (net.IP.To4).
        const mapped = ip?.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
        if (mapped) ip = mapped[1]!;
      }
      if (ip === null) throw new KubepkiError('InvalidCSR', `invalid IP address SAN of ${b.length} bytes`);
      sans.ipAddresses.push(ip);
      break;
    }
    default:
      break; // otherName, directoryName...: Go's parser ignores them too, and they are never signed
  }
}

/** Go's CertificateRequest.CheckSignature, on the thread pool. */
export function verifyRequestSignature(req: CertificateRequestInfo): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const { hash, pssSaltLength } = req.signatureAlgorithm;
      const key = pssSaltLength === undefined ? req.publicKey : { key: req.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSaltLength };
      cryptoVerify(hash, req.tbs, key, req.signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}

/** Parses spec.request and checks its self-signature; one error naming what is wrong. */
export async function readVerifiedRequest(specRequest: string): Promise<CertificateRequestInfo> {
  const der = decodeSpecRequest(specRequest);
  const req = parseRequestDer(der);
  void req.publicKey; // an unsupported key is an error here, not later
  if (!(await verifyRequestSignature(req))) throw new KubepkiError('SignatureInvalid', 'unable to verify certificate request signature');
  return req;
}
