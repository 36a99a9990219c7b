// Path validation as Go's crypto/x509 Certificate.Verify does it (Go 1.19-1.22 verify.go; the verifier
// kube-apiserver, kubectl and the kubelet run): every chain from the leaf to a root through the
// intermediates, candidates tried in Go's order (roots before intermediates; matching key IDs first), Go's
// loop check and 100-signature budget, validity periods, basic constraints and path length, name
// constraints, EKUs nested down the chain, host names, and the error text Go returns, word for word —
// including which error wins when several candidates fail (the last candidate whose signature checked out
// decides, as Go's buildChains assigns it).
import { X509Certificate as NodeX509 } from 'node:crypto';
import type { Certificate } from '../certificate.js';
import { EXT_KEY_USAGE_OIDS } from '../usages.js';
import { goQuote, rfc3339 } from './go-format.js';
import { verifyHostname } from './hostname.js';
import { checkNameConstraints } from './name-constraints.js';
import { pathCertOf, type PathCert } from './path-cert.js';

export type Purpose = 'server' | 'client' | 'any';

export interface PathValidationOptions {
  roots: readonly Certificate[];
  intermediates?: readonly Certificate[];
  /** Go's VerifyOptions.CurrentTime. */
  now: Date;
  /** Go's VerifyOptions.DNSName: a host name or IP the leaf must be valid for. */
  dnsName?: string;
  /** Go's VerifyOptions.KeyUsages as purposes; default server auth, as Go. */
  purposes?: readonly Purpose[];
}

/**
 * Which of Go's verification errors it is (UnknownAuthorityError, HostnameError, CertificateInvalidError's
 * reasons), for callers that act on the kind: Expired and NotYetValid texts carry the current time.
 */
export type PathFailure = 'Expired' | 'NotYetValid' | 'UnknownAuthority' | 'IncompatibleUsage' | 'NotCA' | 'Hostname' | 'Invalid';

/** One failure: Go's error text, word for word, and its kind. */
export interface PathError {
  reason: PathFailure;
  error: string;
}

export type PathValidationResult = { ok: true; chains: Certificate[][] } | ({ ok: false } & PathError);

const MAX_SIGNATURE_CHECKS = 100;
const CERT_SIGN = 32;
const PURPOSE_OID: Record<Purpose, string> = { server: EXT_KEY_USAGE_OIDS['server auth'], client: EXT_KEY_USAGE_OIDS['client auth'], any: EXT_KEY_USAGE_OIDS.any };

type CertType = 'leaf' | 'intermediate' | 'root';

/** Go's CertPool: de-duplicated by encoding, candidates looked up by the child's raw issuer name. */
class Pool {
  private readonly byName = new Map<string, PathCert[]>();
  private readonly digests = new Set<string>();

  constructor(certs: readonly Certificate[]) {
    for (const cert of certs) {
      const pc = pathCertOf(cert);
      if (this.digests.has(pc.digest)) continue;
      this.digests.add(pc.digest);
      const key = Buffer.from(cert.rawSubject).toString('hex');
      const list = this.byName.get(key) ?? [];
      list.push(pc);
      this.byName.set(key, list);
    }
  }

  contains(pc: PathCert): boolean {
    return this.digests.has(pc.digest);
  }

  /** Same issuer name; key IDs matching first, then one side missing, then mismatching (Go's order). */
  potentialParents(child: PathCert): PathCert[] {
    const all = this.byName.get(Buffer.from(child.cert.rawIssuer).toString('hex')) ?? [];
    const aki = child.cert.authorityKeyId;
    const matching = all.filter((c) => c.cert.subjectKeyId === aki);
    const one = all.filter((c) => c.cert.subjectKeyId !== aki && (c.cert.subjectKeyId === '') !== (aki === ''));
    const mismatch = all.filter((c) => c.cert.subjectKeyId !== aki && (c.cert.subjectKeyId === '') === (aki === ''));
    return [...matching, ...one, ...mismatch];
  }
}

const GO_KEY = { rsa: { algo: 'RSA', type: '*rsa.PublicKey' }, ec: { algo: 'ECDSA', type: '*ecdsa.PublicKey' }, ed25519: { algo: 'Ed25519', type: 'ed25519.PublicKey' } } as const;

