// csrapproving: approves node client certificates after a SubjectAccessReview allows the requester to
// create certificatesigningrequests/nodeclient (or /selfnodeclient), through the API as kube does — so the
// cluster's RBAC bindings decide, and removing a binding stops the approvals. It never denies; a request it
// recognizes but may not approve is re-checked with backoff (kube's IgnorableError). Optionally it also
// approves kubelet serving certificates under an allow-list policy (kubelet-serving.ts).
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import { approvalState, isIssued, parseSpecRequest, withCondition } from '../csr.js';
import type { RequestSubject } from '../kubelet-csr.js';
import type { ControllerMetrics } from '../metrics.js';
import { CertificateController } from '../runtime/certificate-controller.js';
import type { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { ignorable, retryable, terminal, waiting, type Outcome } from '../runtime/outcome.js';
import { KUBELET_SERVING_SIGNER, type CertificateSigningRequest, type ResourceAttributes } from '../../apis/index.js';
import { checkKubeletServingRequest, compileCidrs, SERVING_APPROVAL_MESSAGE, type KubeletServingPolicy } from './kubelet-serving.js';
import { AUTO_APPROVED_REASON, RECOGNIZERS, type Recognizer } from './recognizers.js';

export interface ApprovingControllerOptions {
  client: KubeClient;
  informer: Informer<CertificateSigningRequest>;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
  recognizers?: readonly Recognizer[];
  /** Opt-in kubelet serving approval; absent = kube's behaviour (never auto-approved). */
  kubeletServing?: KubeletServingPolicy;
}

export class CSRApprovingController {
  private readonly loop: CertificateController;
  private readonly csrs: ResourceClient<CertificateSigningRequest>;
  private readonly recognizers: readonly Recognizer[];
  private readonly serving: (KubeletServingPolicy & { cidrs: ReturnType<typeof compileCidrs> }) | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: ApprovingControllerOptions) {
    this.csrs = options.client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
    this.recognizers = options.recognizers ?? RECOGNIZERS;
    this.serving = options.kubeletServing ? { ...options.kubeletServing, cidrs: compileCidrs(options.kubeletServing.allowedCidrs) } : undefined;
    this.logger = options.logger ?? silentLogger;
    this.loop = new CertificateController({
      name: 'csrapproving',
      informer: options.informer,
      handler: {
        wants: (csr) => {
          const { approved, denied } = approvalState(csr);
          return !approved && !denied && !isIssued(csr);
        },
        handle: (csr) => this.handle(csr),
      },
      clock: options.clock,
      logger: this.logger,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  get controller(): Controller {
    return this.loop.controller;
  }

  private async allowed(csr: CertificateSigningRequest, permission: ResourceAttributes): Promise<boolean> {
    const review = await this.options.client.createSubjectAccessReview({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        ...(csr.spec.username !== undefined ? { user: csr.spec.username } : {}),
        ...(csr.spec.uid !== undefined ? { uid: csr.spec.uid } : {}),
        ...(csr.spec.groups !== undefined ? { groups: csr.spec.groups } : {}),
        ...(csr.spec.extra !== undefined ? { extra: csr.spec.extra } : {}),
        resourceAttributes: permission,
      },
    });
    return review.status?.allowed === true;
  }

  private async approve(csr: CertificateSigningRequest, message: string, recognizer: string): Promise<Outcome> {
    const updated = withCondition(csr, { type: 'Approved', status: 'True', reason: AUTO_APPROVED_REASON, message }, this.options.clock.now());
    try {
      await this.csrs.updateWithoutResult(updated, 'approval');
    } catch (err) {
      return retryable(new Error(`error updating approval for csr: ${(err as Error).message}`));
    }
    this.options.metrics?.csrsApproved.inc({ recognizer });
    return terminal(`approved (${recognizer})`);
  }

  reconcile(name: string): Promise<Outcome> {
    return this.loop.reconcile(name);
  }

  /** kube's sarApprover.handle: recognizers first, then (opt-in) kubelet serving; never denies. */
  async handle(csr: CertificateSigningRequest): Promise<Outcome> {
    const name = csr.metadata.name ?? '';
    if (isIssued(csr)) return terminal('already issued');
    const { approved, denied } = approvalState(csr);
    if (approved || denied) return terminal('already decided');
    let request: RequestSubject;
    try {
      request = parseSpecRequest(csr, 'keep');
    } catch (err) {
      return retryable(new Error(`unable to parse csr "${name}": ${(err as Error).message}`));
    }
    const tried: string[] = [];
    for (const r of this.recognizers) {
      if (!r.recognize(csr, request)) continue;
      tried.push(r.name);
      let ok: boolean;
      try {
        ok = await this.allowed(csr, r.permission);
      } catch (err) {
        return retryable(err);
      }
      if (ok) return this.approve(csr, r.successMessage, r.name);
    }
    if (this.serving && csr.spec.signerName === KUBELET_SERVING_SIGNER) {
      const why = checkKubeletServingRequest(csr, request, this.serving);
      if (why === null) return this.approve(csr, SERVING_APPROVAL_MESSAGE, 'kubeletserving');
      this.logger.info({ csr: name, reason: why }, 'kubelet serving request left Pending');
      return waiting(`kubelet serving request not approved: ${why}`);
    }
    if (tried.length > 0) return ignorable(`recognized csr "${name}" as [${tried.join(' ')}] but subject access review was not approved`);
    return waiting('not a request this approver recognizes');
  }

  run(signal: AbortSignal): Promise<void> {
    return this.loop.run(signal);
  }
}
