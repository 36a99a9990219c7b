// The CA rotation as a state machine: three phases of ordered steps, each step idempotent; the state records
// which steps finished and when, and lives in the cluster's storage (the command keeps nothing in memory),
// so a run killed between any two steps goes on where it stopped and every replica sees the same phase.
import { KubepkiError } from '../../util/errors.js';

export const PHASES = ['prepare', 'switch', 'complete'] as const;
export type Phase = (typeof PHASES)[number];

export interface StepSpec {
  name: string;
  phase: Phase;
  /** One line for --dry-run and status. */
  description: string;
}

export const STEPS: readonly StepSpec[] = [
  { phase: 'prepare', name: 'generate', description: 'make a new cluster CA (cross-signed by the old one), a new front-proxy CA and a new service-account key; keep them in the rotation state' },
  { phase: 'prepare', name: 'trust-files', description: 'trust old+new: client and request-header CA bundles, service-account verification keys (the new key signs from now on); serve reloads them live' },
  { phase: 'prepare', name: 'trust-live', description: 'wait until every API server replica accepts a client certificate and a front-proxy certificate of the new CAs' },
  { phase: 'prepare', name: 'kubeconfigs', description: 'old+new CA bundle in admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf, kubelet.conf' },
  { phase: 'prepare', name: 'publish', description: 'old+new in cluster-info (re-signed JWS), extension-apiserver-authentication and kube-root-ca.crt of every namespace; agents follow cluster-info' },
  { phase: 'switch', name: 'signing-ca', description: 'the new CAs sign: ca.crt/ca.key and front-proxy-ca.crt/.key replaced (the old ones kept in a dated backup); the old CA stays trusted' },
  { phase: 'switch', name: 'reissue', description: 're-issue the serving, kubelet-client and front-proxy client certificates and the kubeconfigs\' client certificates from the new CAs' },
  { phase: 'switch', name: 'serving-live', description: 'wait until every API server replica serves a certificate of the new CA' },
  { phase: 'complete', name: 'drain-check', description: 'refuse while a client still authenticates with a certificate of the old CA (the API server counts requests by issuing CA)' },
  { phase: 'complete', name: 'remove-old', description: 'the old CA leaves every bundle (files, kubeconfigs, cluster-info, extension-apiserver-authentication); old service-account tokens stop verifying' },
  { phase: 'complete', name: 'verify', description: 'wait until kube-root-ca.crt of every namespace holds the new CA alone, and check that a client certificate of the old CA gets 401 (from every API server replica)' },
];

export interface StepRecord {
  finishedAt: string;
}

/** The state kept in the cluster (JSON in the state object). */
export interface RotationState {
  startedAt: string;
  /** Finished steps by name. */
  steps: Record<string, StepRecord>;
  /** Set once complete's last step finished. */
  completedAt?: string;
}

export function phaseOf(state: RotationState | undefined): Phase | 'done' | 'none' {
  if (!state) return 'none';
  if (state.completedAt) return 'done';
  const next = STEPS.find((s) => !state.steps[s.name]);
  return next ? next.phase : 'done';
}

/**
 * The steps a run of `--phase` must still do, in order. Phases run in order: asking for a later one while
 * an earlier one has steps left is refused (run the earlier phase, or `all`).
 */
export function pendingSteps(state: RotationState | undefined, phase: Phase | 'all'): StepSpec[] {
  const done = (s: StepSpec) => Boolean(state?.steps[s.name]);
  if (phase === 'all') return STEPS.filter((s) => !done(s));
  const index = PHASES.indexOf(phase);
  const earlier = STEPS.filter((s) => PHASES.indexOf(s.phase) < index && !done(s));
  if (earlier.length > 0) {
    throw new KubepkiError('InvalidArgument', `cannot run --phase ${phase}: phase ${earlier[0]!.phase} is not finished (next step: ${earlier[0]!.name}); run --phase ${earlier[0]!.phase} first`);
  }
  return STEPS.filter((s) => s.phase === phase && !done(s));
}

export function describePlan(state: RotationState | undefined, phase: Phase | 'all'): string {
  const steps = pendingSteps(state, phase);
  if (steps.length === 0) return `nothing to do: phase ${phase} is finished\n`;
  return steps.map((s, i) => `${i + 1}. [${s.phase}] ${s.name}: ${s.description}\n`).join('');
}
