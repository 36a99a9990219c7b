// The RBAC that lets every node read the custom CA trust Secret — exactly that Secret, nothing else in
// kube-system — so that the agent can follow it with its node credentials (seed 001: the cluster polls the
// Secret and applies it to every node). resourceNames limits get to that name; list and watch match it only
// with fieldSelector=metadata.name=custom-ca-trust-secret, as kube's RBAC does (request-info.ts).
import { CUSTOM_CA_TRUST_NAMESPACE, CUSTOM_CA_TRUST_SECRET } from '../../apis/custom-ca-trust.js';
import { RBAC_API_VERSION, RBAC_GROUP, type Role, type RoleBinding } from './rbac-types.js';

export const CUSTOM_CA_TRUST_READER = 'system:kubepki:custom-ca-trust-reader';
const GROUP_NODES = 'system:nodes';
const meta = { namespace: CUSTOM_CA_TRUST_NAMESPACE, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } };

export const customCaTrustRoles = {
  roles: (): Role[] => [
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'Role',
      metadata: { name: CUSTOM_CA_TRUST_READER, ...structuredClone(meta) },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [CUSTOM_CA_TRUST_SECRET], verbs: ['get', 'list', 'watch'] }],
    },
  ],
  roleBindings: (): RoleBinding[] => [
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'RoleBinding',
      metadata: { name: CUSTOM_CA_TRUST_READER, ...structuredClone(meta) },
      roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: CUSTOM_CA_TRUST_READER },
      subjects: [{ apiGroup: RBAC_GROUP, kind: 'Group', name: GROUP_NODES }],
    },
  ],
};
