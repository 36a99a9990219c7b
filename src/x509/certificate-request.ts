// Reading a PKCS#10 certificate request (RFC 2986) the way Go's x509.ParseCertificateRequest does, which is
// what kube-apiserver validates spec.request with and what kube-controller-manager signs from: the one
// reader of requests in kubepki (the API server's create check, the approver, the signer, the agent, cfssl
// and `certs inspect` all come here). The self-signature is checked apart (csr-signature.ts), so that it can
// run off the event loop or be skipped when the API server has checked it already.
//
// Go's rules, kept here: DER only (der-reader.ts); the subject must parse as an RDNSequence whose attribute
// values are valid for their string types; an attribute that does not parse is ignored unless it is the
// extensionRequest, whose first value must be a SEQUENCE OF Extension with no extension twice; the SAN
// extension's names are read as cryptobyte reads them (IA5 text, 4- or 16-byte IPs, URIs that parse).
import { KubepkiError } from '../util/errors.js';
import { decodePem, encodePem } from './pem.js';
import type { DistinguishedName } from './names.js';
import { emptySans, type SubjectAltNames } from './san.js';
import {
  bitAt,
  contextConstructed,
  decodeAttributeValue,
  decodeBitString,
  decodeBoolean,
  decodeInteger,
  decodeOid,
  decodeSmallInteger,
  DerError,
  DerReader,
  readDer,
  rightAlign,
  TAG,
  type DerElement,
} from './der-reader.js';
import { readSubjectAltNames } from './san-reader.js';
import { parsePublicKeyInfo, type PublicKeyAlgorithm, type PublicKeyInfo } from './public-key-info.js';
import { signatureAlgorithmFromIdentifier, type SignatureAlgorithm } from './signature-algorithm.js';

/** One requested extension, as pkix.Extension holds it. */
export interface Extension {
  id: string;
  critical: boolean;
  /** The extnValue OCTET STRING's content. */
  value: Uint8Array;
}

/** A parsed request: Go's x509.CertificateRequest, in the shapes kubepki works with. */
export interface CertificateRequest {
  /** The whole request (Raw). */
  der: Uint8Array;
  readonly pem: string;
  /** certificationRequestInfo, the signed part (RawTBSCertificateRequest). */
  tbs: Uint8Array;
  version: number;
  /** The subject's exact DER (RawSubject). */
  rawSubject: Uint8Array;
  /** The subject as pkix.Name holds it (and re-encodes into a certificate); other attributes are dropped. */
  subject: DistinguishedName;
  /** DER SubjectPublicKeyInfo (RawSubjectPublicKeyInfo). */
  spki: Uint8Array;
  publicKeyAlgorithm: PublicKeyAlgorithm;
  /** Imported on first read (the approver and the signer rules never need it). */
  readonly publicKey: PublicKeyInfo['key'];
  /** From the subjectAltName extension; IPs in canonical text (an IPv4-mapped IPv6 as IPv4, as Go). */
  sans: SubjectAltNames;
  /** The extensions of the extensionRequest attribute, in order. */
  extensions: Extension[];
  /** Key usage bits (usages.ts KEY_USAGE_BITS) and EKU OIDs requested, if the extensions say so. */
  requestedKeyUsage: number;
  requestedExtKeyUsages: string[];
  requestedIsCA: boolean | undefined;
  signatureAlgorithm: SignatureAlgorithm;
  /** The signature, right-aligned (BitString.RightAlign). */
  signature: Uint8Array;
}

