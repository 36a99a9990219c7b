// csrcleaner: garbage-collects CSRs, with kube's rules (pkg/controller/certificates/cleaner): approved and
// issued ones 1 h after approval, denied and failed ones 1 h after that condition, pending ones (no
// condition at all) 24 h after creation, and issued ones whose certificate has expired. kube polls every
// hour; here each CSR is re-checked exactly when its next deadline falls (a delayed queue add), so short
// configured durations are honoured promptly and nothing scans the whole list.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import { isConflict, isNotFound } from '../../apis/status.js';
import { isIssued } from '../csr.js';
import { issuedCertificateNotAfter, type CachedCertificateSigningRequest } from '../csr-cache.js';
import type { ControllerMetrics } from '../metrics.js';
import { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, terminal, waiting, type Outcome } from '../runtime/outcome.js';
import type { CertificateSigningRequest } from '../../apis/index.js';

export { issuedCertificateNotAfter };

export interface CSRCleanerDurations {
  approvedMs: number;
  deniedMs: number;
  failedMs: number;
  pendingMs: number;
}

export const DEFAULT_CLEANER_DURATIONS: CSRCleanerDurations = {
  approvedMs: 3_600_000,
  deniedMs: 3_600_000,
  failedMs: 3_600_000,
  pendingMs: 24 * 3_600_000,
};

const timeOf = (t: string | undefined): number | undefined => {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * Whether `csr` is due for deletion at `now` (with kube's reason), and if not, when it next might be.
 * A condition without lastUpdateTime never ages, as in kube (isOlderThan needs a non-zero time).
 */
export function cleanupDecision(
  csr: CachedCertificateSigningRequest,
  now: Date,
  durations: CSRCleanerDurations = DEFAULT_CLEANER_DURATIONS,
): { delete: true; reason: string } | { delete: false; nextCheckAt?: Date } {
  const t = now.getTime();
  const deadlines: number[] = [];
  /** kube's isOlderThan: strictly more than d ago. */
  const olderThan = (at: number | undefined, d: number, reason: string): { delete: true; reason: string } | undefined => {
    if (at === undefined) return undefined;
    if (t - at > d) return { delete: true, reason };
    deadlines.push(at + d + 1);
    return undefined;
  };
  const conditions = csr.status?.conditions ?? [];
  const issued = isIssued(csr);
  for (const c of conditions) {
    const at = timeOf(c.lastUpdateTime);
    const hit =
      (c.type === 'Approved' && issued && olderThan(at, durations.approvedMs, `more than ${durations.approvedMs / 1000}s old and approved`)) ||
      (c.type === 'Denied' && olderThan(at, durations.deniedMs, `more than ${durations.deniedMs / 1000}s old and denied`)) ||
      (c.type === 'Failed' && olderThan(at, durations.failedMs, `more than ${durations.failedMs / 1000}s old and failed`));
    if (hit) return hit;
  }
  if (conditions.length === 0) {
    const hit = olderThan(timeOf(csr.metadata.creationTimestamp ?? undefined), durations.pendingMs, `more than ${durations.pendingMs / 1000}s old and unhandled`);
    if (hit) return hit;
  }
  if (issued && conditions.some((c) => c.type === 'Approved')) {
    const notAfter = issuedCertificateNotAfter(csr);
    if (notAfter) {
      if (t > notAfter.getTime()) return { delete: true, reason: 'the associated certificate is expired' };
      deadlines.push(notAfter.getTime() + 1);
    }
  }
  return deadlines.length ? { delete: false, nextCheckAt: new Date(Math.min(...deadlines)) } : { delete: false };
}

export interface CSRCleanerOptions {
  client: KubeClient;
  /** The shared CSR informer, whose issued requests carry their certificate's notAfter only (csr-cache.ts). */
  informer: Informer<CachedCertificateSigningRequest>;
  clock: Clock;
  durations?: Partial<CSRCleanerDurations>;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

export class CSRCleanerController {
  readonly controller: Controller;
  private readonly csrs: ResourceClient<CertificateSigningRequest>;
  private readonly durations: CSRCleanerDurations;
  private readonly logger: Logger;

  constructor(private readonly options: CSRCleanerOptions) {
    this.csrs = options.client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
    this.durations = { ...DEFAULT_CLEANER_DURATIONS, ...options.durations };
    this.logger = options.logger ?? silentLogger;
    this.controller = new Controller({
      name: 'csrcleaner',
      reconcile: (key) => this.reconcile(key),
      clock: options.clock,
      workers: 1,
      logger: this.logger,
      metrics: options.metrics,
    });
    const enqueue = (csr: CachedCertificateSigningRequest) => this.controller.enqueue(csr.metadata.name!);
    options.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_o, csr) => enqueue(csr) });
  }

  async reconcile(name: string): Promise<Outcome> {
    const csr = this.options.informer.get(name);
    if (!csr) return terminal('deleted');
    const now = this.options.clock.now();
    const decision = cleanupDecision(csr, now, this.durations);
    if (!decision.delete) {
      return decision.nextCheckAt ? waiting('not due yet', Math.max(1, decision.nextCheckAt.getTime() - now.getTime())) : waiting('nothing to clean');
    }
    try {
      await this.csrs.delete(name, csr.metadata.uid ? { preconditions: { uid: csr.metadata.uid } } : {});
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return terminal('already gone or replaced');
      return retryable(new Error(`unable to delete CSR "${name}": ${(err as Error).message}`));
    }
    this.options.metrics?.objectsDeleted.inc({ controller: 'csrcleaner' });
    this.logger.info({ csr: name, reason: decision.reason }, 'cleaned CSR');
    return terminal(`deleted: ${decision.reason}`);
  }

  run(signal: AbortSignal): Promise<void> {
    return this.controller.run(signal);
  }
}
