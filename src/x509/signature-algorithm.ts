// Signature AlgorithmIdentifiers as Go's x509 names them (getSignatureAlgorithmFromAI): the OID, and for
// RSASSA-PSS the parameters, which Go accepts only in three shapes (MGF1 with the message digest, salt as long
// as the digest, trailer 1). Anything else is 'Unknown', which parses but never verifies.
import { decodeOid, decodeSmallInteger, DerReader, readDer, TAG, type DerElement } from './der-reader.js';
import type { PublicKeyAlgorithm } from './public-key-info.js';

export interface SignatureAlgorithm {
  /** Go's SignatureAlgorithm.String(): SHA256-RSA, ECDSA-SHA256, SHA256-RSAPSS, Ed25519, ... or Unknown. */
  name: string;
  /** The key type the algorithm needs. */
  publicKeyAlgorithm: PublicKeyAlgorithm;
  /** Node's digest name; null for Ed25519 (no separate digest) and for algorithms never verified. */
  hash: string | null;
  /** RSASSA-PSS: salt length (equal to the digest's length). */
  pssSaltLength?: number;
  /** MD2/MD5: Go refuses to verify them (InsecureAlgorithmError). */
  insecure?: boolean;
}

const UNKNOWN: SignatureAlgorithm = { name: 'Unknown', publicKeyAlgorithm: 'Unknown', hash: null };

const BY_OID: Record<string, SignatureAlgorithm> = {
  '1.2.840.113549.1.1.2': { name: 'MD2-RSA', publicKeyAlgorithm: 'RSA', hash: null, insecure: true },
  '1.2.840.113549.1.1.4': { name: 'MD5-RSA', publicKeyAlgorithm: 'RSA', hash: 'md5', insecure: true },
  '1.2.840.113549.1.1.5': { name: 'SHA1-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha1' },
  '1.3.14.3.2.29': { name: 'SHA1-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha1' },
  '1.2.840.113549.1.1.11': { name: 'SHA256-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha256' },
  '1.2.840.113549.1.1.12': { name: 'SHA384-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha384' },
  '1.2.840.113549.1.1.13': { name: 'SHA512-RSA', publicKeyAlgorithm: 'RSA', hash: 'sha512' },
  '1.2.840.10040.4.3': { name: 'DSA-SHA1', publicKeyAlgorithm: 'DSA', hash: 'sha1' },
  '2.16.840.1.101.3.4.3.2': { name: 'DSA-SHA256', publicKeyAlgorithm: 'DSA', hash: 'sha256' },
  '1.2.840.10045.4.1': { name: 'ECDSA-SHA1', publicKeyAlgorithm: 'ECDSA', hash: 'sha1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA-SHA256', publicKeyAlgorithm: 'ECDSA', hash: 'sha256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA-SHA384', publicKeyAlgorithm: 'ECDSA', hash: 'sha384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA-SHA512', publicKeyAlgorithm: 'ECDSA', hash: 'sha512' },
  '1.3.101.112': { name: 'Ed25519', publicKeyAlgorithm: 'Ed25519', hash: null },
};

const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_MGF1 = '1.2.840.113549.1.1.8';
const PSS_HASHES: Record<string, { hash: string; salt: number }> = {
  '2.16.840.1.101.3.4.2.1': { hash: 'sha256', salt: 32 },
  '2.16.840.1.101.3.4.2.2': { hash: 'sha384', salt: 48 },
  '2.16.840.1.101.3.4.2.3': { hash: 'sha512', salt: 64 },
};

/** Reads an AlgorithmIdentifier element (SEQUENCE { OID, parameters ANY OPTIONAL }). */
export function signatureAlgorithmFromIdentifier(el: DerElement): SignatureAlgorithm {
  const r = DerReader.of(el);
  const oid = decodeOid(r.read(TAG.OID, 'signature algorithm').content);
  const params = r.empty ? undefined : r.readAny();
  if (oid === OID_RSA_PSS) return pss(params);
  // RFC 8410 §3: Ed25519's parameters MUST be absent.
  if (oid === '1.3.101.112' && params) return UNKNOWN;
  return BY_OID[oid] ?? UNKNOWN;
}

/** An AlgorithmIdentifier's OID and whether its parameters are absent or NULL. */
function algorithmOf(el: DerElement): { oid: string; paramsAbsentOrNull: boolean; params: DerElement | undefined } {
  const r = DerReader.of(el);
  const oid = decodeOid(r.read(TAG.OID, 'algorithm').content);
  const params = r.empty ? undefined : r.readAny();
  return { oid, params, paramsAbsentOrNull: !params || (params.tag === TAG.NULL && params.content.length === 0) };
}

function pss(params: DerElement | undefined): SignatureAlgorithm {
  try {
    if (!params) return UNKNOWN;
    const r = DerReader.of(readDer(params.der, TAG.SEQUENCE, 'RSASSA-PSS parameters'));
    const hash = algorithmOf(DerReader.of(r.read(0xa0, 'hashAlgorithm')).read(TAG.SEQUENCE, 'hashAlgorithm'));
    const mgf = algorithmOf(DerReader.of(r.read(0xa1, 'maskGenAlgorithm')).read(TAG.SEQUENCE, 'maskGenAlgorithm'));
    const salt = decodeSmallInteger(DerReader.of(r.read(0xa2, 'saltLength')).read(TAG.INTEGER, 'saltLength').content);
    const trailerEl = r.readOptional(0xa3);
    const trailer = trailerEl ? decodeSmallInteger(DerReader.of(trailerEl).read(TAG.INTEGER, 'trailerField').content) : 1;
    if (!mgf.params) return UNKNOWN;
    const mgfHash = algorithmOf(readDer(mgf.params.der, TAG.SEQUENCE, 'MGF1 hash'));
    if (!hash.paramsAbsentOrNull || mgf.oid !== OID_MGF1 || mgfHash.oid !== hash.oid || !mgfHash.paramsAbsentOrNull || trailer !== 1) return UNKNOWN;
    const known = PSS_HASHES[hash.oid];
    if (!known || known.salt !== salt) return UNKNOWN;
    return { name: `${known.hash.toUpperCase()}-RSAPSS`, publicKeyAlgorithm: 'RSA', hash: known.hash, pssSaltLength: salt };
  } catch {
    return UNKNOWN; // parameters that do not parse: Go's UnknownSignatureAlgorithm, not a parse error
  }
}
