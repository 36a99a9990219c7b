// The csrapproving controller's recognizers (pkg/controller/certificates/approver/sarapprove.go): which
// requests it may approve, and the SubjectAccessReview that must allow the requester first. selfnodeclient
// (a node renewing its own client certificate: the requesting user is the CN) is tried before nodeclient
// (any valid node client request, e.g. from a bootstrap token).
import { isKubeletClientRequest, type RequestSubject } from '../kubelet-csr.js';
import type { CertificateSigningRequest, ResourceAttributes } from '../../apis/index.js';

export interface Recognizer {
  /** The subresource the SubjectAccessReview asks about, also the recognizer's name. */
  name: string;
  recognize(csr: CertificateSigningRequest, request: RequestSubject): boolean;
  permission: ResourceAttributes;
  successMessage: string;
}

const csrSubresource = (subresource: string): ResourceAttributes => ({
  group: 'certificates.k8s.io',
  resource: 'certificatesigningrequests',
  verb: 'create',
  subresource,
});

export const isNodeClientCert = (csr: CertificateSigningRequest, request: RequestSubject): boolean =>
  isKubeletClientRequest(csr.spec.signerName, request, csr.spec.usages ?? []);

export const isSelfNodeClientCert = (csr: CertificateSigningRequest, request: RequestSubject): boolean =>
  csr.spec.username === (request.subject.commonName ?? '') && isNodeClientCert(csr, request);

export const RECOGNIZERS: readonly Recognizer[] = [
  {
    name: 'selfnodeclient',
    recognize: isSelfNodeClientCert,
    permission: csrSubresource('selfnodeclient'),
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    name: 'nodeclient',
    recognize: isNodeClientCert,
    permission: csrSubresource('nodeclient'),
    successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

export const AUTO_APPROVED_REASON = 'AutoApproved';
