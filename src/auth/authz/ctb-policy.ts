// RBAC for ClusterTrustBundles: nodes read them (the kubelet's projected volumes; kubepki's agent takes
// custom trust from them), as kube's system:node role allows; the publisher controller writes the
// signer-linked bundles of the kubernetes.io signers and may `attest` for exactly those signers.
import { RBAC_API_VERSION, RBAC_GROUP, type ClusterRole, type ClusterRoleBinding } from './rbac-types.js';

const READER = 'system:kubepki:clustertrustbundle-reader';
const PUBLISHER = 'system:controller:clustertrustbundle-publisher';
const PUBLISHED_SIGNERS = [
  'kubernetes.io/kube-apiserver-client',
  'kubernetes.io/kube-apiserver-client-kubelet',
  'kubernetes.io/kubelet-serving',
  'kubernetes.io/legacy-unknown',
  'kubernetes.io/kube-apiserver-serving',
];
const meta = (name: string) => ({ name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } });

export const ctbRoles = {
  clusterRoles: (): ClusterRole[] => [
    { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: meta(READER), rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['clustertrustbundles'], verbs: ['get', 'list', 'watch'] }] },
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRole',
      metadata: meta(PUBLISHER),
      rules: [
        { apiGroups: ['certificates.k8s.io'], resources: ['clustertrustbundles'], verbs: ['create', 'delete', 'get', 'list', 'update', 'watch'] },
        { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: PUBLISHED_SIGNERS, verbs: ['attest'] },
      ],
    },
  ],
  clusterRoleBindings: (): ClusterRoleBinding[] => [
    { apiVersion: RBAC_API_VERSION, kind: 'ClusterRoleBinding', metadata: meta(READER), roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: READER }, subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: 'system:nodes' }] },
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'ClusterRoleBinding',
      metadata: meta(PUBLISHER),
      roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: PUBLISHER },
      subjects: [
        { apiGroup: RBAC_GROUP, kind: 'User', name: 'system:kube-controller-manager' },
        { kind: 'ServiceAccount', name: 'clustertrustbundle-publisher', namespace: 'kube-system' },
      ],
    },
  ],
};
