// How the API server replicas of one cluster make themselves known to a CA rotation: each `serve` keeps a
// Lease in kube-system (as kube-apiserver keeps its identity lease, label apiserver.kubernetes.io/identity)
// naming the URL it serves on and the last rotation step it has applied to its own files. `kubepki ca rotate`
// reads them to probe every replica and to wait, before each step, until every live replica caught up.
import { createHash } from 'node:crypto';
import type { Lease } from '../../apis/objects.js';
import { STEPS, type RotationState } from './plan.js';

export const REPLICA_NAMESPACE = 'kube-system';
export const REPLICA_LABEL = 'apiserver.kubernetes.io/identity';
export const REPLICA_LABEL_VALUE = 'kubepki-apiserver';
export const URL_ANNOTATION = 'kubepki.io/apiserver-url';
/** "<rotation startedAt> <step name>": the last recorded step of that rotation this replica has applied. */
export const APPLIED_ANNOTATION = 'kubepki.io/ca-rotation-applied';
/** A replica renews its lease this often, and is counted as gone after leaseDurationSeconds without renewal. */
export const REPLICA_RENEW_MS = 10_000;
export const REPLICA_LEASE_SECONDS = 40;

/** Stable across restarts of one replica (one lease per node and port, none piling up). */
export function replicaLeaseName(hostname: string, url: string): string {
  return `kubepki-apiserver-${createHash('sha256').update(`${hostname} ${url}`).digest('hex').slice(0, 16)}`;
}

export interface Replica {
  name: string;
  url: string;
  applied?: { startedAt: string; step: string };
  /** Renewed within its lease duration (by the reader's clock; replicas are expected to keep time). */
  live: boolean;
}

export function parseReplica(lease: Lease, now: Date): Replica {
  const a = lease.metadata.annotations ?? {};
  const [startedAt, step] = (a[APPLIED_ANNOTATION] ?? '').split(' ');
  const renew = Date.parse(lease.spec?.renewTime ?? '');
  const duration = (lease.spec?.leaseDurationSeconds ?? REPLICA_LEASE_SECONDS) * 1000;
  return {
    name: lease.metadata.name!,
    url: a[URL_ANNOTATION] ?? '',
    ...(startedAt && step ? { applied: { startedAt, step } } : {}),
    live: Number.isFinite(renew) && now.getTime() - renew < duration,
  };
}

const indexOf = (step: string) => STEPS.findIndex((s) => s.name === step);

/** The last step recorded in the state, in plan order ('' before any). */
export function lastRecordedStep(state: RotationState): string {
  let last = '';
  for (const s of STEPS) if (state.steps[s.name]) last = s.name;
  return last;
}

/** Whether the replica applied every step recorded in this rotation's state. */
export function caughtUp(r: Replica, state: RotationState): boolean {
  const last = lastRecordedStep(state);
  if (!last) return true;
  return r.applied?.startedAt === state.startedAt && indexOf(r.applied.step) >= indexOf(last);
}
