// The CA-rotation page's data. `kubepki ca rotate` (issue #12, branch h12) keeps its state in the Secret
// kube-system/kubepki-ca-rotation (type kubepki.io/ca-rotation): `state.json` holds when it started, each
// finished step with its time, and when it completed. Only `state.json` is read here — the same Secret
// carries the new CA keys until the rotation completes, and they never leave this module.
// At merge: the step list and phase names can come from h12's src/cluster/ca-rotation/plan.ts (STEPS,
// phaseOf) to show pending steps too; until then the page shows the finished steps in order.
import type { Secret } from '../apis/index.js';
import type { RotationView, RotationStep } from './view.js';

export const ROTATION_STATE = { namespace: 'kube-system', name: 'kubepki-ca-rotation', type: 'kubepki.io/ca-rotation' } as const;

export interface RotationSource {
  phase: string;
  /** Where the state was read, e.g. "Secret kube-system/kubepki-ca-rotation". */
  source: string;
  steps: RotationStep[];
}

interface StoredState {
  startedAt?: unknown;
  completedAt?: unknown;
  steps?: Record<string, { finishedAt?: unknown }>;
}

/** The rotation state from its Secret, or undefined when there is none (or it is unreadable). */
export function rotationFromSecrets(secrets: readonly Secret[]): RotationSource | undefined {
  const s = secrets.find((x) => x.metadata.namespace === ROTATION_STATE.namespace && x.metadata.name === ROTATION_STATE.name);
  const raw = s?.data?.['state.json'];
  if (!s || !raw) return undefined;
  let state: StoredState;
  try {
    state = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as StoredState;
  } catch {
    return { phase: 'unknown (unreadable state)', source: `Secret ${ROTATION_STATE.namespace}/${ROTATION_STATE.name}`, steps: [] };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const steps: RotationStep[] = Object.entries(state.steps ?? {})
    .map(([name, r]) => ({ name, done: true, ...(str(r?.finishedAt) ? { time: str(r.finishedAt)! } : {}) }))
    .sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''));
  const started = str(state.startedAt);
  if (started) steps.unshift({ name: 'started', time: started, done: true });
  const completed = str(state.completedAt);
  if (completed) steps.push({ name: 'completed', time: completed, done: true });
  const last = steps.at(-1);
  return {
    phase: completed ? 'complete' : `in progress${last && last.name !== 'started' ? ` (last finished step: ${last.name})` : ''}`,
    source: `Secret ${ROTATION_STATE.namespace}/${ROTATION_STATE.name}`,
    steps,
  };
}

export function rotationView(source: RotationSource | undefined, seen: { onOldCa: string[] }): RotationView {
  if (!source) return { phase: 'none', source: 'no CA rotation state found in the cluster', steps: [], onOldCa: seen.onOldCa };
  return { phase: source.phase, source: source.source, steps: source.steps, onOldCa: seen.onOldCa };
}
