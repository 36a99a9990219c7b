// What Go's crypto/x509 knows of a certificate that path validation reads, beyond the shared Certificate
// description: basic-constraints presence, unhandled critical extensions, the SAN entries in encoded order,
// name constraints and the raw SAN value (Go's loop check compares it).
import { createHash } from 'node:crypto';
import type { Certificate } from '../certificate.js';
import { children, DerError, readTbsFacts, single } from './extension-der.js';

/** A GeneralName of a SAN, as Go's forEachSAN sees it: context tag number and raw content. */
export interface SanEntry {
  tag: number;
  data: Uint8Array;
}

/** One IP constraint: network bytes and mask (both 4 or 16 bytes). */
export interface IpConstraint {
  ip: Uint8Array;
  mask: Uint8Array;
}

export interface NameConstraintSet {
  dns: string[];
  ips: IpConstraint[];
  emails: string[];
  uris: string[];
}

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

const OID_BASE = '2.5.29.';
const HANDLED = new Set(['15', '19', '17', '30', '31', '35', '37', '14', '32']);
const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';

export const SAN_TAG = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

function sanEntriesOf(value: Uint8Array): SanEntry[] {
  return children(single(value, 0x30).content)
    .filter((t) => (t.tag & 0xc0) === 0x80)
    .map((t) => ({ tag: t.tag & 0x1f, data: t.content }));
}

function constraintSet(subtrees: Uint8Array | undefined): { set: NameConstraintSet; unhandled: boolean } {
  const set: NameConstraintSet = { dns: [], ips: [], emails: [], uris: [] };
  let unhandled = false;
  if (!subtrees) return { set, unhandled };
  for (const subtree of children(subtrees)) {
    if (subtree.tag !== 0x30) throw new DerError('invalid NameConstraints subtree');
    const base = children(subtree.content)[0];
    if (!base) throw new DerError('invalid NameConstraints subtree');
    switch (base.tag) {
      case 0x82:
        set.dns.push(latin1(base.content));
        break;
      case 0x81:
        set.emails.push(latin1(base.content));
        break;
      case 0x86:
        set.uris.push(latin1(base.content));
        break;
      case 0x87: {
        const half = base.content.length / 2;
        if (half !== 4 && half !== 16) throw new DerError(`IP constraint contained value of length ${base.content.length}`);
        set.ips.push({ ip: base.content.subarray(0, half), mask: base.content.subarray(half) });
        break;
      }
      default:
        unhandled = true;
    }
  }
  return { set, unhandled };
}

const cache = new WeakMap<Certificate, PathCert>();

/** The path-validation view of a certificate (memoised per certificate object). */
export function pathCertOf(cert: Certificate): PathCert {
  const hit = cache.get(cert);
  if (hit) return hit;
  const { version, extensions } = readTbsFacts(cert.der);
  let basicConstraintsValid = false;
  let sanValue: Uint8Array | undefined;
  let sanEntries: SanEntry[] = [];
  let nameConstraints: PathCert['nameConstraints'];
  let unhandledCriticalExtension = false;
  for (const ext of extensions) {
    let unhandled = false;
    if (ext.oid.startsWith(OID_BASE) && ext.oid.split('.').length === 4) {
      const last = ext.oid.slice(OID_BASE.length);
      if (!HANDLED.has(last)) unhandled = true;
      else if (last === '19') basicConstraintsValid = true;
      else if (last === '17') {
        sanValue = ext.value;
        sanEntries = sanEntriesOf(ext.value);
        // Go records a critical SAN as unhandled when it holds none of the names it understands.
        if (!sanEntries.some((e) => e.tag === 1 || e.tag === 2 || e.tag === 6 || e.tag === 7)) unhandled = true;
      } else if (last === '30') {
        const fields = children(single(ext.value, 0x30).content);
        const permitted = constraintSet(fields.find((f) => f.tag === 0xa0)?.content);
        const excluded = constraintSet(fields.find((f) => f.tag === 0xa1)?.content);
        nameConstraints = { permitted: permitted.set, excluded: excluded.set };
        unhandled = permitted.unhandled || excluded.unhandled;
      }
    } else if (ext.oid !== AUTHORITY_INFO_ACCESS) unhandled = true;
    if (ext.critical && unhandled) unhandledCriticalExtension = true;
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  const pc: PathCert = {
    cert,
    version,
    basicConstraintsValid,
    isCA: cert.isCA,
    maxPathLen: basicConstraintsValid ? (cert.maxPathLen ?? -1) : 0,
    keyUsage: cert.keyUsage,
    extKeyUsages: cert.extKeyUsages,
    sanValue,
    sanEntries,
    nameConstraints,
    unhandledCriticalExtension,
    spki,
    digest: createHash('sha256').update(cert.der).digest('hex'),
  };
  cache.set(cert, pc);
  return pc;
}
