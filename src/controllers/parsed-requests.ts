// spec.request parsed once per request on the controllers thread: the approver parses a pending request and
// the signer parses the same bytes again once it is approved (the spec is immutable, only the status changed).
// The parse is a pure function of the spec.request text, so the cache is keyed by that text: whatever object,
// resourceVersion or controller asks, the same bytes give the same parse, and a request whose bytes differ is
// parsed afresh. Parsed requests are never changed by their readers (the public key is imported lazily, once).
import type { CertificateRequest } from '../x509/certificate-request.js';

/**
 * At most this many parsed requests are kept (oldest dropped first): enough for the approvals that run ahead
 * of signing in a bootstrap storm, bounded (~2 KB each) so that a storm of requests nobody signs holds little.
 */
export const PARSED_REQUESTS_MAX = 1024;

export class ParsedRequests {
  private readonly byRequest = new Map<string, CertificateRequest>();
  /** For tests and the benchmark: parses done, and parses saved. */
  readonly stats = { parses: 0, hits: 0 };

  constructor(private readonly max = PARSED_REQUESTS_MAX) {}

  /**
   * The parse of `request` (spec.request's base64 text) by `parse`, from the cache when it holds it. `keep`:
   * whether a later reader will ask again (the approver: the signer will); the last reader (the signer)
   * takes the entry out. A parse that throws is not cached.
   */
  get(request: string, parse: () => CertificateRequest, keep: boolean): CertificateRequest {
    const cached = this.byRequest.get(request);
    if (cached) {
      this.stats.hits++;
      if (!keep) this.byRequest.delete(request);
      return cached;
    }
    const parsed = parse();
    this.stats.parses++;
    if (keep) {
      if (this.byRequest.size >= this.max) this.byRequest.delete(this.byRequest.keys().next().value as string);
      this.byRequest.set(request, parsed);
    }
    return parsed;
  }

  get size(): number {
    return this.byRequest.size;
  }
}
