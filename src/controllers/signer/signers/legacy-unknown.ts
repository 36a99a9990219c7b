// kubernetes.io/legacy-unknown: no restrictions, for v1beta1 compatibility (kube does the same).
import { LEGACY_UNKNOWN_SIGNER } from '../../../apis/index.js';
import { clusterSigningDuration, type SignerDefinition } from '../signer.js';

export const legacyUnknownSigner: SignerDefinition = {
  signerName: LEGACY_UNKNOWN_SIGNER,
  validate: () => null,
  ttlMs: clusterSigningDuration,
};
