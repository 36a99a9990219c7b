// The one Kubernetes release `serve` presents itself as, in /version and the OpenAPI documents: 1.32. The minor
// version decides which kubectl a version-dispatching kubectl (gcloud's, /usr/bin/kubectl here) runs against
// this server, so it is the kubectl the tests drive. One API is a release ahead: ClusterTrustBundle is served as
// certificates.k8s.io/v1beta1, as issue 13 asks and 1.33 serves it (1.32's v1alpha1 is the same object).
export const KUBE_RELEASE = { major: '1', minor: '32', patch: '0' } as const;

/** v1.32.0: the OpenAPI info.version. */
export const KUBE_SEMVER = `v${KUBE_RELEASE.major}.${KUBE_RELEASE.minor}.${KUBE_RELEASE.patch}`;

/** /version's major, minor and gitVersion (kube's `-<suffix>` convention marks this build). */
export const KUBE_VERSION = { major: KUBE_RELEASE.major, minor: KUBE_RELEASE.minor, gitVersion: `${KUBE_SEMVER}-kubepki` };
