// The signing policy of kube-controller-manager's local signer (pkg/controller/certificates/signer and
// authority.PermissiveSigningPolicy): how long a certificate lives and from when.
//  - TTL = --cluster-signing-duration, or spec.expirationSeconds when shorter (but never under 10 minutes,
//    twice the backdate);
//  - notBefore = now − 5 min, for nodes whose clocks run a little behind;
//  - notAfter = now + TTL − 5 min (the backdate is taken off the end so the lifetime stays TTL), except for
//    short certificates (TTL < 8 h) where 5 minutes would matter: those end at now + TTL;
//  - never past the CA's own notAfter; an expired CA signs nothing.
import { KubepkiError } from '../../util/errors.js';

export const BACKDATE_MS = 5 * 60_000;
export const SHORT_TTL_MS = 8 * 3_600_000;
export const MIN_REQUESTED_TTL_MS = 10 * 60_000;
export const DEFAULT_SIGNING_DURATION_MS = 8760 * 3_600_000;

/** The TTL of a certificate for a request with optional spec.expirationSeconds. */
export function certificateTtl(maxTtlMs: number, expirationSeconds?: number | null): number {
  if (expirationSeconds === undefined || expirationSeconds === null) return maxTtlMs;
  const requested = expirationSeconds * 1000;
  if (requested > maxTtlMs) return maxTtlMs;
  if (requested < MIN_REQUESTED_TTL_MS) return MIN_REQUESTED_TTL_MS;
  return requested;
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** notBefore/notAfter for a certificate signed now; throws when the CA can no longer sign. */
export function validityWindow(options: { now: Date; ttlMs: number; caNotAfter: Date }): Validity {
  const { now, ttlMs, caNotAfter } = options;
  const t = now.getTime();
  const notBefore = new Date(t - BACKDATE_MS);
  let notAfter = new Date(ttlMs < SHORT_TTL_MS ? t + ttlMs : t + ttlMs - BACKDATE_MS);
  if (notAfter.getTime() >= caNotAfter.getTime()) notAfter = new Date(caNotAfter.getTime());
  if (notBefore.getTime() >= caNotAfter.getTime()) {
    throw new KubepkiError('InvalidCertificate', `the signer has expired: NotAfter=${caNotAfter.toISOString()}`);
  }
  if (t >= caNotAfter.getTime()) {
    throw new KubepkiError('InvalidCertificate', `refusing to sign a certificate that expired in the past: NotAfter=${caNotAfter.toISOString()}`);
  }
  return { notBefore, notAfter };
}
