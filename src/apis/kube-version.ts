// The one Kubernetes release `serve` presents itself as, in /version and the OpenAPI documents. It must be
// the release whose API versions are served: ClusterTrustBundle is certificates.k8s.io/v1beta1, which
// Kubernetes 1.33 introduced (1.32 served only v1alpha1), so a client keying API use off the version agrees
// with discovery.
export const KUBE_RELEASE = { major: '1', minor: '33', patch: '0' } as const;

/** v1.33.0: the OpenAPI info.version. */
export const KUBE_SEMVER = `v${KUBE_RELEASE.major}.${KUBE_RELEASE.minor}.${KUBE_RELEASE.patch}`;

/** /version's major, minor and gitVersion (kube's `-<suffix>` convention marks this build). */
export const KUBE_VERSION = { major: KUBE_RELEASE.major, minor: KUBE_RELEASE.minor, gitVersion: `${KUBE_SEMVER}-kubepki` };
