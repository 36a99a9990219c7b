// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
// (k8s.io/client-go/tools/leaderelection): a candidate takes the lease when it is absent or when its holder
// has not renewed it for leaseDuration — measured on the candidate's own clock from when it last saw the
// record change, never by comparing clocks across machines; the leader renews every retryPeriod and steps
// down if it cannot renew within renewDeadline; each change of holder increments leaseTransitions, and a
// leader that stops on purpose releases the lease (holder cleared, duration 1 s) so a successor need not wait.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { ResourceClient } from '../../client/interface.js';
import type { Lease } from '../../apis/objects.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apis/status.js';
import { formatMicroTime } from '../../util/time.js';

export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

/** Storage of the record: a Lease object (LeaseLock) or anything with the same compare-and-swap behaviour. */
export interface ResourceLock {
  /** The current record and an opaque version for the next update; null when there is none. */
  get(): Promise<{ record: LeaderElectionRecord; version: string } | null>;
  create(record: LeaderElectionRecord): Promise<void>;
  /** Fails (throws) if the version changed since get(). */
  update(record: LeaderElectionRecord, version: string): Promise<void>;
  describe(): string;
}

export class LeaseLock implements ResourceLock {
  constructor(
    private readonly leases: ResourceClient<Lease>,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<{ record: LeaderElectionRecord; version: string } | null> {
    let lease: Lease;
    try {
      lease = await this.leases.get(this.name, this.namespace);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const s = lease.spec ?? {};
    const epoch = new Date(0);
    return {
      record: {
        holderIdentity: s.holderIdentity ?? '',
        leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
        acquireTime: s.acquireTime ? new Date(s.acquireTime) : epoch,
        renewTime: s.renewTime ? new Date(s.renewTime) : epoch,
        leaseTransitions: s.leaseTransitions ?? 0,
      },
      version: lease.metadata.resourceVersion ?? '',
    };
  }

  private toLease(record: LeaderElectionRecord, resourceVersion?: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: formatMicroTime(record.acquireTime),
        renewTime: formatMicroTime(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    await this.leases.create(this.toLease(record));
  }

  async update(record: LeaderElectionRecord, version: string): Promise<void> {
    await this.leases.update(this.toLease(record, version));
  }
}

export interface LeaderElectionOptions {
  lock: ResourceLock;
  identity: string;
  clock: Clock;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Release the lease when stopped on purpose (client-go ReleaseOnCancel). */
  releaseOnCancel?: boolean;
  logger?: Logger;
  /** Called with a signal that aborts when leadership is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading?(): void;
  onNewLeader?(identity: string): void;
}

export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

/** client-go's JitterFactor for the acquire loop. */
const JITTER = 1.2;

export class LeaderElector {
  private observedRecord: LeaderElectionRecord | undefined;
  private observedVersion = '';
  private observedTime = 0;
  private reportedLeader = '';
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly logger: Logger;

  constructor(private readonly options: LeaderElectionOptions) {
    this.leaseDurationMs = options.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = options.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = options.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs;
    // client-go's validation: leaseDuration > renewDeadline > retryPeriod·JitterFactor.
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) throw new Error('leaseDuration must be greater than renewDeadline');
    if (!(this.renewDeadlineMs > JITTER * this.retryPeriodMs)) throw new Error('renewDeadline must be greater than retryPeriod*JitterFactor');
    this.logger = options.logger ?? silentLogger;
  }

  /** The identity this elector last saw holding the lease ('' if none). */
  get leader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  isLeader(): boolean {
    return this.observedRecord?.holderIdentity === this.options.identity;
  }

  /**
   * One attempt (client-go tryAcquireOrRenew): create the lease, renew it if held, or take it over if its
   * holder's lease has expired. Returns whether this candidate holds the lease afterwards.
   */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { lock, identity, clock } = this.options;
    const now = clock.now();
    const desired: LeaderElectionRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: 0,
    };
    let current: Awaited<ReturnType<ResourceLock['get']>>;
    try {
      current = await lock.get();
    } catch (err) {
      this.logger.warn({ lock: lock.describe(), err: (err as Error).message }, 'error retrieving lease');
      return false;
    }
    if (current === null) {
      try {
        await lock.create(desired);
      } catch (err) {
        if (!isAlreadyExists(err)) this.logger.warn({ lock: lock.describe(), err: (err as Error).message }, 'error creating lease');
        return false;
      }
      this.observe(desired, '', now.getTime());
      return true;
    }
    const { record, version } = current;
    if (version !== this.observedVersion || !this.observedRecord) this.observe(record, version, now.getTime());
    const heldByOther = record.holderIdentity !== '' && record.holderIdentity !== identity;
    if (heldByOther && this.observedTime + record.leaseDurationSeconds * 1000 > now.getTime()) return false;
    if (record.holderIdentity === identity) {
      desired.acquireTime = record.acquireTime;
      desired.leaseTransitions = record.leaseTransitions;
    } else {
      desired.leaseTransitions = record.leaseTransitions + 1;
    }
    try {
      await lock.update(desired, version);
    } catch (err) {
      if (!isConflict(err)) this.logger.warn({ lock: lock.describe(), err: (err as Error).message }, 'error updating lease');
      return false;
    }
    this.observe(desired, '', now.getTime());
    return true;
  }

  private observe(record: LeaderElectionRecord, version: string, at: number): void {
    this.observedRecord = record;
    this.observedVersion = version;
    this.observedTime = at;
    if (record.holderIdentity && record.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = record.holderIdentity;
      this.options.onNewLeader?.(record.holderIdentity);
    }
  }

  /** Gives the lease up (holder cleared, 1 s duration), if this candidate holds it. */
  async release(): Promise<boolean> {
    if (!this.isLeader()) return false;
    const now = this.options.clock.now();
    const current = await this.options.lock.get().catch(() => null);
    if (!current || current.record.holderIdentity !== this.options.identity) return false;
    const record: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: this.observedRecord!.leaseTransitions,
    };
    try {
      await this.options.lock.update(record, current.version);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'failed to release lease');
      return false;
    }
    this.observe(record, '', now.getTime());
    return true;
  }

  /**
   * Campaigns until leading, leads while renewals succeed, and returns when leadership is lost or `signal`
   * aborts (releasing the lease in that case when releaseOnCancel is set).
   */
  async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    const sleep = (ms: number) => clock.sleep(ms, signal).then(
      () => true,
      () => false,
    );
    // Acquire.
    for (;;) {
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) break;
      if (!(await sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER - 1))))) return;
    }
    // Stopped while the lease was being taken: lead nothing, give the lease back.
    if (signal.aborted) {
      if (this.options.releaseOnCancel !== false) await this.release();
      return;
    }
    this.logger.info({ lock: this.options.lock.describe(), identity: this.options.identity }, 'acquired lease');
    const leading = new AbortController();
    const onAbort = () => leading.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.options.onStartedLeading(leading.signal);
      // Renew.
      let lastRenew = clock.now().getTime();
      for (;;) {
        if (!(await sleep(this.retryPeriodMs))) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = clock.now().getTime();
          continue;
        }
        if (clock.now().getTime() - lastRenew >= this.renewDeadlineMs) {
          this.logger.error({ lock: this.options.lock.describe() }, 'failed to renew lease within the deadline; leadership lost');
          break;
        }
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      leading.abort();
      if (signal.aborted && this.options.releaseOnCancel !== false) await this.release();
      this.options.onStoppedLeading?.();
    }
  }
}
