// The one Kubernetes release `serve` presents itself as, in /version and the OpenAPI documents. It must be
// the release whose API versions are served: Kubernetes 1.32, so ClusterTrustBundle is served as
// certificates.k8s.io/v1alpha1 (v1beta1 arrived in 1.33). The minor version also decides which kubectl a
// version-dispatching kubectl (gcloud's) runs against this server: 1.32, the kubectl the tests drive.
export const KUBE_RELEASE = { major: '1', minor: '32', patch: '0' } as const;

/** v1.32.0: the OpenAPI info.version. */
export const KUBE_SEMVER = `v${KUBE_RELEASE.major}.${KUBE_RELEASE.minor}.${KUBE_RELEASE.patch}`;

/** /version's major, minor and gitVersion (kube's `-<suffix>` convention marks this build). */
export const KUBE_VERSION = { major: KUBE_RELEASE.major, minor: KUBE_RELEASE.minor, gitVersion: `${KUBE_SEMVER}-kubepki` };
