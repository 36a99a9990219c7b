// Reading an X.509 certificate the way Go's x509.ParseCertificate does (crypto/x509/parser.go, Go 1.23, what
// kube-apiserver, kubelet and kubectl parse with): the one certificate parser in kubepki, on der-reader.ts.
// Go's rules kept here: DER only; a version of 1–3; a non-negative serial (Go 1.23 refuses a negative one);
// the inner and outer signature AlgorithmIdentifiers byte for byte equal; names whose values are strings of a
// known type; a public key Go can use; extensions read only in a v3 certificate, none twice, the ones Go knows
// parsed, with Go's error when they do not parse: key usage, basic constraints, SANs, name constraints (IA5
// values, the syntax of each DNS, email and URI constraint, IP lengths and masks), CRL distribution points
// (structure and fullName URIs), certificate policies (minimal policy OIDs), AKI, EKU, SKI and AIA; SKI, AKI
// and AIA never critical; an unknown critical extension does not fail the parse but is recorded (path
// validation refuses it, as Go's Verify does).
import { KubepkiError } from '../util/errors.js';
import type { Certificate } from './certificate.js';
import { decodePem, encodePem } from './pem.js';
import { nameFromAttributes, readNameAttributes } from './name-reader.js';
import { readGeneralNames, type SanEntry } from './san-reader.js';
import { parsePublicKeyInfo } from './public-key-info.js';
import { signatureAlgorithmFromIdentifier } from './signature-algorithm.js';
import { goQuote, goQuoteBytes, parseGoIp } from './path-validation/go-format.js';
import { parseMailbox, reverseLabels } from './path-validation/name-syntax.js';
import {
  bitAt,
  checkInteger,
  contextConstructed,
  contextPrimitive,
  decodeBitString,
  decodeBoolean,
  decodeInteger,
  decodeOid,
  decodeTime,
  DerError,
  DerReader,
  HIGH_TAG,
  isIA5,
  rightAlign,
  TAG,
  type DerElement,
} from './der-reader.js';

/** One IP name constraint: network bytes and mask (both 4 or 16 bytes). */
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

/** One extension as pkix.Extension holds it. */
export interface CertificateExtension {
  id: string;
  critical: boolean;
  value: Uint8Array;
}

/** What Go's x509.Certificate holds beyond kubepki's Certificate description (path validation reads it). */
export interface CertificateFields {
  certificate: Certificate;
  version: number;
  extensions: CertificateExtension[];
  basicConstraintsValid: boolean;
  /** -1 when basic constraints carry no pathLenConstraint (Go's MaxPathLen). */
  maxPathLen: number;
  /** Raw value of the subjectAltName extension; undefined when absent. */
  sanValue: Uint8Array | undefined;
  sanEntries: SanEntry[];
  nameConstraints: { permitted: NameConstraintSet; excluded: NameConstraintSet } | undefined;
  unhandledCriticalExtensions: string[];
  /** The exact DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** The signature, right-aligned. */
  signature: Uint8Array;
  /** The signed part (RawTBSCertificate). */
  tbs: Uint8Array;
}

const fail = (message: string): never => {
  throw new DerError(message);
};

/** Runs `read`, turning any DER error into Go's one message for the field. */
function field<T>(message: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof DerError) throw new DerError(message);
    throw err;
  }
}

/** Parses one DER certificate; errors are InvalidCertificate and name `what`. */
export function parseCertificateDer(der: Uint8Array, what = 'certificate'): Certificate {
  return parseCertificateFields(der, what).certificate;
}

/** parseCertificateDer, with everything Go's x509.Certificate carries (path validation). */
export function parseCertificateFields(der: Uint8Array, what = 'certificate'): CertificateFields {
  return withParseErrors(what, () => certificateFields(der, read(der)));
}

/**
 * Go's x509.ParseCertificates' checks alone (the certificates of one PEM block, DER concatenated), for
 * certificates that are only stored (a CSR's status.certificate): every rule parseCertificateDer applies, the
 * public key's included (an EC point must be on its curve), but no Certificate is built and no key is imported
 * into OpenSSL. Returns how many certificates there are; throws as parseCertificateDer does.
 */
export function checkCertificatesDer(der: Uint8Array, what = 'certificate'): number {
  return withParseErrors(what, () => {
    const all = new DerReader(der);
    let count = 0;
    for (; !all.empty; count++) read(field('x509: malformed certificate', () => all.read(TAG.SEQUENCE, 'certificate')).der);
    return count;
  });
}

