import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RbacCache, type RbacSnapshot } from '../../src/auth/authz/rbac-cache.js';
import { RbacAuthorizer, nonResourceURLMatches, resourceMatches } from '../../src/auth/authz/rbac.js';
import { bootstrapPolicy, reconcileRbacObject, AUTOUPDATE_ANNOTATION } from '../../src/auth/authz/bootstrap-policy.js';
import { policyCache } from './policy.js';
import { privilegedGroupsAuthorizer, unionAuthorizer } from '../../src/auth/authz/union.js';
import { forbiddenError, forbiddenMessage } from '../../src/auth/authz/forbidden.js';
import { authorizeSigner, signerForbiddenError } from '../../src/auth/authz/signers.js';
import type { ClusterRole, ClusterRoleBinding, RoleBinding } from '../../src/auth/authz/rbac-types.js';
import type { AuthorizationAttributes, UserInfo } from '../../src/apis/authorization.js';

const loadedCache = policyCache;

const authed = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });
const anonymous: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

function res(user: UserInfo, verb: string, resource: string, o: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  return { user, verb, resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace: '', name: '', path: '', ...o };
}
function path(user: UserInfo, verb: string, p: string): AuthorizationAttributes {
  return { user, verb, resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: p };
}

const cache = loadedCache();
const rbac = new RbacAuthorizer(cache);
const chain = unionAuthorizer([privilegedGroupsAuthorizer(), rbac]);
const allowed = async (a: AuthorizationAttributes) => (await chain.authorize(a)).decision === 'allow';

test('system:masters is allowed everything before RBAC is consulted', async () => {
  const empty = unionAuthorizer([privilegedGroupsAuthorizer(), new RbacAuthorizer(new RbacCache())]);
  assert.deepEqual(await empty.authorize(res(authed('root', 'system:masters'), 'delete', 'secrets', { namespace: 'kube-system' })), { decision: 'allow', reason: '' });
});

test('RBAC allows through cluster-admin bound to kubeadm:cluster-admins and says which binding allowed it', async () => {
  const r = await rbac.authorize(res(authed('kubernetes-admin', 'kubeadm:cluster-admins'), 'list', 'secrets', { namespace: 'kube-system' }));
  assert.deepEqual(r, {
    decision: 'allow',
    reason: 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"',
  });
});

