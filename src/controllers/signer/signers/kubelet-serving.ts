// kubernetes.io/kubelet-serving: a node's serving certificate (ValidateKubeletServingCSR).
import { validateKubeletServingRequest } from '../../kubelet-csr.js';
import { KUBELET_SERVING_SIGNER } from '../../../apis/index.js';
import { clusterSigningDuration, type SignerDefinition } from '../signer.js';

export const kubeletServingSigner: SignerDefinition = {
  signerName: KUBELET_SERVING_SIGNER,
  validate: validateKubeletServingRequest,
  ttlMs: clusterSigningDuration,
};
