// The signer table: signerName → its definition. The four kubernetes.io signers are built in; more (e.g.
// the custom signers of a CA rotation) are added by passing their definitions where the controllers are
// built (ControllerManagerOptions.signers).
import type { SignerDefinition } from '../signer.js';
import { kubeAPIServerClientSigner } from './kube-apiserver-client.js';
import { kubeletClientSigner } from './kube-apiserver-client-kubelet.js';
import { kubeletServingSigner } from './kubelet-serving.js';
import { legacyUnknownSigner } from './legacy-unknown.js';

export const BUILTIN_SIGNERS: readonly SignerDefinition[] = [kubeAPIServerClientSigner, kubeletClientSigner, kubeletServingSigner, legacyUnknownSigner];

export const BUILTIN_SIGNER_NAMES: readonly string[] = BUILTIN_SIGNERS.map((s) => s.signerName);

/** The built-in signers plus `extra` (an extra definition for a built-in name replaces it). */
export function signerTable(extra: readonly SignerDefinition[] = []): ReadonlyMap<string, SignerDefinition> {
  return new Map([...BUILTIN_SIGNERS, ...extra].map((s) => [s.signerName, s]));
}
