// kube-apiserver's CertificateSubjectRestriction admission: nobody may ask the kube-apiserver-client signer
// for a certificate in group system:masters (it would be an unrevocable cluster-admin credential that bypasses
// RBAC). It runs after validation, on create only, as the admission plugin does.
import { certificateRequestDerFromPem, parseCertificateRequest } from '../x509/certificate-request.js';
import { forbidden } from '../api/status.js';
import type { KubeObject } from '../api/types.js';

const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
const MASTERS = 'system:masters';

export function checkSubjectRestriction(csr: KubeObject & { spec?: { signerName?: string; request?: string } }): void {
  if (csr.spec?.signerName !== KUBE_APISERVER_CLIENT_SIGNER) return;
  const pem = Buffer.from(csr.spec.request ?? '', 'base64').toString('latin1');
  const request = parseCertificateRequest(certificateRequestDerFromPem(pem));
  if (request.subject.organization?.includes(MASTERS)) {
    throw forbidden(
      { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' },
      csr.metadata?.name ?? '',
      `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with ${MASTERS} group is not allowed`,
    );
  }
}
