// Well-known names of Kubernetes that several layers agree on: signer names (k8s.io/api/certificates/v1),
// the built-in users and groups (k8s.io/apiserver/pkg/authentication/user, kubeadm's constants), the system
// namespaces, and the ConfigMaps the cluster publishes (k8s.io/cluster-bootstrap/token/api, root-CA publisher).

// ---- Signers ------------------------------------------------------------------------------------------
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

// ---- Users and groups ---------------------------------------------------------------------------------
export const GROUP_AUTHENTICATED = 'system:authenticated';
export const GROUP_UNAUTHENTICATED = 'system:unauthenticated';
/** The built-in super-user group (kubeadm's SystemPrivilegedGroup). */
export const GROUP_MASTERS = 'system:masters';
export const USER_ANONYMOUS = 'system:anonymous';
/** The API server's own identity (kube's user.APIServerUser). */
export const USER_APISERVER = 'system:apiserver';
/** A node is user `system:node:<name>` in group system:nodes. */
export const NODE_USER_PREFIX = 'system:node:';
export const GROUP_NODES = 'system:nodes';
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:';
export const GROUP_SERVICE_ACCOUNTS = 'system:serviceaccounts';
export const USER_KUBE_CONTROLLER_MANAGER = 'system:kube-controller-manager';
export const USER_KUBE_SCHEDULER = 'system:kube-scheduler';
/** kubeadm's group for admin.conf since 1.29 (bound to cluster-admin instead of system:masters). */
export const GROUP_KUBEADM_CLUSTER_ADMINS = 'kubeadm:cluster-admins';
/** A bootstrap token authenticates as `system:bootstrap:<token-id>` in group system:bootstrappers. */
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const GROUP_BOOTSTRAPPERS = 'system:bootstrappers';
/** kubeadm's default `token create --groups`. */
export const KUBEADM_DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

// ---- Namespaces ---------------------------------------------------------------------------------------
export const NAMESPACE_DEFAULT = 'default';
export const NAMESPACE_SYSTEM = 'kube-system';
export const NAMESPACE_PUBLIC = 'kube-public';
export const NAMESPACE_NODE_LEASE = 'kube-node-lease';

// ---- Published ConfigMaps -----------------------------------------------------------------------------
/** kube-public/cluster-info: a kubeconfig with the cluster's CA, signed per bootstrap token (JWS). */
export const CLUSTER_INFO_CONFIGMAP = 'cluster-info';
export const KUBECONFIG_KEY = 'kubeconfig';
export const JWS_SIGNATURE_KEY_PREFIX = 'jws-kubeconfig-';
/** The CA bundle the root-CA publisher writes into every namespace, under key ca.crt. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
