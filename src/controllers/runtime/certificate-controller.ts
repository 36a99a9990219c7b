// The one controller loop for CertificateSigningRequests, as kube's certificates.NewCertificateController(name,
// client, informer, handler): it watches the CSR informer, queues the names of requests its handler wants,
// and calls the handler with the cached object; the approver and the signer supply only their handler.
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { CSR_CONTROLLER_WORKERS } from '../csr.js';
import type { ControllerMetrics } from '../metrics.js';
import type { CertificateSigningRequest } from '../../apis/index.js';
import { Controller } from './controller.js';
import type { Informer } from './informer.js';
import { terminal, type Outcome } from './outcome.js';

export interface CertificateHandler {
  /** Whether an added or updated request is worth a reconcile (skips the queue for the rest). */
  wants(csr: CertificateSigningRequest): boolean;
  /** Decides on the cached request (never to be changed in place: deep-copy before writing). */
  handle(csr: CertificateSigningRequest): Promise<Outcome>;
}

export interface CertificateControllerOptions {
  /** csrapproving, csrsigning: the name in logs and metrics. */
  name: string;
  informer: Informer<CertificateSigningRequest>;
  handler: CertificateHandler;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

export class CertificateController {
  readonly controller: Controller;

  constructor(private readonly options: CertificateControllerOptions) {
    this.controller = new Controller({
      name: options.name,
      reconcile: (key) => this.reconcile(key),
      clock: options.clock,
      workers: options.workers ?? CSR_CONTROLLER_WORKERS,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
    const maybeEnqueue = (csr: CertificateSigningRequest) => {
      options.metrics?.csrsSeen.inc({ controller: options.name });
      if (options.handler.wants(csr)) this.controller.enqueue(csr.metadata.name!);
    };
    options.informer.addEventHandler({ onAdd: maybeEnqueue, onUpdate: (_old, csr) => maybeEnqueue(csr) });
  }

  /** The handler's outcome for the cached request; a request no longer cached is done. */
  async reconcile(name: string): Promise<Outcome> {
    const csr = this.options.informer.get(name);
    if (!csr) return terminal('deleted');
    return this.options.handler.handle(csr);
  }

  run(signal: AbortSignal): Promise<void> {
    return this.controller.run(signal);
  }
}
