// What Go's crypto/x509 knows of a certificate that path validation reads, beyond the shared Certificate
// description (basic-constraints presence, unhandled critical extensions, the SAN entries in encoded order,
// name constraints and the raw SAN value, which Go's loop check compares), from the one certificate parser.
import { createHash } from 'node:crypto';
import type { Certificate } from '../certificate.js';
import { parseCertificateFields, type IpConstraint, type NameConstraintSet } from '../certificate-parser.js';
import { SAN_TAG, type SanEntry } from '../san-reader.js';

export { SAN_TAG };
export type { IpConstraint, NameConstraintSet, SanEntry };

export interface PathCert {
  cert: Certificate;
  version: number;
  basicConstraintsValid: boolean;
  isCA: boolean;
  /** -1 when basic constraints carry no pathLenConstraint (Go's MaxPathLen). */
  maxPathLen: number;
  keyUsage: number;
  extKeyUsages: string[];
  /** Raw value of the subjectAltName extension; undefined when the extension is absent. */
  sanValue: Uint8Array | undefined;
  sanEntries: SanEntry[];
  nameConstraints: { permitted: NameConstraintSet; excluded: NameConstraintSet } | undefined;
  unhandledCriticalExtension: boolean;
  /** DER SubjectPublicKeyInfo (public key equality). */
  spki: Buffer;
  /** Identity of the exact encoding (Go's CertPool de-duplicates by it). */
  digest: string;
}

const cache = new WeakMap<Certificate, PathCert>();

/** The path-validation view of a certificate (memoised per certificate object). */
export function pathCertOf(cert: Certificate): PathCert {
  const hit = cache.get(cert);
  if (hit) return hit;
  // The one certificate parser, again on the exact encoding: an issued certificate carries no parse.
  const f = parseCertificateFields(cert.der);
  const spki = Buffer.from(f.spki);
  const pc: PathCert = {
    cert,
    version: f.version,
    basicConstraintsValid: f.basicConstraintsValid,
    isCA: cert.isCA,
    maxPathLen: f.basicConstraintsValid ? f.maxPathLen : 0,
    keyUsage: cert.keyUsage,
    extKeyUsages: cert.extKeyUsages,
    sanValue: f.sanValue,
    sanEntries: f.sanEntries,
    nameConstraints: f.nameConstraints,
    unhandledCriticalExtension: f.unhandledCriticalExtensions.length > 0,
    spki,
    digest: createHash('sha256').update(cert.der).digest('hex'),
  };
  cache.set(cert, pc);
  return pc;
}
