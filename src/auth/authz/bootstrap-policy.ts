// The RBAC objects kube-apiserver (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) and kubeadm create at
// start that a certificate system needs: superuser, discovery, self-review, the node bootstrap and CSR
// approval roles and signers, the certificate controllers, and kubeadm's bootstrap-token bindings and
// cluster-info access for anonymous. `reconcileRbacObject` is kube's reconcile: create what is missing,
// add missing rules/subjects to what exists, never remove what a user added, and leave alone anything
// annotated rbac.authorization.kubernetes.io/autoupdate=false.
import { customCaTrustRoles } from './custom-ca-trust-policy.js';
import { ctbRoles } from './ctb-policy.js';
import { RBAC_API_VERSION, RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type PolicyRule, type Role, type RoleBinding, type Subject } from './rbac-types.js';
import { NAMESPACE_PUBLIC, NAMESPACE_SYSTEM, GROUP_AUTHENTICATED, GROUP_MASTERS, GROUP_UNAUTHENTICATED, USER_ANONYMOUS, KUBEADM_DEFAULT_NODE_TOKEN_GROUP, GROUP_NODES, GROUP_SERVICE_ACCOUNTS, USER_KUBE_CONTROLLER_MANAGER, USER_KUBE_SCHEDULER, GROUP_KUBEADM_CLUSTER_ADMINS, KUBE_APISERVER_CLIENT_SIGNER, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER, CLUSTER_INFO_CONFIGMAP } from '../../apis/names.js';
import type { ObjectMeta } from '../../apis/objects.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

const r = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule =>
  resourceNames ? { apiGroups, resources, resourceNames, verbs } : { apiGroups, resources, verbs };
const urls = (verbs: string[], nonResourceURLs: string[]): PolicyRule => ({ nonResourceURLs, verbs });
const events = (): PolicyRule => r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']);

