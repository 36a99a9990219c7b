// kubernetes.io/kube-apiserver-client-kubelet: a node's client certificate (ValidateKubeletClientCSR).
import { validateKubeletClientRequest } from '../../kubelet-csr.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER } from '../../../apis/index.js';
import { clusterSigningDuration, type SignerDefinition } from '../signer.js';

export const kubeletClientSigner: SignerDefinition = {
  signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  validate: validateKubeletClientRequest,
  ttlMs: clusterSigningDuration,
};