function withParseErrors<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof DerError) throw new KubepkiError('InvalidCertificate', `${what}: not a valid X.509 certificate: ${err.message}`, { cause: err });
    if (err instanceof KubepkiError && err.code === 'InvalidKey') throw new KubepkiError('InvalidCertificate', `${what}: unsupported public key: ${err.message}`, { cause: err });
    throw err;
  }
}

/** What read() takes out of a certificate that passed every check. */
type CertificateParts = ReturnType<typeof read>;

function read(der: Uint8Array) {
  const outer = new DerReader(der);
  const input = DerReader.of(field('x509: malformed certificate', () => outer.read(TAG.SEQUENCE, 'certificate')));
  if (!outer.empty) fail('x509: trailing data');
  const tbsEl = field('x509: malformed tbs certificate', () => input.read(TAG.SEQUENCE, 'tbsCertificate'));
  const tbs = DerReader.of(tbsEl);

  let version = 0;
  const versionEl = tbs.readOptional(contextConstructed(0));
  if (versionEl) {
    version = field('x509: malformed version', () => {
      const r = DerReader.of(versionEl);
      const v = Number(decodeInteger(r.read(TAG.INTEGER, 'version').content));
      r.finish('version');
      return v;
    });
  }
  if (version < 0 || version > 3) fail('x509: malformed version');
  version++; // Go's Version is one-indexed
  if (version > 3) fail('x509: invalid version');

  const serialContent = field('x509: malformed serial number', () => {
    const c = tbs.read(TAG.INTEGER, 'serial number').content;
    checkInteger(c);
    return c;
  });
  if (serialContent[0]! & 0x80) fail('x509: negative serial number');

  const sigAI = field('x509: malformed signature algorithm identifier', () => tbs.read(TAG.SEQUENCE, 'signature'));
  const outerSigAI = field('x509: malformed algorithm identifier', () => input.read(TAG.SEQUENCE, 'signatureAlgorithm'));
  if (!Buffer.from(outerSigAI.content).equals(sigAI.content)) fail("x509: inner and outer signature algorithm identifiers don't match");
  const signatureAlgorithm = field('x509: malformed OID', () => signatureAlgorithmFromIdentifier(sigAI));

  const issuerEl = field('x509: malformed issuer', () => tbs.read(TAG.SEQUENCE, 'issuer'));
  const issuerAttributes = readNameAttributes(issuerEl.der);
  const validity = DerReader.of(field('x509: malformed validity', () => tbs.read(TAG.SEQUENCE, 'validity')));
  const notBefore = readTime(validity);
  const notAfter = readTime(validity);
  const subjectEl = field('x509: malformed issuer', () => tbs.read(TAG.SEQUENCE, 'subject')); // sic: Go's message
  const subjectAttributes = readNameAttributes(subjectEl.der);
  const spkiEl = field('x509: malformed spki', () => tbs.read(TAG.SEQUENCE, 'subjectPublicKeyInfo'));
  const publicKeyInfo = parsePublicKeyInfo(spkiEl);

  const extensions: CertificateExtension[] = [];
  if (version > 1) {
    field('x509: malformed issuerUniqueID', () => tbs.readOptional(contextPrimitive(1)));
    field('x509: malformed subjectUniqueID', () => tbs.readOptional(contextPrimitive(2)));
    const extsEl = version === 3 ? field('x509: malformed extensions', () => tbs.readOptional(contextConstructed(3))) : undefined;
    if (extsEl) {
      // ReadASN1 of the [3]'s content into itself: the first SEQUENCE; what follows it is never read (as Go).
      const list = DerReader.of(field('x509: malformed extensions', () => DerReader.of(extsEl).read(TAG.SEQUENCE, 'extensions')));
      const seen = new Set<string>();
      while (!list.empty) {
        const ext = readExtension(field('x509: malformed extension', () => list.read(TAG.SEQUENCE, 'extension')));
        if (seen.has(ext.id)) fail(`x509: certificate contains duplicate extension with OID "${ext.id}"`);
        seen.add(ext.id);
        extensions.push(ext);
      }
    }
  }
  const signature = field('x509: malformed signature', () => rightAlign(decodeBitString(input.read(TAG.BIT_STRING, 'signature').content)));

  const facts = processExtensions(extensions);
  return { version, serialContent, signatureAlgorithm, issuerEl, issuerAttributes, notBefore, notAfter, subjectEl, subjectAttributes, publicKeyInfo, extensions, signature, facts, tbsEl };
}

