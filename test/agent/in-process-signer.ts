// A CsrApi that signs in-process with a test CA, for unit-testing the certificate manager without an API
// server (the e2e tests use `kubepki serve`). Each request takes the next scripted outcome.
import type { CertKeyPair } from '../../src/agent/cert-store.js';
import { CsrDeniedError, type CsrApi, type CsrRef, type CsrSpec } from '../../src/agent/csr-client.js';
import type { Clock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import { issueCertificate, parseCertificateRequestPem, parseUsages, type CertificateIssuer } from '../../src/x509/index.js';

export type Outcome =
  | { kind: 'issue'; usages?: string[]; lifetimeMs?: number }
  | { kind: 'deny'; reason?: string; message?: string }
  | { kind: 'fail' }
  | { kind: 'error'; status?: number; message?: string }
  | { kind: 'hold' };

export interface RecordedRequest {
  spec: CsrSpec;
  ref: CsrRef;
  /** The credentials the manager chose for this request. */
  credentials: 'certificate' | 'bootstrap';
  subject: { commonName?: string; organization?: string[] };
  dnsNames: string[];
  ipAddresses: string[];
}

export class InProcessSigner {
  readonly requests: RecordedRequest[] = [];
  readonly factoryCalls: ('certificate' | 'bootstrap')[] = [];
  private outcomes: Outcome[] = [];
  private held: { release: () => void }[] = [];
  private seq = 0;

  constructor(
    private readonly ca: CertificateIssuer,
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
  ) {}

  /** Outcomes for the next requests, in order; when none is left, requests are issued. */
  script(...outcomes: Outcome[]): void {
    this.outcomes.push(...outcomes);
  }

  /** Lets every held request be issued. */
  releaseAll(): void {
    for (const h of this.held.splice(0)) h.release();
  }

  /** The factory given to the manager (client-go's ClientsetFn). */
  factory = (current: CertKeyPair | null): CsrApi => {
    const credentials = current ? 'certificate' : 'bootstrap';
    this.factoryCalls.push(credentials);
    return {
      create: async (spec) => {
        const req = await parseCertificateRequestPem(spec.csrPem);
        const ref = { name: spec.name ?? `csr-${++this.seq}`, uid: `uid-${this.seq}` };
        this.requests.push({ spec, ref, credentials, subject: req.subject, dnsNames: req.sans.dnsNames, ipAddresses: req.sans.ipAddresses });
        return ref;
      },
      waitForCertificate: async (ref, options) => {
        const outcome = this.outcomes.shift() ?? { kind: 'issue' };
        const request = this.requests.find((r) => r.ref.name === ref.name)!;
        switch (outcome.kind) {
          case 'deny':
            throw new CsrDeniedError(ref.name, outcome.reason ?? 'NotAllowed', outcome.message ?? 'denied by the test');
          case 'fail':
            throw new KubepkiError('CSRFailed', `certificate signing request ${ref.name} failed, reason: SignerFailed`);
          case 'error': {
            const err = new KubepkiError('APIError', outcome.message ?? 'connect ECONNREFUSED 127.0.0.1:6443');
            (err as KubepkiError & { status?: number }).status = outcome.status;
            throw err;
          }
          case 'hold':
            await new Promise<void>((resolve, reject) => {
              this.held.push({ release: resolve });
              options.signal?.addEventListener('abort', () => reject(options.signal?.reason ?? new Error('aborted')), { once: true });
            });
            return this.issue(request, {});
          case 'issue':
            return this.issue(request, outcome);
        }
      },
    };
  };

  private async issue(request: RecordedRequest, outcome: { usages?: string[]; lifetimeMs?: number }): Promise<string> {
    const req = await parseCertificateRequestPem(request.spec.csrPem);
    const now = this.clock.now();
    const cert = await issueCertificate({
      template: {
        subject: req.subject,
        sans: req.sans,
        notBefore: now,
        notAfter: new Date(now.getTime() + (outcome.lifetimeMs ?? this.lifetimeMs)),
        ...parseUsages(outcome.usages ?? request.spec.usages),
      },
      publicKey: req.publicKey,
      issuer: this.ca,
    });
    return cert.pem;
  }
}
