// What the controllers' shared CSR informer keeps of each request (kube-controller-manager's informers take a
// TransformFunc too). With 100,000 issued CSRs cached, spec.request and status.certificate (base64 of PEM) are
// about 1.45 KB of the 2 KB a cached request takes (bench:memory), and once a request is settled no controller
// reads them again:
//   - spec.request is parsed by the approver only for a request with no Approved/Denied condition and no
//     certificate, and by the signer only for an approved, not denied, not failed request with no certificate.
//     For an issued, a denied, or an approved-and-failed request it is cached as ''.
//   - status.certificate is read by isIssued (is it non-empty) and by the cleaner (the certificate's notAfter).
//     For an issued request it is cached as CERTIFICATE_NOT_CACHED (one shared string, so isIssued holds), and
//     the notAfter is read once, here, and kept on the cached object (status.cachedCertificateNotAfterMs).
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
  status?: NonNullable<CertificateSigningRequest['status']> & {
    /**
     * Present only when status.certificate is CERTIFICATE_NOT_CACHED: the notAfter (ms since the epoch) of the
     * certificate it held, or null when that certificate could not be read. On status, added in place: V8 keeps
     * one hidden class for them, where a number added to the top-level object (which compactForCache copies)
     * got a hidden class per object.
     */
    cachedCertificateNotAfterMs?: number | null;
  };
}

/** Whether any controller may still parse spec.request (see the file comment). */
export function requestStillRead(csr: CertificateSigningRequest): boolean {
  if (isIssued(csr)) return false;
  const { approved, denied } = approvalState(csr);
  return !denied && !(approved && hasTrueCondition(csr, 'Failed'));
}

/** notAfter of the first certificate in status.certificate, or undefined when it cannot be read (kube: not expired). */
export function issuedCertificateNotAfter(csr: CachedCertificateSigningRequest): Date | undefined {
  const cached = csr.status?.cachedCertificateNotAfterMs;
  if (cached !== undefined) return cached === null ? undefined : new Date(cached);
  try {
    const blocks = decodePem(Buffer.from(csr.status?.certificate ?? '', 'base64').toString('utf8'), 'status.certificate');
    return readCertificateValidity(blocks[0]!.der).notAfter;
  } catch {
    return undefined;
  }
}

/**
 * The cached form of `csr`, made in place (the informer's transform gets the object it has just decoded, as
 * client-go's TransformFunc does): spec.request and status.certificate dropped as the file comment says, and a
 * condition's lastTransitionTime sharing its lastUpdateTime's string when they are equal. In place also keeps
 * every cached request on one V8 hidden class: copies made with object spread got a hidden class (and its
 * descriptor array, ~240 bytes) each, 24 MiB for 100,000 requests.
 */
export function trimSettledRequest(csr: CertificateSigningRequest): CachedCertificateSigningRequest {
  if (!csr?.spec || requestStillRead(csr)) return csr;
  const out = csr as CachedCertificateSigningRequest;
  for (const c of out.status?.conditions ?? []) {
    if (c.lastTransitionTime !== undefined && c.lastTransitionTime === c.lastUpdateTime) c.lastTransitionTime = c.lastUpdateTime;
  }
  out.spec.request = '';
  if (out.status && isIssued(out)) {
    out.status.cachedCertificateNotAfterMs = issuedCertificateNotAfter(out)?.getTime() ?? null;
    out.status.certificate = CERTIFICATE_NOT_CACHED;
  }
  return out;
}
