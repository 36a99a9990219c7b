// Reads the CA bundle the cluster publishes: the kubeconfig in ConfigMap kube-public/cluster-info (kubeadm and
// the bootstrap signer keep it), or else ConfigMap kube-public/kube-root-ca.crt (the root-CA publisher). What
// is read here is only a proposal: trust.ts decides what of it to believe. cluster-info is read anonymously,
// as `kubeadm join` does: kubeadm's RBAC lets system:anonymous get it and nobody else (a node, authenticated
// as system:node:<name>, is refused by the Node authorizer and by RBAC alike).
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { KubepkiError } from '../util/errors.js';
import { parseCertificatesPem, type Certificate } from '../x509/index.js';
import { describeApiError, statusCodeOf } from './csr-client.js';
import { CLUSTER_INFO_CONFIGMAP, KUBECONFIG_KEY, NAMESPACE_PUBLIC, ROOT_CA_CONFIGMAP } from '../apis/names.js';

export interface PublishedCa {
  source: 'cluster-info' | 'kube-root-ca.crt';
  certificates: Certificate[];
}

/** The CA certificates in cluster-info's kubeconfig (its first cluster's certificate-authority-data). */
export function caFromClusterInfoKubeconfig(text: string): Certificate[] {
  const doc = parse(text) as { clusters?: { cluster?: Record<string, unknown> }[] } | null;
  const data = doc?.clusters?.[0]?.cluster?.['certificate-authority-data'];
  if (typeof data !== 'string' || data === '') throw new KubepkiError('InvalidConfig', 'cluster-info: the kubeconfig has no certificate-authority-data');
  return parseCertificatesPem(Buffer.from(data, 'base64').toString('utf8'), 'cluster-info certificate-authority-data');
}

/** The same cluster (server, CA, TLS settings) without any user credentials. */
function anonymous(kubeConfig: KubeConfig): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new KubepkiError('InvalidConfig', 'the kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'anonymous' }],
    contexts: [{ name: 'anonymous', cluster: cluster.name, user: 'anonymous' }],
    currentContext: 'anonymous',
  });
  return kc;
}

export async function fetchPublishedCa(kubeConfig: KubeConfig): Promise<PublishedCa> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let clusterInfoError: string;
  try {
    let cm;
    try {
      cm = await anonymous(kubeConfig).makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NAMESPACE_PUBLIC, name: CLUSTER_INFO_CONFIGMAP });
    } catch (err) {
      // Anonymous requests turned off (--anonymous-auth=false): ask with the node's own credentials.
      if (statusCodeOf(err) !== 401) throw err;
      cm = await core.readNamespacedConfigMap({ namespace: NAMESPACE_PUBLIC, name: CLUSTER_INFO_CONFIGMAP });
    }
    const kc = cm.data?.[KUBECONFIG_KEY];
    if (!kc) throw new KubepkiError('InvalidConfig', 'cluster-info has no kubeconfig');
    return { source: 'cluster-info', certificates: caFromClusterInfoKubeconfig(kc) };
  } catch (err) {
    if (err instanceof KubepkiError) throw err;
    clusterInfoError = describeApiError(err);
    if (statusCodeOf(err) === undefined) throw new KubepkiError('APIError', `cannot read cluster-info: ${clusterInfoError}`, { cause: err });
  }
  try {
    const cm = await core.readNamespacedConfigMap({ namespace: NAMESPACE_PUBLIC, name: ROOT_CA_CONFIGMAP });
    const pem = cm.data?.['ca.crt'];
    if (!pem) throw new KubepkiError('InvalidConfig', 'kube-root-ca.crt has no ca.crt');
    return { source: 'kube-root-ca.crt', certificates: parseCertificatesPem(pem, 'kube-root-ca.crt ca.crt') };
  } catch (err) {
    if (err instanceof KubepkiError) throw err;
    throw new KubepkiError('APIError', `cannot read the published CA: cluster-info: ${clusterInfoError}; kube-root-ca.crt: ${describeApiError(err)}`, { cause: err });
  }
}