const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const OID_EXT = { subjectAltName: '2.5.29.17', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', basicConstraints: '2.5.29.19' } as const;

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

/**
 * Parses one DER PKCS#10 request; throws a DerError (code InvalidDER) with Go's message for anything Go's
 * parser refuses. The signature is not checked here: see checkCsrSignature.
 *
 * @example
 * const req = parseCertificateRequest(der);
 * await checkCsrSignature(req);
 */
export function parseCertificateRequest(der: Uint8Array): CertificateRequest {
  const outer = new DerReader(der);
  const csr = DerReader.of(outer.read(TAG.SEQUENCE, 'certificate request'));
  if (!outer.empty) throw new DerError('asn1: syntax error: trailing data');
  const tbsEl = csr.read(TAG.SEQUENCE, 'certificationRequestInfo');
  const sigAlgEl = csr.read(TAG.SEQUENCE, 'signatureAlgorithm');
  const signature = rightAlign(decodeBitString(csr.read(TAG.BIT_STRING, 'signature').content));
  // Go allows further elements at the end of a SEQUENCE it reads into a struct (X.509 grew that way).

  const tbs = DerReader.of(tbsEl);
  const version = Number(decodeInteger(tbs.read(TAG.INTEGER, 'version').content));
  const subjectEl = tbs.readAny();
  const publicKeyInfo = parsePublicKeyInfo(tbs.read(TAG.SEQUENCE, 'subjectPKInfo'));
  const attributes = DerReader.of(tbs.read(contextConstructed(0), 'attributes')).readAll();

  const subject = readName(subjectEl);
  const extensions = readRequestedExtensions(attributes);
  let sans = emptySans();
  let requestedKeyUsage = 0;
  let requestedExtKeyUsages: string[] = [];
  let requestedIsCA: boolean | undefined;
  for (const ext of extensions) {
    if (ext.id === OID_EXT.subjectAltName) sans = readSubjectAltNames(ext.value);
    // Go's request parser reads only the SANs; these are for display and cfssl's CA check, best effort.
    else if (ext.id === OID_EXT.keyUsage) requestedKeyUsage = bestEffort(() => readKeyUsage(ext.value), 0);
    else if (ext.id === OID_EXT.extKeyUsage) requestedExtKeyUsages = bestEffort(() => readExtKeyUsage(ext.value), []);
    else if (ext.id === OID_EXT.basicConstraints) requestedIsCA = bestEffort(() => readIsCA(ext.value), undefined);
  }
  let pem: string | undefined;
  return {
    der,
    get pem(): string {
      return (pem ??= encodePem('CERTIFICATE REQUEST', der));
    },
    tbs: tbsEl.der,
    version,
    rawSubject: subjectEl.der,
    subject,
    spki: publicKeyInfo.spki,
    publicKeyAlgorithm: publicKeyInfo.algorithm,
    get publicKey() {
      return publicKeyInfo.key;
    },
    sans,
    extensions,
    requestedKeyUsage,
    requestedExtKeyUsages,
    requestedIsCA,
    signatureAlgorithm: signatureAlgorithmFromIdentifier(sigAlgEl),
    signature,
  };
}

function bestEffort<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** asn1.Unmarshal into pkix.RDNSequence, then pkix.Name.FillFromRDNSequence (CN and serialNumber: last wins). */
function readName(el: DerElement): DistinguishedName {
  const name = readDer(el.der, TAG.SEQUENCE, 'subject');
  const dn: DistinguishedName = {};
  for (const rdn of DerReader.of(name).readAllOf(TAG.SET, 'subject RDN')) {
    for (const atvEl of DerReader.of(rdn).readAllOf(TAG.SEQUENCE, 'subject attribute')) {
      const atv = DerReader.of(atvEl);
      const type = decodeOid(atv.read(TAG.OID, 'subject attribute type').content);
      if (atv.empty) throw new DerError('asn1: syntax error: sequence truncated');
      const value = decodeAttributeValue(atv.readAny());
      const field = NAME_FIELDS[type];
      if (value === undefined || !field) continue;
      if (field === 'commonName' || field === 'serialNumber') dn[field] = value;
      else (dn[field] ??= []).push(value);
    }
  }
  return dn;
}

/** Go's parseCSRExtensions. */
function readRequestedExtensions(attributes: DerElement[]): Extension[] {
  const out: Extension[] = [];
  const seen = new Set<string>();
  for (const raw of attributes) {
    // Attribute ::= SEQUENCE { type OID, values SET OF ANY }; one that does not parse is ignored (as Go).
    let id: string;
    let first: DerElement;
    try {
      const attr = DerReader.of(readDer(raw.der, TAG.SEQUENCE, 'attribute'));
      id = decodeOid(attr.read(TAG.OID, 'attribute type').content);
      const values = DerReader.of(attr.read(TAG.SET, 'attribute values')).readAll();
      if (values.length === 0) continue;
      first = values[0]!;
    } catch {
      continue;
    }
    if (id !== OID_EXTENSION_REQUEST) continue;
    const extensions = DerReader.of(readDer(first.der, TAG.SEQUENCE, 'extension request')).readAllOf(TAG.SEQUENCE, 'extension');
    for (const extEl of extensions) {
      const ext = DerReader.of(extEl);
      const extId = decodeOid(ext.read(TAG.OID, 'extension id').content);
      const criticalEl = ext.readOptional(TAG.BOOLEAN);
      const critical = criticalEl ? decodeBoolean(criticalEl.content) : false;
      const value = ext.read(TAG.OCTET_STRING, 'extension value').content;
      if (seen.has(extId)) throw new DerError('x509: certificate request contains duplicate requested extensions');
      seen.add(extId);
      out.push({ id: extId, critical, value });
    }
  }
  return out;
}

function readKeyUsage(value: Uint8Array): number {
  const bits = decodeBitString(readDer(value, TAG.BIT_STRING, 'key usage').content);
  let mask = 0;
  for (let i = 0; i < 9; i++) if (bitAt(bits, i)) mask |= 1 << i;
  return mask;
}

function readExtKeyUsage(value: Uint8Array): string[] {
  return DerReader.of(readDer(value, TAG.SEQUENCE, 'extended key usage'))
    .readAllOf(TAG.OID, 'extended key usage')
    .map((el) => decodeOid(el.content));
}

function readIsCA(value: Uint8Array): boolean {
  const bc = DerReader.of(readDer(value, TAG.SEQUENCE, 'basic constraints'));
  const ca = bc.readOptional(TAG.BOOLEAN);
  const isCA = ca ? decodeBoolean(ca.content) : false;
  const pathLen = bc.readOptional(TAG.INTEGER);
  if (pathLen) decodeSmallInteger(pathLen.content);
  return isCA;
}

/**
 * The DER of a PEM request as kube's certificates.ParseCSR takes it: the first PEM block, which must be a
 * CERTIFICATE REQUEST.
 */
export function certificateRequestDerFromPem(pem: string): Uint8Array {
  let first;
  try {
    first = decodePem(pem, 'certificate request')[0]!;
  } catch {
    throw new KubepkiError('InvalidCSR', 'PEM block type must be CERTIFICATE REQUEST');
  }
  if (first.type !== 'CERTIFICATE REQUEST') throw new KubepkiError('InvalidCSR', 'PEM block type must be CERTIFICATE REQUEST');
  return first.der;
}