function certificateFields(der: Uint8Array, parts: CertificateParts): CertificateFields {
  const { version, serialContent, signatureAlgorithm, issuerEl, issuerAttributes, notBefore, notAfter, subjectEl, subjectAttributes, publicKeyInfo, extensions, signature, facts, tbsEl } = parts;
  const key = publicKeyInfo.key; // Go parses the key with the certificate: a key it cannot use fails the parse
  const serialHex = Buffer.from(serialContent).toString('hex').replace(/^(00)+(?=[0-9a-f])/, '');
  const certificate: Certificate = {
    der,
    pem: encodePem('CERTIFICATE', der),
    subject: nameFromAttributes(subjectAttributes),
    issuer: nameFromAttributes(issuerAttributes),
    serialNumber: serialHex,
    notBefore,
    notAfter,
    isCA: facts.isCA,
    maxPathLen: facts.basicConstraintsValid && facts.maxPathLen >= 0 ? facts.maxPathLen : undefined,
    keyUsage: facts.keyUsage,
    extKeyUsages: facts.extKeyUsages,
    sans: facts.sans,
    subjectKeyId: facts.subjectKeyId,
    authorityKeyId: facts.authorityKeyId,
    publicKey: key,
    signatureAlgorithm: signatureAlgorithm.name,
    rawSubject: subjectEl.der,
    rawIssuer: issuerEl.der,
  };
  return {
    certificate,
    version,
    extensions,
    basicConstraintsValid: facts.basicConstraintsValid,
    maxPathLen: facts.maxPathLen,
    sanValue: facts.sanValue,
    sanEntries: facts.sanEntries,
    nameConstraints: facts.nameConstraints,
    unhandledCriticalExtensions: facts.unhandledCriticalExtensions,
    spki: publicKeyInfo.spki,
    signature,
    tbs: tbsEl.der,
  };
}

function readTime(r: DerReader): Date {
  const tag = r.peekTag();
  if (tag === TAG.UTC_TIME) return field('x509: malformed UTCTime', () => decodeTime(r.readAny(), { cryptobyte: true }));
  if (tag === TAG.GENERALIZED_TIME) return field('x509: malformed GeneralizedTime', () => decodeTime(r.readAny(), { cryptobyte: true }));
  return fail('x509: unsupported time format');
}

/** Go's parseExtension: OID, optional BOOLEAN critical, OCTET STRING value. */
function readExtension(el: DerElement): CertificateExtension {
  const r = DerReader.of(el);
  const id = field('x509: malformed extension OID field', () => decodeOid(r.read(TAG.OID, 'extension id').content));
  const criticalEl = r.readOptional(TAG.BOOLEAN);
  const critical = criticalEl ? field('x509: malformed extension critical field', () => decodeBoolean(criticalEl.content)) : false;
  const value = field('x509: malformed extension value field', () => r.read(TAG.OCTET_STRING, 'extension value').content);
  return { id, critical, value };
}

const AUTHORITY_INFO_ACCESS = '1.3.6.1.5.5.7.1.1';
const emptySet = (): NameConstraintSet => ({ dns: [], ips: [], emails: [], uris: [] });

