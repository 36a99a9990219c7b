// The CA-rotation slot of the dashboard. `kubepki ca rotate` (issue #12) stores its state in the cluster;
// until that state exists in this tree, the dashboard reports "none" plus what it can see by itself: the
// certificates and nodes still signed by a CA that the kubeconfig's newest CA of the same name replaced.
// At merge, `RotationSource` is filled from #12's stored state (phase, each step's time) in dashboard/sources.ts.
import type { RotationView, RotationStep } from './view.js';

export interface RotationSource {
  phase: string;
  /** Where the state was read, e.g. "ConfigMap kube-system/…". */
  source: string;
  steps: RotationStep[];
}

export function rotationView(source: RotationSource | undefined, seen: { onOldCa: string[] }): RotationView {
  if (!source) return { phase: 'none', source: 'no CA rotation state found in the cluster', steps: [], onOldCa: seen.onOldCa };
  return { phase: source.phase, source: source.source, steps: source.steps, onOldCa: seen.onOldCa };
}
