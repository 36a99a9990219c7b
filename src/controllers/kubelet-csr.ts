// kube's pkg/apis/certificates helpers for kubelet requests (ValidateKubeletClientCSR,
// ValidateKubeletServingCSR, IsKubeletClientCSR), shared by the approver (which recognizes node requests)
// and the kubelet signers (which refuse anything else). Messages are kube's own, so a `kubectl describe csr`
// reads the same against either implementation.
import type { CertificateRequest } from '../x509/certificate-request.js';
import { GROUP_NODES, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, NODE_USER_PREFIX } from '../apis/names.js';

/** What the rules look at in a request. */
export type RequestSubject = Pick<CertificateRequest, 'subject' | 'sans'>;

export const ERR = {
  organization: 'subject organization is not system:nodes',
  commonName: 'subject common name does not begin with system:node:',
  dnsOrIpRequired: 'DNS or IP subjectAltName is required',
  dns: 'DNS subjectAltNames are not allowed',
  email: 'Email subjectAltNames are not allowed',
  ip: 'IP subjectAltNames are not allowed',
  uri: 'URI subjectAltNames are not allowed',
};

/** Usage sets compare as sets (duplicates collapse), as kube's sets.String.Equal does. */
export function sameSet(usages: readonly string[], allowed: readonly string[]): boolean {
  const a = new Set(usages);
  return a.size === allowed.length && allowed.every((u) => a.has(u));
}

/** kube prints sets.String.List(): sorted, Go's %v of a []string. */
export const goList = (values: readonly string[]): string => `[${[...values].sort().join(' ')}]`;

export const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
export const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
export const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
export const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

const commonName = (req: RequestSubject): string => req.subject.commonName ?? '';
const isNodesOrganization = (req: RequestSubject): boolean => req.subject.organization?.length === 1 && req.subject.organization[0] === GROUP_NODES;

/** A node's client certificate: O=[system:nodes], CN=system:node:<name>, no SANs at all, client auth. */
export function validateKubeletClientRequest(req: RequestSubject, usages: readonly string[]): string | null {
  if (!isNodesOrganization(req)) return ERR.organization;
  if (req.sans.dnsNames.length > 0) return ERR.dns;
  if (req.sans.emailAddresses.length > 0) return ERR.email;
  if (req.sans.ipAddresses.length > 0) return ERR.ip;
  if (req.sans.uris.length > 0) return ERR.uri;
  if (!commonName(req).startsWith(NODE_USER_PREFIX)) return ERR.commonName;
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  }
  return null;
}

/** A node's serving certificate: the same subject, at least one DNS or IP SAN and nothing else, server auth. */
export function validateKubeletServingRequest(req: RequestSubject, usages: readonly string[]): string | null {
  if (!isNodesOrganization(req)) return ERR.organization;
  if (req.sans.dnsNames.length === 0 && req.sans.ipAddresses.length === 0) return ERR.dnsOrIpRequired;
  if (req.sans.emailAddresses.length > 0) return ERR.email;
  if (req.sans.uris.length > 0) return ERR.uri;
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  }
  if (!commonName(req).startsWith(NODE_USER_PREFIX)) return ERR.commonName;
  return null;
}

/** IsKubeletClientCSR: the kubelet client signer, and a request that passes its validation. */
export function isKubeletClientRequest(signerName: string, req: RequestSubject, usages: readonly string[]): boolean {
  return signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER && validateKubeletClientRequest(req, usages) === null;
}