const group = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'Group', name });
const user = (name: string): Subject => ({ apiGroup: RBAC_GROUP, kind: 'User', name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

function kubeMeta(name: string, namespace?: string): ObjectMeta {
  return { name, ...(namespace ? { namespace } : {}), labels: { ...BOOTSTRAP_LABELS }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

const clusterRole = (name: string, rules: PolicyRule[], meta = kubeMeta(name)): ClusterRole => ({ apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: meta, rules });
const role = (namespace: string, name: string, rules: PolicyRule[]): Role => ({ apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: kubeMeta(name, namespace), rules });
const clusterRoleBinding = (name: string, roleName: string, subjects: Subject[], meta = kubeMeta(name)): ClusterRoleBinding => ({
  apiVersion: RBAC_API_VERSION,
  kind: 'ClusterRoleBinding',
  metadata: meta,
  roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName },
  subjects,
});
const roleBinding = (namespace: string, name: string, roleName: string, subjects: Subject[], meta = kubeMeta(name, namespace)): RoleBinding => ({
  apiVersion: RBAC_API_VERSION,
  kind: 'RoleBinding',
  metadata: meta,
  roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
  subjects,
});
/** kubeadm creates its objects without kube's bootstrap label/annotation. */
const kubeadmMeta = (name: string, namespace?: string): ObjectMeta => ({ name, ...(namespace ? { namespace } : {}) });

const approver = (name: string, signer: string) =>
  clusterRole(`system:certificates.k8s.io:${name}`, [r(['approve'], ['certificates.k8s.io'], ['signers'], [signer])]);

export interface BootstrapPolicy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: ClusterRoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

export function bootstrapPolicy(): BootstrapPolicy {
  const clusterRoles: ClusterRole[] = [
    clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('system:discovery', [
      urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']),
    ]),
    clusterRole('system:basic-user', [
      r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
    clusterRole('system:monitoring', [
      urls(['get'], ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*']),
    ]),
    clusterRole('system:auth-delegator', [
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], ['/.well-known/openid-configuration', '/openid/v1/jwks'])]),
    clusterRole('system:node-bootstrapper', [r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/nodeclient']),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      r(['create'], ['certificates.k8s.io'], ['certificatesigningrequests/selfnodeclient']),
    ]),
    approver('kube-apiserver-client-approver', KUBE_APISERVER_CLIENT_SIGNER),
    approver('kube-apiserver-client-kubelet-approver', KUBE_APISERVER_CLIENT_KUBELET_SIGNER),
    approver('kubelet-serving-approver', KUBELET_SERVING_SIGNER),
    approver('legacy-unknown-approver', LEGACY_UNKNOWN_SIGNER),
    // system:node, limited to what a node does with the API this product serves (nodes, leases, CSRs,
    // reviews); kube's full role also covers pods, volumes and the like.
    clusterRole('system:node', [
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews', 'subjectaccessreviews']),
      r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
      r(['patch', 'update'], [''], ['nodes/status']),
      r(['patch', 'update'], [''], ['nodes']),
      r(['create', 'patch', 'update'], [''], ['events']),
      r(['get', 'list', 'watch'], [''], ['configmaps', 'secrets']),
      r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      r(['create', 'delete', 'get', 'patch', 'update'], ['coordination.k8s.io'], ['leases']),
      r(['create'], [''], ['serviceaccounts/token']),
    ]),
    clusterRole('system:kube-controller-manager', [
      events(),
      r(['create'], ['coordination.k8s.io'], ['leases']),
      r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
      r(['create'], [''], ['secrets', 'serviceaccounts']),
      r(['delete'], [''], ['secrets']),
      r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
      r(['update'], [''], ['secrets', 'serviceaccounts']),
      r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      r(['list', 'watch'], ['*'], ['*']),
      r(['create'], [''], ['serviceaccounts/token']),
    ]),
    // The controllers' own roles (kube-controller-manager --use-service-account-credentials).
    clusterRole('system:controller:certificate-controller', [
      r(['delete', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
      r(['update'], ['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status']),
      r(['approve'], ['certificates.k8s.io'], ['signers'], [KUBE_APISERVER_CLIENT_KUBELET_SIGNER]),
      r(['sign'], ['certificates.k8s.io'], ['signers'], [LEGACY_UNKNOWN_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER]),
      r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
      events(),
    ]),
    clusterRole('system:controller:root-ca-cert-publisher', [r(['create', 'update'], [''], ['configmaps']), events()]),
    // kubeadm
    clusterRole('kubeadm:get-nodes', [r(['get'], [''], ['nodes'])], kubeadmMeta('kubeadm:get-nodes')),
    ...ctbRoles.clusterRoles(),
  ];

  const clusterRoleBindings: ClusterRoleBinding[] = [
    clusterRoleBinding('cluster-admin', 'cluster-admin', [group(GROUP_MASTERS)]),
    clusterRoleBinding('system:discovery', 'system:discovery', [group(GROUP_AUTHENTICATED)]),
    clusterRoleBinding('system:basic-user', 'system:basic-user', [group(GROUP_AUTHENTICATED)]),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', [group(GROUP_AUTHENTICATED), group(GROUP_UNAUTHENTICATED)]),
    clusterRoleBinding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [group(GROUP_SERVICE_ACCOUNTS)]),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', [user(USER_KUBE_CONTROLLER_MANAGER)]),
    // kube binds system:node to nobody since 1.8 (the Node authorizer grants nodes their access).
    clusterRoleBinding('system:node', 'system:node', []),
    // kubepki's controllers may run as system:kube-controller-manager itself (kube-controller-manager without
    // --use-service-account-credentials), so that user is a subject of the controller bindings too. It gives
    // the user nothing new: kube's own role already lets it mint tokens for these service accounts.
    clusterRoleBinding('system:controller:certificate-controller', 'system:controller:certificate-controller', [
      serviceAccount(NAMESPACE_SYSTEM, 'certificate-controller'),
      user(USER_KUBE_CONTROLLER_MANAGER),
    ]),
    clusterRoleBinding('system:controller:root-ca-cert-publisher', 'system:controller:root-ca-cert-publisher', [
      serviceAccount(NAMESPACE_SYSTEM, 'root-ca-cert-publisher'),
      user(USER_KUBE_CONTROLLER_MANAGER),
    ]),
    // kubepki's built-in kubelet-serving approver (--kubelet-serving-approve-cidrs) acts as the controller
    // manager; kube has no such approver, its operators bind this role to theirs.
    clusterRoleBinding('kubepki:kubelet-serving-approver', 'system:certificates.k8s.io:kubelet-serving-approver', [user(USER_KUBE_CONTROLLER_MANAGER)], kubeadmMeta('kubepki:kubelet-serving-approver')),
    // kubeadm: bootstrap tokens of the default group may create CSRs, have them auto-approved and read
    // nodes; nodes may renew their own client certificates; kubeadm's admin group is cluster-admin.
    clusterRoleBinding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', [group(KUBEADM_DEFAULT_NODE_TOKEN_GROUP)], kubeadmMeta('kubeadm:kubelet-bootstrap')),
    clusterRoleBinding(
      'kubeadm:node-autoapprove-bootstrap',
      'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
      [group(KUBEADM_DEFAULT_NODE_TOKEN_GROUP)],
      kubeadmMeta('kubeadm:node-autoapprove-bootstrap'),
    ),
    clusterRoleBinding(
      'kubeadm:node-autoapprove-certificate-rotation',
      'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
      [group(GROUP_NODES)],
      kubeadmMeta('kubeadm:node-autoapprove-certificate-rotation'),
    ),
    clusterRoleBinding('kubeadm:get-nodes', 'kubeadm:get-nodes', [group(KUBEADM_DEFAULT_NODE_TOKEN_GROUP)], kubeadmMeta('kubeadm:get-nodes')),
    clusterRoleBinding('kubeadm:cluster-admins', 'cluster-admin', [group(GROUP_KUBEADM_CLUSTER_ADMINS)], kubeadmMeta('kubeadm:cluster-admins')),
    ...ctbRoles.clusterRoleBindings(),
  ];

  const roles: Role[] = [
    role(NAMESPACE_SYSTEM, 'extension-apiserver-authentication-reader', [
      r(['get', 'list', 'watch'], [''], ['configmaps'], ['extension-apiserver-authentication']),
    ]),
    role(NAMESPACE_SYSTEM, 'system:controller:bootstrap-signer', [r(['get', 'list', 'watch'], [''], ['secrets'])]),
    role(NAMESPACE_SYSTEM, 'system:controller:token-cleaner', [r(['delete', 'get', 'list', 'watch'], [''], ['secrets']), events()]),
    role(NAMESPACE_PUBLIC, 'system:controller:bootstrap-signer', [
      r(['get', 'list', 'watch'], [''], ['configmaps']),
      r(['update'], [''], ['configmaps'], [CLUSTER_INFO_CONFIGMAP]),
      events(),
    ]),
    {
      apiVersion: RBAC_API_VERSION,
      kind: 'Role',
      metadata: kubeadmMeta('kubeadm:bootstrap-signer-clusterinfo', NAMESPACE_PUBLIC),
      rules: [r(['get'], [''], ['configmaps'], [CLUSTER_INFO_CONFIGMAP])],
    },
    ...customCaTrustRoles.roles(),
  ];

  const roleBindings: RoleBinding[] = [
    roleBinding(NAMESPACE_SYSTEM, 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', [
      user(USER_KUBE_CONTROLLER_MANAGER),
      user(USER_KUBE_SCHEDULER),
    ]),
    roleBinding(NAMESPACE_SYSTEM, 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [
      serviceAccount(NAMESPACE_SYSTEM, 'bootstrap-signer'),
      user(USER_KUBE_CONTROLLER_MANAGER),
    ]),
    roleBinding(NAMESPACE_SYSTEM, 'system:controller:token-cleaner', 'system:controller:token-cleaner', [
      serviceAccount(NAMESPACE_SYSTEM, 'token-cleaner'),
      user(USER_KUBE_CONTROLLER_MANAGER),
    ]),
    roleBinding(NAMESPACE_PUBLIC, 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', [
      serviceAccount(NAMESPACE_SYSTEM, 'bootstrap-signer'),
      user(USER_KUBE_CONTROLLER_MANAGER),
    ]),
    roleBinding(NAMESPACE_PUBLIC, 'kubeadm:bootstrap-signer-clusterinfo', 'kubeadm:bootstrap-signer-clusterinfo', [user(USER_ANONYMOUS)], kubeadmMeta('kubeadm:bootstrap-signer-clusterinfo', NAMESPACE_PUBLIC)),
    ...customCaTrustRoles.roleBindings(),
  ];

  return { clusterRoles, clusterRoleBindings, roles, roleBindings };
}

// ---- reconcile ------------------------------------------------------------------------------------------

type RbacObject = ClusterRole | Role | ClusterRoleBinding | RoleBinding;

const sortedKey = (l: string[] | undefined): string => JSON.stringify([...(l ?? [])].sort());
const ruleKey = (p: PolicyRule): string =>
  [p.verbs, p.apiGroups, p.resources, p.resourceNames, p.nonResourceURLs].map((l) => sortedKey(l)).join('|');
const subjectKeyOf = (s: Subject): string => `${s.kind}|${s.namespace ?? ''}|${s.name}`;

/**
 * What to write for one expected object given what exists: `create` it, `update` to the returned object,
 * or leave it (`none`). A binding whose roleRef differs must be re-created (roleRef is immutable).
 */
export function reconcileRbacObject<T extends RbacObject>(
  expected: T,
  existing: T | null,
): { action: 'create'; object: T } | { action: 'update'; object: T } | { action: 'recreate'; object: T } | { action: 'none' } {
  if (!existing) return { action: 'create', object: structuredClone(expected) };
  if (existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return { action: 'none' };
  const next = structuredClone(existing);
  let changed = false;
  for (const [field, values] of [
    ['labels', expected.metadata.labels],
    ['annotations', expected.metadata.annotations],
  ] as const) {
    for (const [k, v] of Object.entries(values ?? {})) {
      const target = (next.metadata[field] ??= {});
      if (target[k] === undefined) {
        target[k] = v;
        changed = true;
      }
    }
  }
  if ('roleRef' in expected) {
    const e = expected as ClusterRoleBinding;
    const n = next as ClusterRoleBinding;
    if (n.roleRef?.kind !== e.roleRef.kind || n.roleRef?.name !== e.roleRef.name || n.roleRef?.apiGroup !== e.roleRef.apiGroup) {
      const replacement = structuredClone(n);
      replacement.roleRef = structuredClone(e.roleRef);
      replacement.subjects = structuredClone(e.subjects ?? []);
      delete replacement.metadata.resourceVersion;
      delete replacement.metadata.uid;
      return { action: 'recreate', object: replacement as T };
    }
    const have = new Set((n.subjects ?? []).map(subjectKeyOf));
    for (const s of e.subjects ?? []) {
      if (!have.has(subjectKeyOf(s))) {
        (n.subjects ??= []).push(structuredClone(s));
        changed = true;
      }
    }
  } else {
    const e = expected as ClusterRole;
    const n = next as ClusterRole;
    const have = new Set((n.rules ?? []).map(ruleKey));
    for (const rule of e.rules ?? []) {
      if (!have.has(ruleKey(rule))) {
        (n.rules ??= []).push(structuredClone(rule));
        changed = true;
      }
    }
  }
  return changed ? { action: 'update', object: next } : { action: 'none' };
}
