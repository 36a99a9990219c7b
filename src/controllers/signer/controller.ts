// csrsigning: signs Approved, not yet issued CSRs of the signers it holds a CA for, or marks those that break
// their signer's rules Failed (reason SignerValidationFailure), as kube-controller-manager's signer does. One
// certificate controller serves every configured signerName; each request's rules come from its signer's
// definition (signers/), looked up by signerName.
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { encodePem } from '../../x509/pem.js';
import { checkCsrSignature } from '../../x509/csr-signature.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import { hasTrueCondition, isApproved, isIssued, parseSpecRequest } from '../csr.js';
import { formatTime } from '../../util/time.js';
import type { ControllerMetrics } from '../metrics.js';
import { CertificateController } from '../runtime/certificate-controller.js';
import type { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, terminal, waiting, type Outcome } from '../runtime/outcome.js';
import type { CertificateSigningRequest } from '../../apis/index.js';
import { issueFromRequest, type SigningAuthority } from './issue.js';
import { DEFAULT_SIGNING_DURATION_MS, validityWindow } from './policy.js';
import type { SignerDefinition } from './signer.js';
import { signerTable } from './signers/index.js';

export const SIGNER_VALIDATION_FAILURE = 'SignerValidationFailure';

export interface SigningControllerOptions {
  client: KubeClient;
  informer: Informer<CertificateSigningRequest>;
  /** signerName → CA. Only these signer names are handled. */
  authorities: ReadonlyMap<string, SigningAuthority>;
  /** signerName → rules; default: the four kubernetes.io signers (signerTable()). */
  signers?: ReadonlyMap<string, SignerDefinition>;
  /** --cluster-signing-duration (ms). */
  signingDurationMs?: number;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** See ControllerManagerOptions.requestsVerifiedByServer: skips CheckSignature and the key import. */
  requestsVerifiedByServer?: boolean;
}

/** What signing decided for one request. */
export type SigningDecision = { type: 'issued'; certificatePem: string } | { type: 'failed'; message: string };

export class CSRSigningController {
  private readonly loop: CertificateController;
  private readonly csrs: ResourceClient<CertificateSigningRequest>;
  private readonly logger: Logger;
  private readonly signers: ReadonlyMap<string, SignerDefinition>;

  constructor(private readonly options: SigningControllerOptions) {
    this.csrs = options.client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
    this.logger = options.logger ?? silentLogger;
    this.signers = options.signers ?? signerTable();
    this.loop = new CertificateController({
      name: 'csrsigning',
      informer: options.informer,
      handler: { wants: (csr) => this.wantsToSign(csr), handle: (csr) => this.handle(csr) },
      clock: options.clock,
      logger: this.logger,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  get controller(): Controller {
    return this.loop.controller;
  }

  /** Approved, not Failed, not issued, and for a signer this controller holds a CA for. */
  private wantsToSign(csr: CertificateSigningRequest): boolean {
    return !isIssued(csr) && isApproved(csr) && !hasTrueCondition(csr, 'Failed') && this.options.authorities.has(csr.spec?.signerName);
  }

  /**
   * Validates `csr` against its signer's rules and signs it. Throws for failures worth retrying (a request
   * that cannot be parsed or verified, an expired CA), as kube's signer does.
   */
  async decide(csr: CertificateSigningRequest): Promise<SigningDecision> {
    const signerName = csr.spec.signerName;
    const authority = this.options.authorities.get(signerName);
    const signer = this.signers.get(signerName);
    if (!authority || !signer) throw new Error(`no CA for signerName "${signerName}"`);
    const request = parseSpecRequest(csr, 'last');
    const usages = csr.spec.usages ?? [];
    const violation = signer.validate(request, usages);
    if (violation !== null) return { type: 'failed', message: violation };
    const verified = this.options.requestsVerifiedByServer === true;
    if (!verified) {
      try {
        await checkCsrSignature(request);
      } catch (err) {
        throw new Error(`unable to verify certificate request signature: ${(err as Error).message}`);
      }
    }
    const ttlMs = signer.ttlMs({ maxTtlMs: this.options.signingDurationMs ?? DEFAULT_SIGNING_DURATION_MS, expirationSeconds: csr.spec.expirationSeconds });
    const validity = validityWindow({ now: this.options.clock.now(), ttlMs, caNotAfter: authority.certificate.notAfter });
    const cert = await issueFromRequest({ authority, request, usages, validity, keyVerified: verified });
    return { type: 'issued', certificatePem: encodePem('CERTIFICATE', cert) };
  }

  reconcile(name: string): Promise<Outcome> {
    return this.loop.reconcile(name);
  }

  async handle(cached: CertificateSigningRequest): Promise<Outcome> {
    const name = cached.metadata.name ?? '';
    if (isIssued(cached)) return terminal('already issued');
    if (!isApproved(cached) || hasTrueCondition(cached, 'Failed')) return waiting('not approved, or failed');
    const signerName = cached.spec.signerName;
    if (!this.options.authorities.has(signerName)) return waiting(`signerName ${signerName} is not handled here`);
    const started = performance.now();
    let decision: SigningDecision;
    try {
      decision = await this.decide(cached);
    } catch (err) {
      return retryable(new Error(`error auto signing csr: ${(err as Error).message}`));
    }
    this.options.metrics?.signingDuration.observe({ signer_name: signerName }, (performance.now() - started) / 1000);
    // The cached object is never changed: the update is a new object with a new status sharing the rest (it is
    // only serialized, so no deep copy).
    const status = { ...cached.status };
    if (decision.type === 'failed') {
      const now = formatTime(this.options.clock.now());
      status.conditions = [
        ...(status.conditions ?? []),
        { type: 'Failed', status: 'True', reason: SIGNER_VALIDATION_FAILURE, message: decision.message, lastUpdateTime: now, lastTransitionTime: now },
      ];
    } else {
      status.certificate = Buffer.from(decision.certificatePem).toString('base64');
    }
    const csr: CertificateSigningRequest = { ...cached, status };
    try {
      await this.csrs.updateWithoutResult(csr, 'status');
    } catch (err) {
      return retryable(new Error(`error updating ${decision.type === 'failed' ? 'failure condition' : 'signature'} for csr: ${(err as Error).message}`));
    }
    if (decision.type === 'failed') {
      this.options.metrics?.csrsFailed.inc({ signer_name: signerName });
      this.logger.info({ csr: name, signerName, reason: decision.message }, 'request breaks its signer rules; marked Failed');
      return terminal('marked Failed');
    }
    this.options.metrics?.csrsSigned.inc({ signer_name: signerName });
    return terminal('issued');
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }
}