/** Go's processExtensions. */
function processExtensions(extensions: CertificateExtension[]) {
  const out = {
    isCA: false,
    basicConstraintsValid: false,
    maxPathLen: -1,
    keyUsage: 0,
    extKeyUsages: [] as string[],
    sans: { dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] } as Certificate['sans'],
    sanValue: undefined as Uint8Array | undefined,
    sanEntries: [] as SanEntry[],
    subjectKeyId: '',
    authorityKeyId: '',
    nameConstraints: undefined as CertificateFields['nameConstraints'],
    unhandledCriticalExtensions: [] as string[],
  };
  for (const e of extensions) {
    let unhandled = false;
    const arc = e.id.startsWith('2.5.29.') ? e.id.slice(7) : undefined;
    if (arc !== undefined && !arc.includes('.')) {
      switch (arc) {
        case '15':
          out.keyUsage = field('x509: invalid key usage', () => {
            const bits = decodeBitString(new DerReader(e.value).read(TAG.BIT_STRING, 'key usage').content);
            let mask = 0;
            for (let i = 0; i < 9; i++) if (bitAt(bits, i)) mask |= 1 << i;
            return mask;
          });
          break;
        case '19': {
          const bc = DerReader.of(field('x509: invalid basic constraints', () => new DerReader(e.value).read(TAG.SEQUENCE, 'basic constraints')));
          const ca = bc.readOptional(TAG.BOOLEAN);
          out.isCA = ca ? field('x509: invalid basic constraints', () => decodeBoolean(ca.content)) : false;
          const pathLen = bc.readOptional(TAG.INTEGER);
          out.maxPathLen = pathLen ? field('x509: invalid basic constraints', () => Number(decodeInteger(pathLen.content))) : -1;
          out.basicConstraintsValid = true;
          break;
        }
        case '17': {
          const { sans, entries } = readGeneralNames(e.value);
          out.sans = sans;
          out.sanValue = e.value;
          out.sanEntries = entries;
          if (sans.dnsNames.length + sans.emailAddresses.length + sans.ipAddresses.length + sans.uris.length === 0) unhandled = true;
          break;
        }
        case '30': {
          const nc = readNameConstraints(e.value);
          out.nameConstraints = { permitted: nc.permitted, excluded: nc.excluded };
          unhandled = nc.unhandled;
          break;
        }
        case '31':
          checkCrlDistributionPoints(e.value);
          break;
        case '32':
          checkCertificatePolicies(e.value);
          break;
        case '35': {
          if (e.critical) fail('x509: authority key identifier incorrectly marked critical');
          const akid = DerReader.of(field('x509: invalid authority key identifier', () => new DerReader(e.value).read(TAG.SEQUENCE, 'authority key identifier')));
          if (akid.peekTag() === contextPrimitive(0)) out.authorityKeyId = hex(field('x509: invalid authority key identifier', () => akid.readAny().content));
          break;
        }
        case '37':
          out.extKeyUsages = field('x509: invalid extended key usages', () =>
            DerReader.of(new DerReader(e.value).read(TAG.SEQUENCE, 'extended key usage'))
              .readAllOf(TAG.OID, 'extended key usage')
              .map((el) => decodeOid(el.content)),
          );
          break;
        case '14':
          if (e.critical) fail('x509: subject key identifier incorrectly marked critical');
          out.subjectKeyId = hex(field('x509: invalid subject key identifier', () => new DerReader(e.value).read(TAG.OCTET_STRING, 'subject key identifier').content));
          break;
        default:
          unhandled = true;
      }
    } else if (e.id === AUTHORITY_INFO_ACCESS) {
      if (e.critical) fail('x509: authority info access incorrectly marked critical');
      field('x509: invalid authority info access', () => {
        const list = DerReader.of(new DerReader(e.value).read(TAG.SEQUENCE, 'authority info access'));
        while (!list.empty) {
          const desc = DerReader.of(list.read(TAG.SEQUENCE, 'access description'));
          decodeOid(desc.read(TAG.OID, 'access method').content);
          if (desc.peekTag() === contextPrimitive(6)) desc.readAny();
        }
      });
    } else unhandled = true;
    if (e.critical && unhandled) out.unhandledCriticalExtensions.push(e.id);
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Go's parseNameConstraintsExtension: the subtrees' base names; another name kind marks it unhandled. */
function readNameConstraints(value: Uint8Array): { permitted: NameConstraintSet; excluded: NameConstraintSet; unhandled: boolean } {
  const { permittedEl, excludedEl } = field('x509: invalid NameConstraints extension', () => {
    const r = new DerReader(value);
    const top = DerReader.of(r.read(TAG.SEQUENCE, 'name constraints'));
    r.finish('name constraints');
    const p = top.readOptional(contextConstructed(0));
    const x = top.readOptional(contextConstructed(1));
    top.finish('name constraints');
    return { permittedEl: p, excludedEl: x };
  });
  if ((!permittedEl && !excludedEl) || ((permittedEl?.content.length ?? 0) === 0 && (excludedEl?.content.length ?? 0) === 0)) {
    fail('x509: empty name constraints extension');
  }
  let unhandled = false;
  const subtrees = (el: DerElement | undefined): NameConstraintSet => {
    const set = emptySet();
    if (!el) return set;
    const r = DerReader.of(el);
    while (!r.empty) {
      const base = field('x509: invalid NameConstraints extension', () => {
        const name = DerReader.of(r.read(TAG.SEQUENCE, 'subtree')).readAny();
        if (name.tag === HIGH_TAG) fail('x509: invalid NameConstraints extension'); // cryptobyte reads low tag numbers only
        return name;
      });
      const text = () => {
        if (!isIA5(base.content)) fail(`x509: invalid constraint value: x509: ${goQuoteBytes(base.content)} cannot be encoded as an IA5String`);
        return latin1(base.content);
      };
      switch (base.tag) {
        case contextPrimitive(2): {
          const domain = text();
          if (reverseLabels(withoutLeadingDot(domain)) === null) fail(`x509: failed to parse dnsName constraint ${goQuote(domain)}`);
          set.dns.push(domain);
          break;
        }
        case contextPrimitive(1): {
          // With an '@' the constraint is one mailbox, else a domain (which may start with '.').
          const constraint = text();
          const ok = constraint.includes('@') ? parseMailbox(constraint) !== null : reverseLabels(withoutLeadingDot(constraint)) !== null;
          if (!ok) fail(`x509: failed to parse rfc822Name constraint ${goQuote(constraint)}`);
          set.emails.push(constraint);
          break;
        }
        case contextPrimitive(6): {
          const domain = text();
          if (parseGoIp(domain) !== null) fail(`x509: failed to parse URI constraint ${goQuote(domain)}: cannot be IP address`);
          if (reverseLabels(withoutLeadingDot(domain)) === null) fail(`x509: failed to parse URI constraint ${goQuote(domain)}`);
          set.uris.push(domain);
          break;
        }
        case contextPrimitive(7): {
          const len = base.content.length;
          if (len !== 8 && len !== 32) fail(`x509: IP constraint contained value of length ${len}`);
          const ip = base.content.subarray(0, len / 2);
          const mask = base.content.subarray(len / 2);
          if (!isValidIpMask(mask)) fail(`x509: IP constraint contained invalid mask ${hex(mask)}`);
          set.ips.push({ ip, mask });
          break;
        }
        default:
          unhandled = true;
      }
    }
    return set;
  };
  const permitted = subtrees(permittedEl);
  const excluded = subtrees(excludedEl);
  return { permitted, excluded, unhandled };
}

/** A domain constraint may start with '.' (subdomains only), which is not part of the domain's syntax. */
const withoutLeadingDot = (domain: string): string => (domain.startsWith('.') ? domain.slice(1) : domain);

/**
 * Go's reading of CRL distribution points (processExtensions, case 31): a SEQUENCE of DistributionPoint
 * SEQUENCEs; of each, only an optional [0] distributionPoint is read, which must hold a [0] fullName (a
 * nameRelativeToCRLIssuer fails), whose leading [6] URIs must be well formed. Go stops at the first other
 * name and never reads reasons or cRLIssuer; bytes after the outer SEQUENCE or after the fullName are
 * ignored, as cryptobyte's ReadASN1 into the same variable ignores them.
 */
function checkCrlDistributionPoints(value: Uint8Array): void {
  const points = DerReader.of(field('x509: invalid CRL distribution points', () => new DerReader(value).read(TAG.SEQUENCE, 'CRL distribution points')));
  while (!points.empty) {
    field('x509: invalid CRL distribution point', () => {
      const point = DerReader.of(points.read(TAG.SEQUENCE, 'distribution point'));
      const name = point.readOptional(contextConstructed(0));
      if (!name) return;
      const fullName = DerReader.of(DerReader.of(name).read(contextConstructed(0), 'fullName'));
      while (fullName.peekTag() === contextPrimitive(6)) fullName.read(contextPrimitive(6), 'URI');
    });
  }
}

/**
 * Go 1.23's parseCertificatePoliciesExtension: a SEQUENCE of PolicyInformation SEQUENCEs, each starting with
 * an OID that newOIDFromDER accepts (minimal base-128 arcs of any size; Go 1.19 refused arcs from 2^31 and
 * took non-minimal ones). Qualifiers and bytes after the outer SEQUENCE are not read. Go 1.24 also refuses
 * a policy OID given twice; Go 1.23 does not.
 */
function checkCertificatePolicies(value: Uint8Array): void {
  field('x509: invalid certificate policies', () => {
    const policies = DerReader.of(new DerReader(value).read(TAG.SEQUENCE, 'certificate policies'));
    while (!policies.empty) {
      const info = DerReader.of(policies.read(TAG.SEQUENCE, 'policy information'));
      if (!isMinimalOid(info.read(TAG.OID, 'policy identifier').content)) fail('x509: invalid certificate policies');
    }
  });
}

/** Go's newOIDFromDER: non-empty, the last arc complete, no arc starting with a 0x80 octet. */
function isMinimalOid(content: Uint8Array): boolean {
  if (content.length === 0 || content[content.length - 1]! & 0x80) return false;
  let arcStart = true;
  for (const b of content) {
    if (arcStart && b === 0x80) return false;
    arcStart = (b & 0x80) === 0;
  }
  return true;
}

/** Go's isValidIPMask: ones, then zeros. */
function isValidIpMask(mask: Uint8Array): boolean {
  let seenZero = false;
  for (const b of mask) {
    if (seenZero) {
      if (b !== 0) return false;
      continue;
    }
    if (b === 0xff) continue;
    if (b !== 0x00 && b !== 0x80 && b !== 0xc0 && b !== 0xe0 && b !== 0xf0 && b !== 0xf8 && b !== 0xfc && b !== 0xfe) return false;
    seenZero = true;
  }
  return true;
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
