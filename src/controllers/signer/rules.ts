// What each kubernetes.io signer will sign — in one place, mapped by signerName, so no wiring mistake can
// apply one signer's rules to another's requests (k8s.io/kubernetes pkg/controller/certificates/signer and
// pkg/apis/certificates: ValidateKubeletClientCSR, ValidateKubeletServingCSR). Messages are kube's own, so a
// `kubectl describe csr` reads the same against either implementation.
import type { SubjectAltNames } from '../../x509/san.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER, NODE_USER_PREFIX, GROUP_NODES } from '../../apis/names.js';

/** What the rules look at in a request. */
export interface RequestSubject {
  commonName: string;
  organization: string[];
  sans: SubjectAltNames;
}

/** null = allowed; a string = why not (becomes the Failed condition's message). */
export type SignerRule = (req: RequestSubject, usages: readonly string[]) => string | null;

const ERR = {
  organization: 'subject organization is not system:nodes',
  commonName: 'subject common name does not begin with system:node:',
  dnsOrIpRequired: 'DNS or IP subjectAltName is required',
  dns: 'DNS subjectAltNames are not allowed',
  email: 'Email subjectAltNames are not allowed',
  ip: 'IP subjectAltNames are not allowed',
  uri: 'URI subjectAltNames are not allowed',
};

/** Usage sets compare as sets (duplicates collapse), as kube's sets.String.Equal does. */
function sameSet(usages: readonly string[], allowed: readonly string[]): boolean {
  const a = new Set(usages);
  return a.size === allowed.length && allowed.every((u) => a.has(u));
}

/** kube prints sets.String.List(): sorted, Go's %v of a []string. */
const goList = (values: readonly string[]): string => `[${[...values].sort().join(' ')}]`;

const KUBELET_CLIENT_USAGES = ['digital signature', 'key encipherment', 'client auth'];
const KUBELET_CLIENT_USAGES_NO_RSA = ['digital signature', 'client auth'];
const KUBELET_SERVING_USAGES = ['digital signature', 'key encipherment', 'server auth'];
const KUBELET_SERVING_USAGES_NO_RSA = ['digital signature', 'server auth'];

const isNodesOrganization = (o: readonly string[]): boolean => o.length === 1 && o[0] === GROUP_NODES;

/** A node's client certificate: O=[system:nodes], CN=system:node:<name>, no SANs at all, client auth. */
export const validateKubeletClientRequest: SignerRule = (req, usages) => {
  if (!isNodesOrganization(req.organization)) return ERR.organization;
  if (req.sans.dnsNames.length > 0) return ERR.dns;
  if (req.sans.emailAddresses.length > 0) return ERR.email;
  if (req.sans.ipAddresses.length > 0) return ERR.ip;
  if (req.sans.uris.length > 0) return ERR.uri;
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return ERR.commonName;
  if (!sameSet(usages, KUBELET_CLIENT_USAGES) && !sameSet(usages, KUBELET_CLIENT_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_CLIENT_USAGES)}`;
  }
  return null;
};

/** A node's serving certificate: the same subject, at least one DNS or IP SAN and nothing else, server auth. */
export const validateKubeletServingRequest: SignerRule = (req, usages) => {
  if (!isNodesOrganization(req.organization)) return ERR.organization;
  if (req.sans.dnsNames.length === 0 && req.sans.ipAddresses.length === 0) return ERR.dnsOrIpRequired;
  if (req.sans.emailAddresses.length > 0) return ERR.email;
  if (req.sans.uris.length > 0) return ERR.uri;
  if (!sameSet(usages, KUBELET_SERVING_USAGES) && !sameSet(usages, KUBELET_SERVING_USAGES_NO_RSA)) {
    return `usages did not match ${goList(KUBELET_SERVING_USAGES)}`;
  }
  if (!req.commonName.startsWith(NODE_USER_PREFIX)) return ERR.commonName;
  return null;
};

/** Any client of the API server: client auth required; digital signature and key encipherment optional. */
export const validateKubeAPIServerClientRequest: SignerRule = (_req, usages) => {
  let hasClientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') hasClientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
  }
  return hasClientAuth ? null : 'missing required usage for client certificate: client auth';
};

/** No restrictions, for v1beta1 compatibility (kube does the same). */
export const validateLegacyUnknownRequest: SignerRule = () => null;

/** The one mapping from signerName to rules. */
export const SIGNER_RULES: Readonly<Record<string, SignerRule>> = {
  [KUBE_APISERVER_CLIENT_SIGNER]: validateKubeAPIServerClientRequest,
  [KUBE_APISERVER_CLIENT_KUBELET_SIGNER]: validateKubeletClientRequest,
  [KUBELET_SERVING_SIGNER]: validateKubeletServingRequest,
  [LEGACY_UNKNOWN_SIGNER]: validateLegacyUnknownRequest,
};

export const BUILTIN_SIGNER_NAMES: readonly string[] = Object.keys(SIGNER_RULES);

export function isKubeletClientRequest(signerName: string, req: RequestSubject, usages: readonly string[]): boolean {
  return signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER && validateKubeletClientRequest(req, usages) === null;
}
