// The loop every controller shares (kube's certificates.CertificateController, client-go's worker pattern):
// N workers take keys off a rate-limited queue and reconcile them; the Outcome decides what happens to the
// key — forgotten, re-added later, or retried with backoff. A thrown error counts as retryable.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { WorkQueue, type QueueObserver, type RateLimiter } from './queue.js';
import type { Outcome } from './outcome.js';

export type Reconcile = (key: string) => Promise<Outcome>;

/** Gives a named queue its observer (ControllerMetrics does: workqueue_depth, _adds_total, _retries_total). */
export interface QueueMetrics {
  queueObserver(name: string): QueueObserver;
}

export interface ControllerOptions {
  name: string;
  reconcile: Reconcile;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  rateLimiter?: RateLimiter;
  queueObserver?: QueueObserver;
  /** The queue reports to these metrics under `metricsName` (default: `name`), unless queueObserver is given. */
  metrics?: QueueMetrics;
  metricsName?: string;
  /** Called after every reconcile (metrics, tests). */
  onOutcome?: (key: string, outcome: Outcome) => void;
}

export class Controller {
  readonly queue: WorkQueue;
  private readonly logger: Logger;

  constructor(private readonly options: ControllerOptions) {
    const observer = options.queueObserver ?? options.metrics?.queueObserver(options.metricsName ?? options.name);
    this.queue = new WorkQueue({
      clock: options.clock,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
      ...(observer ? { observer } : {}),
    });
    this.logger = (options.logger ?? silentLogger).child({ controller: options.name });
  }

  get name(): string {
    return this.options.name;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Runs the workers until `signal` aborts; resolves when they have all stopped. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = () => this.queue.shutDown();
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
    const workers = Math.max(1, this.options.workers ?? 1);
    await Promise.all(Array.from({ length: workers }, () => this.worker()));
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.processOne(key);
    }
  }

  /** Reconciles one key and applies its outcome; exposed for tests that drive the loop by hand. */
  async processOne(key: string): Promise<Outcome> {
    let outcome: Outcome;
    try {
      outcome = await this.options.reconcile(key);
    } catch (err) {
      outcome = { type: 'retryable', error: err instanceof Error ? err : new Error(String(err)) };
    }
    switch (outcome.type) {
      case 'terminal':
        this.queue.forget(key);
        this.logger.debug({ key, reason: outcome.reason }, 'done');
        break;
      case 'waiting':
        this.queue.forget(key);
        if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
        this.logger.debug({ key, reason: outcome.reason }, 'waiting');
        break;
      case 'retryable':
        this.queue.addRateLimited(key);
        this.logger.error({ key, err: outcome.error.message }, 'sync failed; will retry');
        break;
      case 'ignorable':
        this.queue.addRateLimited(key);
        this.logger.debug({ key, reason: outcome.reason }, 'not acted on; will re-check');
        break;
    }
    this.queue.done(key);
    this.options.onOutcome?.(key, outcome);
    return outcome;
  }
}