test('bootstrap tokens of the kubeadm group may create CSRs and ask for node-client auto-approval, but not read secrets', async () => {
  const boot = authed('system:bootstrap:abcdef', 'system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token');
  assert.ok(await allowed(res(boot, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' })));
  assert.ok(await allowed(res(boot, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', subresource: 'nodeclient' })));
  assert.ok(await allowed(res(boot, 'get', 'nodes', { name: 'node-1' })));
  assert.equal(await allowed(res(boot, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', subresource: 'selfnodeclient' })), false);
  assert.equal(await allowed(res(boot, 'list', 'secrets', { namespace: 'kube-system' })), false);
  const other = authed('system:bootstrap:zzzzzz', 'system:bootstrappers', 'system:bootstrappers:other');
  assert.equal(await allowed(res(other, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' })), false);
});

test('nodes may renew their own client certificates (selfnodeclient)', async () => {
  const node = authed('system:node:n1', 'system:nodes');
  assert.ok(await allowed(res(node, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', subresource: 'selfnodeclient' })));
});

test('anonymous may get only the cluster-info ConfigMap in kube-public, and the public info paths', async () => {
  assert.ok(await allowed(res(anonymous, 'get', 'configmaps', { namespace: 'kube-public', name: 'cluster-info' })));
  assert.equal(await allowed(res(anonymous, 'get', 'configmaps', { namespace: 'kube-public', name: 'other' })), false);
  assert.equal(await allowed(res(anonymous, 'list', 'configmaps', { namespace: 'kube-public' })), false);
  assert.equal(await allowed(res(anonymous, 'get', 'configmaps', { namespace: 'kube-system', name: 'cluster-info' })), false);
  assert.ok(await allowed(path(anonymous, 'get', '/healthz')));
  assert.ok(await allowed(path(anonymous, 'get', '/version')));
  assert.equal(await allowed(path(anonymous, 'get', '/api')), false, 'discovery is for authenticated users only');
  assert.equal(await allowed(res(anonymous, 'create', 'selfsubjectreviews', { apiGroup: 'authentication.k8s.io' })), false);
});

test('authenticated users may discover and review themselves', async () => {
  const u = authed('alice');
  assert.ok(await allowed(path(u, 'get', '/apis/certificates.k8s.io/v1')));
  assert.ok(await allowed(path(u, 'get', '/api')));
  assert.equal(await allowed(path(u, 'get', '/metrics')), false);
  assert.ok(await allowed(res(u, 'create', 'selfsubjectreviews', { apiGroup: 'authentication.k8s.io' })));
  assert.ok(await allowed(res(u, 'create', 'selfsubjectaccessreviews', { apiGroup: 'authorization.k8s.io' })));
  assert.ok(await allowed(res(u, 'create', 'selfsubjectrulesreviews', { apiGroup: 'authorization.k8s.io' })));
  assert.equal(await allowed(res(u, 'create', 'subjectaccessreviews', { apiGroup: 'authorization.k8s.io' })), false);
});

test('role bindings grant only in their namespace; service-account subjects match the SA user', async () => {
  const c = new RbacCache();
  c.apply('roles', 'put', { metadata: { name: 'reader', namespace: 'team' }, rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }] });
  const rb: RoleBinding = {
    metadata: { name: 'sa-reader', namespace: 'team' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'bot' }],
  };
  c.apply('rolebindings', 'put', rb);
  const a = new RbacAuthorizer(c);
  const bot = authed('system:serviceaccount:team:bot', 'system:serviceaccounts', 'system:serviceaccounts:team');
  const r = await a.authorize(res(bot, 'list', 'configmaps', { namespace: 'team' }));
  assert.deepEqual(r, { decision: 'allow', reason: 'RBAC: allowed by RoleBinding "sa-reader/team" of Role "reader" to ServiceAccount "bot/team"' });
  assert.equal((await a.authorize(res(bot, 'list', 'configmaps', { namespace: 'other' }))).decision, 'noOpinion');
  assert.equal((await a.authorize(res(bot, 'list', 'configmaps'))).decision, 'noOpinion', 'cluster-scoped list is not granted by a RoleBinding');
  assert.equal((await a.authorize(res(authed('system:serviceaccount:other:bot'), 'list', 'configmaps', { namespace: 'team' }))).decision, 'noOpinion');
  c.apply('rolebindings', 'delete', rb);
  assert.equal((await a.authorize(res(bot, 'list', 'configmaps', { namespace: 'team' }))).decision, 'noOpinion', 'a deleted binding stops granting at once');
});

test('a binding to a missing role grants nothing and says why', async () => {
  const c = new RbacCache();
  c.apply('clusterrolebindings', 'put', { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'ghost' }, subjects: [{ kind: 'User', name: 'alice' }] });
  const r = await new RbacAuthorizer(c).authorize(res(authed('alice'), 'get', 'pods', { namespace: 'x' }));
  assert.deepEqual(r, { decision: 'noOpinion', reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found' });
});

test('rule matching: verbs, groups, resources with subresources and */sub, resource names, URL prefixes', () => {
  assert.ok(resourceMatches({ verbs: ['*'], resources: ['*/status'] }, 'pods/status', 'status'));
  assert.equal(resourceMatches({ verbs: ['*'], resources: ['*/status'] }, 'pods', ''), false);
  assert.equal(resourceMatches({ verbs: ['*'], resources: ['pods'] }, 'pods/status', 'status'), false);
  assert.ok(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis/x/y'));
  assert.ok(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis/'));
  assert.equal(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, '/apis'), false);
  assert.equal(nonResourceURLMatches({ verbs: ['get'], nonResourceURLs: ['/version'] }, '/version/x'), false);
});

test('Forbidden messages are kube-apiserver\'s, word for word', () => {
  const x = authed('x');
  assert.equal(forbiddenMessage(res(x, 'list', 'secrets', { namespace: 'kube-system' })), 'User "x" cannot list resource "secrets" in API group "" in the namespace "kube-system"');
  assert.equal(forbiddenMessage(res(x, 'list', 'nodes')), 'User "x" cannot list resource "nodes" in API group "" at the cluster scope');
  assert.equal(
    forbiddenMessage(res(x, 'update', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', subresource: 'approval', name: 'c1' })),
    'User "x" cannot update resource "certificatesigningrequests/approval" in API group "certificates.k8s.io" at the cluster scope',
  );
  assert.equal(forbiddenMessage(path(x, 'get', '/foo')), 'User "x" cannot get path "/foo"');
  const e = forbiddenError(res(x, 'list', 'secrets', { namespace: 'kube-system' }));
  assert.deepEqual(JSON.parse(JSON.stringify(e.status)), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'secrets is forbidden: User "x" cannot list resource "secrets" in API group "" in the namespace "kube-system"',
    reason: 'Forbidden',
    details: { group: '', kind: 'secrets' },
    code: 403,
  });
  const named = forbiddenError(res(x, 'get', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', name: 'c1' }), 'RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found');
  assert.equal(
    named.message,
    'certificatesigningrequests.certificates.k8s.io "c1" is forbidden: User "x" cannot get resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
  );
  const p = forbiddenError(path(x, 'get', '/foo'));
  assert.equal(p.message, 'forbidden: User "x" cannot get path "/foo"');
  assert.deepEqual(p.status.details, {});
});

test('signers: approve needs the exact signerName or <domain>/*; sign is a separate verb', async () => {
  const c = loadedCache();
  c.apply('clusterroles', 'put', { metadata: { name: 'example-approver' }, rules: [{ verbs: ['approve'], apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['example.com/*'] }] });
  c.apply('clusterrolebindings', 'put', { metadata: { name: 'ea' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'example-approver' }, subjects: [{ kind: 'User', name: 'approver' }] });
  c.apply('clusterrolebindings', 'put', {
    metadata: { name: 'kubelet-approver' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver' },
    subjects: [{ kind: 'User', name: 'kapprover' }],
  });
  const z = unionAuthorizer([privilegedGroupsAuthorizer(), new RbacAuthorizer(c)]);
  assert.ok(await authorizeSigner(z, authed('approver'), 'approve', 'example.com/serving'));
  assert.equal(await authorizeSigner(z, authed('approver'), 'sign', 'example.com/serving'), false);
  assert.equal(await authorizeSigner(z, authed('approver'), 'approve', 'kubernetes.io/kubelet-serving'), false);
  assert.ok(await authorizeSigner(z, authed('kapprover'), 'approve', 'kubernetes.io/kube-apiserver-client-kubelet'));
  assert.equal(await authorizeSigner(z, authed('kapprover'), 'approve', 'kubernetes.io/kube-apiserver-client'), false);
  assert.ok(await authorizeSigner(z, authed('system:serviceaccount:kube-system:certificate-controller'), 'sign', 'kubernetes.io/kubelet-serving'));
  assert.ok(await authorizeSigner(z, authed('root', 'system:masters'), 'sign', 'anything/at-all'));
  assert.equal(
    signerForbiddenError('csr-1', 'approve', 'example.com/serving').message,
    'certificatesigningrequests.certificates.k8s.io "csr-1" is forbidden: user not permitted to approve requests with signerName "example.com/serving"',
  );
});

test('a request looks only at the bindings that name the user or its groups', async () => {
  const c = loadedCache();
  for (let i = 0; i < 2000; i++) {
    c.apply('clusterrolebindings', 'put', {
      metadata: { name: `node-${i}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node' },
      subjects: [{ kind: 'User', name: `system:node:n${i}` }],
    });
  }
  let returned = 0;
  const counting: RbacSnapshot = {
    getClusterRole: (n) => c.getClusterRole(n),
    getRole: (ns, n) => c.getRole(ns, n),
    clusterRoleBindingsFor: (keys) => {
      const r = c.clusterRoleBindingsFor(keys);
      returned += r.length;
      return r;
    },
    roleBindingsFor: (ns, keys) => c.roleBindingsFor(ns, keys),
  };
  const r = await new RbacAuthorizer(counting).authorize(res(authed('system:node:n7'), 'get', 'nodes', { name: 'n7' }));
  assert.equal(r.decision, 'allow');
  assert.ok(returned <= 5, `looked at ${returned} bindings`);
});

test('rulesFor lists the resource and non-resource rules of every binding of the user', () => {
  const r = rbac.rulesFor(authed('system:bootstrap:abcdef', 'system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'), 'default');
  assert.ok(r.resourceRules.some((x) => x.resources.includes('certificatesigningrequests') && x.verbs.includes('create')));
  assert.ok(r.nonResourceRules.some((x) => x.nonResourceURLs.includes('/api')));
  assert.equal(r.incomplete, false);
  assert.equal(r.evaluationError, undefined);
});

test('reconcile creates missing objects, adds missing rules/subjects, keeps user additions, respects autoupdate=false', () => {
  const expected = bootstrapPolicy().clusterRoles.find((r) => r.metadata.name === 'system:node-bootstrapper')!;
  assert.equal(reconcileRbacObject(expected, null).action, 'create');
  const userEdited: ClusterRole = structuredClone(expected);
  userEdited.rules = [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }];
  const r = reconcileRbacObject(expected, userEdited);
  assert.equal(r.action, 'update');
  assert.equal(r.action === 'update' && r.object.rules?.length, 2);
  assert.deepEqual(r.action === 'update' && r.object.rules?.[0], { verbs: ['get'], apiGroups: [''], resources: ['nodes'] });
  assert.equal(reconcileRbacObject(expected, structuredClone(expected)).action, 'none');
  const pinned = structuredClone(userEdited);
  pinned.metadata.annotations = { [AUTOUPDATE_ANNOTATION]: 'false' };
  assert.equal(reconcileRbacObject(expected, pinned).action, 'none');

  const binding = bootstrapPolicy().clusterRoleBindings.find((b) => b.metadata.name === 'cluster-admin')!;
  const extended: ClusterRoleBinding = structuredClone(binding);
  extended.subjects = [{ kind: 'User', name: 'extra-admin', apiGroup: 'rbac.authorization.k8s.io' }];
  const rb = reconcileRbacObject(binding, extended);
  assert.equal(rb.action, 'update');
  assert.deepEqual(rb.action === 'update' && rb.object.subjects?.map((s) => s.name), ['extra-admin', 'system:masters']);
  const moved = structuredClone(binding);
  moved.roleRef.name = 'view';
  assert.equal(reconcileRbacObject(binding, moved).action, 'recreate');
});

test('the bootstrap policy holds the roles and bindings this product needs', () => {
  const p = bootstrapPolicy();
  const names = p.clusterRoles.map((r) => r.metadata.name);
  for (const n of [
    'cluster-admin',
    'system:discovery',
    'system:basic-user',
    'system:public-info-viewer',
    'system:node-bootstrapper',
    'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    'system:certificates.k8s.io:kube-apiserver-client-approver',
    'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver',
    'system:certificates.k8s.io:kubelet-serving-approver',
    'system:certificates.k8s.io:legacy-unknown-approver',
    'system:kube-controller-manager',
    'system:node',
    'system:auth-delegator',
    'kubeadm:get-nodes',
  ]) {
    assert.ok(names.includes(n), n);
  }
  const bindings = Object.fromEntries(p.clusterRoleBindings.map((b) => [b.metadata.name, b]));
  assert.equal(bindings['kubeadm:kubelet-bootstrap']!.roleRef.name, 'system:node-bootstrapper');
  assert.equal(bindings['kubeadm:node-autoapprove-bootstrap']!.subjects![0]!.name, 'system:bootstrappers:kubeadm:default-node-token');
  assert.equal(bindings['kubeadm:node-autoapprove-certificate-rotation']!.subjects![0]!.name, 'system:nodes');
  assert.equal(bindings['kubeadm:cluster-admins']!.roleRef.name, 'cluster-admin');
  assert.equal(bindings['cluster-admin']!.metadata.annotations?.[AUTOUPDATE_ANNOTATION], 'true');
});
