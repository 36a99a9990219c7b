// kubernetes.io/kube-apiserver-client: client certificates for any user of the API server. Client auth is
// required, digital signature and key encipherment allowed, nothing else; any subject (the API server's
// CertificateSubjectRestriction admission already refuses system:masters).
import { KUBE_APISERVER_CLIENT_SIGNER } from '../../../apis/index.js';
import { clusterSigningDuration, type SignerDefinition } from '../signer.js';

export const kubeAPIServerClientSigner: SignerDefinition = {
  signerName: KUBE_APISERVER_CLIENT_SIGNER,
  validate(_request, usages) {
    let hasClientAuth = false;
    for (const u of usages) {
      if (u === 'client auth') hasClientAuth = true;
      else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
    }
    return hasClientAuth ? null : 'missing required usage for client certificate: client auth';
  },
  ttlMs: clusterSigningDuration,
};