/** The public key algorithm a signature algorithm name (certificate.ts's names) implies. */
function signatureKeyAlgo(name: string): 'RSA' | 'ECDSA' | 'Ed25519' | undefined {
  if (name.endsWith('-RSA') || name.endsWith('-RSAPSS')) return 'RSA';
  if (name.startsWith('ECDSA-')) return 'ECDSA';
  if (name === 'Ed25519') return 'Ed25519';
  return undefined;
}

/** Go's Certificate.CheckSignatureFrom: null, or the error it returns. */
function checkSignatureFrom(child: PathCert, parent: PathCert): string | null {
  if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA) || (parent.keyUsage !== 0 && (parent.keyUsage & CERT_SIGN) === 0)) {
    return 'x509: invalid signature: parent certificate cannot sign this kind of certificate';
  }
  const alg = child.cert.signatureAlgorithm;
  if (alg === 'SHA1-RSA' || alg === 'ECDSA-SHA1') return `x509: cannot verify signature: insecure algorithm ${alg} (temporarily override with GODEBUG=x509sha1=1)`;
  if (alg === 'MD5-RSA') return `x509: cannot verify signature: insecure algorithm ${alg}`;
  const keyType = parent.cert.publicKey.asymmetricKeyType as keyof typeof GO_KEY | undefined;
  const goKey = keyType ? GO_KEY[keyType] : undefined;
  const wanted = signatureKeyAlgo(alg);
  if (!goKey || !wanted) return 'x509: cannot verify signature: algorithm unimplemented';
  if (goKey.algo !== wanted) return `x509: signature algorithm specifies an ${wanted} public key, but have public key of type ${goKey.type}`;
  let ok = false;
  try {
    ok = new NodeX509(Buffer.from(child.cert.der)).verify(parent.cert.publicKey);
  } catch {
    ok = false;
  }
  if (ok) return null;
  return goKey.algo === 'RSA' ? 'crypto/rsa: verification error' : `x509: ${goKey.algo} verification failure`;
}

const invalid = (error: string): PathError => ({ reason: 'Invalid', error });

/** Go's isValid for a certificate about to be appended to `chain` as `type`. */
function isValid(pc: PathCert, type: CertType, chain: PathCert[], now: Date): PathError | null {
  if (pc.unhandledCriticalExtension) return invalid('x509: unhandled critical extension');
  const child = chain[chain.length - 1];
  if (child && !Buffer.from(child.cert.rawIssuer).equals(Buffer.from(pc.cert.rawSubject))) return invalid('x509: issuer name does not match subject from issuing certificate');
  if (now.getTime() < pc.cert.notBefore.getTime()) {
    return { reason: 'NotYetValid', error: `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(pc.cert.notBefore)}` };
  }
  if (now.getTime() > pc.cert.notAfter.getTime()) {
    return { reason: 'Expired', error: `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(pc.cert.notAfter)}` };
  }
  if (type !== 'leaf') {
    const err = checkNameConstraints(pc, chain[0]!);
    if (err) return invalid(err);
  }
  // Key usage bits are not checked here (Go ignores them but for certSign in CheckSignatureFrom).
  if (type === 'intermediate' && (!pc.basicConstraintsValid || !pc.isCA)) return { reason: 'NotCA', error: 'x509: certificate is not authorized to sign other certificates' };
  if (pc.basicConstraintsValid && pc.maxPathLen >= 0 && chain.length - 1 > pc.maxPathLen) return invalid('x509: too many intermediates for path length constraint');
  return null;
}

/** Go's alreadyInChain: same subject, same key and the same SAN extension (or neither has one). */
function alreadyInChain(candidate: PathCert, chain: PathCert[]): boolean {
  for (const c of chain) {
    if (!Buffer.from(candidate.cert.rawSubject).equals(Buffer.from(c.cert.rawSubject))) continue;
    if (!candidate.spki.equals(c.spki)) continue;
    if (candidate.sanValue === undefined && c.sanValue === undefined) return true;
    if (candidate.sanValue === undefined || c.sanValue === undefined) return false;
    if (Buffer.from(candidate.sanValue).equals(Buffer.from(c.sanValue))) return true;
  }
  return false;
}

