// The controllers' Prometheus metrics, registered in a Registry the caller owns (so several controller
// managers — tests, in-process and standalone — never collide in prom-client's global registry).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueObserver } from './runtime/queue.js';

export class ControllerMetrics {
  readonly registry: Registry;
  readonly csrsSeen: Counter<'controller'>;
  readonly csrsApproved: Counter<'recognizer'>;
  readonly csrsSigned: Counter<'signer_name'>;
  readonly csrsFailed: Counter<'signer_name'>;
  readonly signingDuration: Histogram<'signer_name'>;
  readonly queueDepth: Gauge<'name'>;
  readonly queueAdds: Counter<'name'>;
  readonly queueRetries: Counter<'name'>;
  readonly leader: Gauge<'lease'>;
  readonly objectsDeleted: Counter<'controller'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.csrsSeen = new Counter({ name: 'kubepki_csr_seen_total', help: 'CertificateSigningRequest events a controller received', labelNames: ['controller'], registers });
    this.csrsApproved = new Counter({ name: 'kubepki_csr_approved_total', help: 'CSRs auto-approved, by recognizer', labelNames: ['recognizer'], registers });
    this.csrsSigned = new Counter({ name: 'kubepki_csr_signed_total', help: 'Certificates issued, by signerName', labelNames: ['signer_name'], registers });
    this.csrsFailed = new Counter({ name: 'kubepki_csr_failed_total', help: 'CSRs marked Failed by a signer, by signerName', labelNames: ['signer_name'], registers });
    this.signingDuration = new Histogram({
      name: 'kubepki_csr_signing_duration_seconds',
      help: 'Time to validate a request and sign its certificate (excluding the API write)',
      labelNames: ['signer_name'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of a work queue', labelNames: ['name'], registers });
    this.queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Adds handled by a work queue', labelNames: ['name'], registers });
    this.queueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Rate-limited retries of a work queue', labelNames: ['name'], registers });
    this.leader = new Gauge({ name: 'leader_election_master_status', help: '1 while this process holds the lease', labelNames: ['lease'], registers });
    this.objectsDeleted = new Counter({ name: 'kubepki_controller_deleted_total', help: 'Objects a cleaner deleted', labelNames: ['controller'], registers });
  }

  queueObserver(name: string): QueueObserver {
    return {
      depth: (n) => this.queueDepth.set({ name }, n),
      added: () => this.queueAdds.inc({ name }),
      retried: () => this.queueRetries.inc({ name }),
    };
  }
}
