// The CA-rotation page's data. `kubepki ca rotate` keeps its state in the Secret kube-system/kubepki-ca-rotation
// (type kubepki.io/ca-rotation): `state.json` holds when it started, each finished step with its time, and
// when it completed. Only `state.json` is read here — the same Secret carries the new CA keys until the
// rotation completes, and they never leave this module. Phases and steps are the rotation's own plan
// (cluster/ca-rotation/plan.ts), so the page lists the steps still to come as well.
import type { Secret } from '../apis/index.js';
import { phaseOf, STEPS, type RotationState } from '../cluster/ca-rotation/plan.js';
import type { RotationView, RotationStep } from './view.js';

export const ROTATION_STATE = { namespace: 'kube-system', name: 'kubepki-ca-rotation', type: 'kubepki.io/ca-rotation' } as const;

export interface RotationSource {
  phase: string;
  /** Where the state was read, e.g. "Secret kube-system/kubepki-ca-rotation". */
  source: string;
  steps: RotationStep[];
}

/** The rotation state from its Secret, or undefined when there is none (or it is unreadable). */
export function rotationFromSecrets(secrets: readonly Secret[]): RotationSource | undefined {
  const s = secrets.find((x) => x.metadata.namespace === ROTATION_STATE.namespace && x.metadata.name === ROTATION_STATE.name);
  const raw = s?.data?.['state.json'];
  if (!s || !raw) return undefined;
  const source = `Secret ${ROTATION_STATE.namespace}/${ROTATION_STATE.name}`;
  let state: RotationState;
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Partial<RotationState>;
    if (typeof parsed.startedAt !== 'string' || typeof parsed.steps !== 'object' || parsed.steps === null) throw new Error('not a rotation state');
    state = parsed as RotationState;
  } catch {
    return { phase: 'unknown (unreadable state)', source, steps: [] };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const steps: RotationStep[] = [{ name: 'started', time: state.startedAt, done: true }];
  for (const spec of STEPS) {
    const finished = str(state.steps[spec.name]?.finishedAt);
    steps.push({ name: `${spec.phase}: ${spec.name}`, done: finished !== undefined, ...(finished ? { time: finished } : {}) });
  }
  if (state.completedAt) steps.push({ name: 'completed', time: state.completedAt, done: true });
  const phase = phaseOf(state);
  return { phase: phase === 'done' ? 'complete' : `${phase} (in progress)`, source, steps };
}

export function rotationView(source: RotationSource | undefined, seen: { onOldCa: string[] }): RotationView {
  if (!source) return { phase: 'none', source: 'no CA rotation state found in the cluster', steps: [], onOldCa: seen.onOldCa };
  return { phase: source.phase, source: source.source, steps: source.steps, onOldCa: seen.onOldCa };
}
