// One `kubepki ca rotate` at a time in a cluster, whichever node it runs on: a Lease kube-system/
// kubepki-ca-rotation (leader election's record, controllers/runtime/leader-election.ts), taken with a
// compare-and-swap and renewed while the run lasts. A second run is refused with the holder's name and
// changes nothing. A holder that died without releasing (kill -9) does not block for ever: its lease expires
// after LOCK_LEASE_SECONDS without renewal, and a run on the same host takes it at once when the holder's
// process no longer exists (the stale-pidfile rule).
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Lease } from '../../apis/objects.js';
import type { ResourceClient } from '../../client/interface.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apis/status.js';
import { KubepkiError } from '../../util/errors.js';
import { formatMicroTime } from '../../util/time.js';
import { STATE_NAME, STATE_NAMESPACE } from '../../cluster/ca-rotation/state.js';
import { processExists } from '../../util/process-exists.js';

export const LOCK_LEASE_SECONDS = 30;
const RENEW_MS = 5_000;
const HOST_ANNOTATION = 'kubepki.io/holder-host';
const PID_ANNOTATION = 'kubepki.io/holder-pid';

export interface Holder {
  identity: string;
  host: string;
  pid: number;
}

export type AcquireDecision = { take: true; reason: string } | { take: false; holder: string };

/** Whether `me` may take the lock as it is now (a pure decision: the clock and the process check are given). */
export function decideAcquire(lease: Lease | undefined, me: Holder, now: Date, isAlive: (pid: number) => boolean): AcquireDecision {
  const s = lease?.spec ?? {};
  if (!lease || !s.holderIdentity) return { take: true, reason: 'free' };
  if (s.holderIdentity === me.identity) return { take: true, reason: 'held by this run' };
  const renewed = Date.parse(s.renewTime ?? '');
  const durationMs = (s.leaseDurationSeconds ?? LOCK_LEASE_SECONDS) * 1000;
  if (!Number.isFinite(renewed) || now.getTime() - renewed >= durationMs) return { take: true, reason: `the lease of ${s.holderIdentity} expired` };
  const a = lease.metadata.annotations ?? {};
  const pid = Number(a[PID_ANNOTATION]);
  if (a[HOST_ANNOTATION] === me.host && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) return { take: true, reason: `its holder (pid ${pid} on this host) is gone` };
  const expires = new Date(renewed + durationMs).toISOString();
  return { take: false, holder: `${a[HOST_ANNOTATION] ?? '?'} pid ${a[PID_ANNOTATION] ?? '?'} (${s.holderIdentity}, since ${s.acquireTime ?? '?'}, renewed ${s.renewTime ?? '?'}; if it died, the lock is free at ${expires})` };
}

export interface RotationLock {
  /** Throws if the lock was lost (another run took it after this one could not renew in time). */
  assertHeld(): void;
  release(): Promise<void>;
}

function leaseOf(me: Holder, now: Date, base?: Lease, acquired = true): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      ...(base?.metadata ?? {}),
      name: STATE_NAME,
      namespace: STATE_NAMESPACE,
      annotations: { ...(base?.metadata.annotations ?? {}), [HOST_ANNOTATION]: me.host, [PID_ANNOTATION]: String(me.pid) },
    },
    spec: {
      holderIdentity: acquired ? me.identity : '',
      leaseDurationSeconds: acquired ? LOCK_LEASE_SECONDS : 1,
      acquireTime: acquired && base?.spec.holderIdentity === me.identity ? base.spec.acquireTime! : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: (base?.spec.leaseTransitions ?? 0) + (base?.spec.holderIdentity === me.identity ? 0 : 1),
    },
  };
}

/** Takes the lock or throws a Conflict naming its holder; the returned lock renews itself until released. */
export async function acquireRotationLock(leases: ResourceClient<Lease>, log: (line: string) => void): Promise<RotationLock> {
  const me: Holder = { identity: `${os.hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`, host: os.hostname(), pid: process.pid };
  let current: Lease | undefined;
  for (let attempt = 0; ; attempt++) {
    let existing: Lease | undefined;
    try {
      existing = await leases.get(STATE_NAME, STATE_NAMESPACE);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const d = decideAcquire(existing, me, new Date(), processExists);
    if (!d.take) throw new KubepkiError('Conflict', `another kubepki ca rotate is running: the lock ${STATE_NAMESPACE}/${STATE_NAME} is held by ${d.holder}; nothing was changed`);
    try {
      current = existing ? await leases.update(leaseOf(me, new Date(), existing)) : await leases.create(leaseOf(me, new Date()));
      if (existing?.spec.holderIdentity) log(`took the rotation lock (${d.reason})`);
      break;
    } catch (err) {
      // Another run wrote the lease between our read and write: decide again on what it wrote.
      if ((isConflict(err) || isAlreadyExists(err)) && attempt < 3) continue;
      throw err;
    }
  }
  let lost: string | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = renewing.then(async () => {
      if (lost || !current) return;
      try {
        current = await leases.update(leaseOf(me, new Date(), current));
      } catch (err) {
        if (isConflict(err) || isNotFound(err)) lost = `the rotation lock ${STATE_NAMESPACE}/${STATE_NAME} was taken by another run`;
        // A passing API error: the next tick tries again (the lease outlives a few missed renewals).
      }
    });
  }, RENEW_MS);
  timer.unref();
  return {
    assertHeld() {
      if (lost) throw new KubepkiError('Conflict', `${lost}; stopping before the next step`);
    },
    async release() {
      clearInterval(timer);
      await renewing;
      if (lost || !current) return;
      // Released as client-go releases: holder cleared, a 1 s duration, so a next run need not wait.
      await leases.update(leaseOf(me, new Date(), current, false)).catch(() => undefined);
    },
  };
}
