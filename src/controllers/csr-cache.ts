// What the controllers' shared CSR informer keeps of each request (kube-controller-manager's informers take a
// TransformFunc too). With 100,000 issued CSRs cached, spec.request and status.certificate (base64 of PEM) are
// about 1.45 KB of the 2 KB a cached request takes (bench:memory), and once a request is settled no controller
// reads them again:
//   - spec.request is parsed by the approver only for a request with no Approved/Denied condition and no
//     certificate, and by the signer only for an approved, not denied, not failed request with no certificate.
//     For an issued, a denied, or an approved-and-failed request it is cached as ''.
//   - status.certificate is read by isIssued (is it non-empty) and by the cleaner (the certificate's notAfter).
//     For an issued request it is cached as CERTIFICATE_NOT_CACHED (one shared string, so isIssued holds), and
//     the notAfter is read once, here, and kept on the cached object (cachedCertificateNotAfterMs).
// Each later version of a request arrives whole from the server and is judged again, so no decision is taken
// on a trimmed copy of an earlier state. The approver and the signer only write back copies of requests that
// are not settled (whole); a settled copy written back would be refused by the server (the placeholder is no
// certificate), never stored.
import type { CertificateSigningRequest } from '../apis/csr.js';
import { decodePem } from '../x509/pem.js';
import { readCertificateValidity } from '../x509/certificate-validity.js';
import { approvalState, hasTrueCondition, isIssued } from './csr.js';

/** status.certificate of an issued request in the controllers' cache: the certificate itself is not kept. */
export const CERTIFICATE_NOT_CACHED = 'certificate-not-cached';

/** A CSR as the controllers' informer caches it (see trimSettledRequest). */
export interface CachedCertificateSigningRequest extends CertificateSigningRequest {
  /**
   * Present only when status.certificate is CERTIFICATE_NOT_CACHED: the notAfter (ms since the epoch) of the
   * certificate it held, or null when that certificate could not be read.
   */
  cachedCertificateNotAfterMs?: number | null;
}

/** Whether any controller may still parse spec.request (see the file comment). */
export function requestStillRead(csr: CertificateSigningRequest): boolean {
  if (isIssued(csr)) return false;
  const { approved, denied } = approvalState(csr);
  return !denied && !(approved && hasTrueCondition(csr, 'Failed'));
}

/** notAfter of the first certificate in status.certificate, or undefined when it cannot be read (kube: not expired). */
export function issuedCertificateNotAfter(csr: CachedCertificateSigningRequest): Date | undefined {
  if (csr.cachedCertificateNotAfterMs !== undefined) return csr.cachedCertificateNotAfterMs === null ? undefined : new Date(csr.cachedCertificateNotAfterMs);
  try {
    const blocks = decodePem(Buffer.from(csr.status?.certificate ?? '', 'base64').toString('utf8'), 'status.certificate');
    return readCertificateValidity(blocks[0]!.der).notAfter;
  } catch {
    return undefined;
  }
}

/**
 * The cached form of `csr`: spec.request and status.certificate dropped as the file comment says, and a
 * condition's lastTransitionTime sharing its lastUpdateTime's string when they are equal. Returns new spec,
 * status and top-level objects; the input is left as it was.
 */
export function trimSettledRequest(csr: CertificateSigningRequest): CachedCertificateSigningRequest {
  if (!csr?.spec || requestStillRead(csr)) return csr;
  const status = csr.status ? { ...csr.status } : undefined;
  if (status?.conditions) {
    status.conditions = status.conditions.map((c) =>
      c.lastTransitionTime !== undefined && c.lastTransitionTime === c.lastUpdateTime ? { ...c, lastTransitionTime: c.lastUpdateTime } : c,
    );
  }
  if (!status || !isIssued(csr)) return { ...csr, spec: { ...csr.spec, request: '' }, ...(status ? { status } : {}) };
  const notAfter = issuedCertificateNotAfter(csr)?.getTime() ?? null;
  status.certificate = CERTIFICATE_NOT_CACHED;
  // The notAfter in the literal, so that it is an in-object property rather than one added later.
  const out: CachedCertificateSigningRequest = { ...csr, spec: { ...csr.spec, request: '' }, status, cachedCertificateNotAfterMs: notAfter };
  return out;
}
