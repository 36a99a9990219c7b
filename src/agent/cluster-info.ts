// Reads the CA bundle the cluster publishes: the kubeconfig in ConfigMap kube-public/cluster-info (kubeadm and
// the bootstrap signer keep it), or else ConfigMap kube-public/kube-root-ca.crt (the root-CA publisher). What
// is read here is only a proposal: trust.ts decides what of it to believe. cluster-info is read anonymously,
// as `kubeadm join` does: kubeadm's RBAC lets system:anonymous get it and nobody else (a node, authenticated
// as system:node:<name>, is refused by the Node authorizer and by RBAC alike).
import { RestKubeClient } from '../client/rest.js';
import { RESOURCES } from '../client/interface.js';
import type { ClientConfig } from '../client/kubeconfig.js';
import type { ConfigMap } from '../apis/objects.js';
import { parseUntrustedYaml } from '../util/yaml-nesting.js';
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
  const doc = parseUntrustedYaml(text) as { clusters?: { cluster?: Record<string, unknown> }[] } | null;
  const data = doc?.clusters?.[0]?.cluster?.['certificate-authority-data'];
  if (typeof data !== 'string' || data === '') throw new KubepkiError('InvalidConfig', 'cluster-info: the kubeconfig has no certificate-authority-data');
  return parseCertificatesPem(Buffer.from(data, 'base64').toString('utf8'), 'cluster-info certificate-authority-data');
}

/** ConfigMap `name` in kube-public, read with `config`'s credentials (none: anonymously). */
async function readPublicConfigMap(config: ClientConfig, name: string): Promise<ConfigMap> {
  const client = new RestKubeClient(config, { userAgent: 'kubepki-agent', oneShot: true });
  try {
    return await client.resource<ConfigMap>(RESOURCES.configMaps).get(name, NAMESPACE_PUBLIC);
  } finally {
    await client.close();
  }
}

export async function fetchPublishedCa(kubeConfig: ClientConfig): Promise<PublishedCa> {
  let clusterInfoError: string;
  try {
    let cm;
    try {
      // The same cluster (server, CA, TLS settings) without any user credentials.
      cm = await readPublicConfigMap({ cluster: kubeConfig.cluster, user: {} }, CLUSTER_INFO_CONFIGMAP);
    } catch (err) {
      // Anonymous requests turned off (--anonymous-auth=false): ask with the node's own credentials.
      if (statusCodeOf(err) !== 401) throw err;
      cm = await readPublicConfigMap(kubeConfig, CLUSTER_INFO_CONFIGMAP);
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
    const cm = await readPublicConfigMap(kubeConfig, ROOT_CA_CONFIGMAP);
    const pem = cm.data?.['ca.crt'];
    if (!pem) throw new KubepkiError('InvalidConfig', 'kube-root-ca.crt has no ca.crt');
    return { source: 'kube-root-ca.crt', certificates: parseCertificatesPem(pem, 'kube-root-ca.crt ca.crt') };
  } catch (err) {
    if (err instanceof KubepkiError) throw err;
    throw new KubepkiError('APIError', `cannot read the published CA: cluster-info: ${clusterInfoError}; kube-root-ca.crt: ${describeApiError(err)}`, { cause: err });
  }
}