function unknownAuthority(hintErr: string | null, hintCert: PathCert | null): PathError {
  const base = 'x509: certificate signed by unknown authority';
  if (hintErr === null || hintCert === null) return { reason: 'UnknownAuthority', error: base };
  const subject = hintCert.cert.subject;
  const name = subject.commonName || subject.organization?.[0] || `serial:${BigInt('0x' + (hintCert.cert.serialNumber || '0')).toString()}`;
  return { reason: 'UnknownAuthority', error: `${base} (possibly because of ${goQuote(hintErr)} while trying to verify candidate authority certificate ${goQuote(name)})` };
}

interface BuildContext {
  roots: Pool;
  intermediates: Pool;
  now: Date;
  signatureChecks: number;
}

function buildChains(c: PathCert, current: PathCert[], ctx: BuildContext): { chains: PathCert[][]; err: PathError | null } {
  const chains: PathCert[][] = [];
  let err: PathError | null = null;
  let hintErr: string | null = null;
  let hintCert: PathCert | null = null;
  const consider = (type: CertType, candidate: PathCert) => {
    if (alreadyInChain(candidate, current)) return;
    if (++ctx.signatureChecks > MAX_SIGNATURE_CHECKS) {
      err = invalid('x509: signature check attempts limit reached while verifying certificate chain');
      return;
    }
    const sigErr = checkSignatureFrom(c, candidate);
    if (sigErr !== null) {
      if (hintErr === null) {
        hintErr = sigErr;
        hintCert = candidate;
      }
      return;
    }
    err = isValid(candidate, type, current, ctx.now);
    if (err !== null) return;
    if (type === 'root') chains.push([...current, candidate]);
    else {
      const child = buildChains(candidate, [...current, candidate], ctx);
      err = child.err;
      chains.push(...child.chains);
    }
  };
  for (const root of ctx.roots.potentialParents(c)) consider('root', root);
  for (const inter of ctx.intermediates.potentialParents(c)) consider('intermediate', inter);
  if (chains.length > 0) err = null;
  if (chains.length === 0 && err === null) err = unknownAuthority(hintErr, hintCert);
  return { chains, err };
}

/** Go's checkChainForKeyUsage: each certificate with EKUs (and no anyExtendedKeyUsage) crosses out the rest. */
function chainAllowsUsages(chain: PathCert[], wanted: string[]): boolean {
  const usages: (string | null)[] = [...wanted];
  let remaining = usages.length;
  for (let i = chain.length - 1; i >= 0; i--) {
    const ekus = chain[i]!.extKeyUsages;
    if (ekus.length === 0 || ekus.includes(PURPOSE_OID.any)) continue;
    for (let u = 0; u < usages.length; u++) {
      const requested = usages[u];
      if (requested === null || ekus.includes(requested)) continue;
      usages[u] = null;
      if (--remaining === 0) return false;
    }
  }
  return true;
}

/** Validates `leaf` as Go's Certificate.Verify would, returning every chain or Go's error text. */
export function validatePath(leaf: Certificate, options: PathValidationOptions): PathValidationResult {
  const pc = pathCertOf(leaf);
  const leafErr = isValid(pc, 'leaf', [], options.now);
  if (leafErr) return { ok: false, ...leafErr };
  if (options.dnsName) {
    const hostErr = verifyHostname(pc, options.dnsName);
    if (hostErr) return { ok: false, reason: 'Hostname', error: hostErr };
  }
  const roots = new Pool(options.roots);
  let candidates: PathCert[][];
  if (roots.contains(pc)) candidates = [[pc]];
  else {
    const built = buildChains(pc, [pc], { roots, intermediates: new Pool(options.intermediates ?? []), now: options.now, signatureChecks: 0 });
    if (built.err !== null) return { ok: false, ...built.err };
    candidates = built.chains;
  }
  const purposes = options.purposes && options.purposes.length > 0 ? options.purposes : ['server' as const];
  const toCerts = (chains: PathCert[][]) => chains.map((chain) => chain.map((p) => p.cert));
  if (purposes.includes('any')) return { ok: true, chains: toCerts(candidates) };
  const wanted = purposes.map((p) => PURPOSE_OID[p]);
  const chains = candidates.filter((chain) => chainAllowsUsages(chain, wanted));
  if (chains.length === 0) return { ok: false, reason: 'IncompatibleUsage', error: 'x509: certificate specifies an incompatible key usage' };
  return { ok: true, chains: toCerts(chains) };
}
