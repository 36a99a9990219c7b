// Chain verification for client authentication and for checking an existing PKI: a leaf is trusted when it
// chains, by name and signature, to one of the roots, every certificate is within its validity, and the
// leaf carries the extended key usage asked for (Go's x509.VerifyOptions semantics, simplified to the
// depths kubepki meets: leaf → optional intermediates → root).
import { isSignedBy, type Certificate } from './certificate.js';
import { EXT_KEY_USAGE_OIDS } from './usages.js';
import { formatTime } from '../util/time.js';

export type VerifyFailure =
  | 'UnknownAuthority'
  | 'Expired'
  | 'NotYetValid'
  | 'IncompatibleUsage'
  | 'NotCA';

export type VerifyResult = { ok: true; chain: Certificate[] } | { ok: false; reason: VerifyFailure; message: string };

export interface VerifyOptions {
  roots: Certificate[];
  intermediates?: Certificate[];
  now: Date;
  /** Required EKU (e.g. 'client auth'); 'any' EKU in the leaf satisfies it, as in Go. */
  usage?: 'client auth' | 'server auth';
  maxDepth?: number;
}

/** Go-like messages so errors read as kube-apiserver's do ("x509: certificate signed by unknown authority"). */
export function verifyCertificate(leaf: Certificate, options: VerifyOptions): VerifyResult {
  const { now } = options;
  if (now < leaf.notBefore) {
    return { ok: false, reason: 'NotYetValid', message: `x509: certificate has expired or is not yet valid: current time ${formatTime(now)} is before ${formatTime(leaf.notBefore)}` };
  }
  if (now > leaf.notAfter) {
    return { ok: false, reason: 'Expired', message: `x509: certificate has expired or is not yet valid: current time ${formatTime(now)} is after ${formatTime(leaf.notAfter)}` };
  }
  if (options.usage) {
    const want = EXT_KEY_USAGE_OIDS[options.usage];
    const ekus = leaf.extKeyUsages;
    if (ekus.length > 0 && !ekus.includes(want) && !ekus.includes(EXT_KEY_USAGE_OIDS.any)) {
      return { ok: false, reason: 'IncompatibleUsage', message: 'x509: certificate specifies an incompatible key usage' };
    }
  }
  const chain = findChain(leaf, options, [leaf], options.maxDepth ?? 4);
  if (!chain) return { ok: false, reason: 'UnknownAuthority', message: 'x509: certificate signed by unknown authority' };
  return { ok: true, chain };
}

function findChain(cert: Certificate, options: VerifyOptions, path: Certificate[], depth: number): Certificate[] | null {
  for (const root of options.roots) {
    if (root.isCA && withinValidity(root, options.now) && isSignedBy(cert, root)) return [...path, root];
    // A root presented as the leaf itself (self-signed CA certificate used directly) is trusted by identity.
    if (Buffer.compare(Buffer.from(root.der), Buffer.from(cert.der)) === 0) return path;
  }
  if (depth <= 0) return null;
  for (const inter of options.intermediates ?? []) {
    if (path.includes(inter) || !inter.isCA || !withinValidity(inter, options.now)) continue;
    if (isSignedBy(cert, inter)) {
      const found = findChain(inter, options, [...path, inter], depth - 1);
      if (found) return found;
    }
  }
  return null;
}

function withinValidity(c: Certificate, now: Date): boolean {
  return now >= c.notBefore && now <= c.notAfter;
}

