// kube-apiserver's CertificateSubjectRestriction admission: nobody may ask the kube-apiserver-client signer
// for a certificate in group system:masters (it would be an unrevocable cluster-admin credential that bypasses
// RBAC). It runs after validation, on create only, as the admission plugin does.
import { certificateRequestDerFromPem, parseCertificateRequest } from '../x509/certificate-request.js';
import { forbidden } from '../apis/status.js';
import { GROUP_MASTERS, KUBE_APISERVER_CLIENT_SIGNER } from '../apis/names.js';
import type { KubeObject } from '../apis/objects.js';

export function checkSubjectRestriction(csr: KubeObject & { spec?: { signerName?: string; request?: string } }): void {
  if (csr.spec?.signerName !== KUBE_APISERVER_CLIENT_SIGNER) return;
  const pem = Buffer.from(csr.spec.request ?? '', 'base64').toString('latin1');
  const request = parseCertificateRequest(certificateRequestDerFromPem(pem));
  if (request.subject.organization?.includes(GROUP_MASTERS)) {
    throw forbidden(
      { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' },
      csr.metadata?.name ?? '',
      `use of ${KUBE_APISERVER_CLIENT_SIGNER} signer with ${GROUP_MASTERS} group is not allowed`,
    );
  }
}
