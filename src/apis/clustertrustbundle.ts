// certificates.k8s.io/v1beta1 ClusterTrustBundle (as in Kubernetes 1.33; the same object as 1.32's v1alpha1): a cluster-scoped set of X.509 trust
// anchors, optionally linked to a signer. A signer-linked bundle is named `<signerName with / → :>:<suffix>`.
export const CTB_GROUP = 'certificates.k8s.io';
export const CTB_VERSION = 'v1beta1';
export const CTB_API_VERSION = `${CTB_GROUP}/${CTB_VERSION}`;
export const CTB_RESOURCE = 'clustertrustbundles';
/** kube's MaxTrustBundleSize. */
export const MAX_TRUST_BUNDLE_SIZE = 1024 * 1024;

export interface ClusterTrustBundle {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; labels?: Record<string, string>; resourceVersion?: string; [k: string]: unknown };
  spec: { signerName?: string; trustBundle: string };
  [field: string]: unknown;
}

/** The name prefix every bundle linked to `signerName` must carry (kube's signer-name-to-prefix rule). */
export const ctbNamePrefix = (signerName: string): string => `${signerName.replace(/\//g, ':')}:`;
