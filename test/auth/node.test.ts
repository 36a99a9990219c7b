import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeAuthorizer } from '../../src/auth/authz/node.js';
import { nodeIdentity } from '../../src/apis/node-identity.js';
import type { AuthorizationAttributes, UserInfo } from '../../src/apis/authorization.js';

const node1: UserInfo = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const attrs = (user: UserInfo, verb: string, resource: string, o: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes => ({
  user,
  verb,
  resourceRequest: true,
  apiGroup: '',
  apiVersion: 'v1',
  resource,
  subresource: '',
  namespace: '',
  name: '',
  path: '',
  ...o,
});
const a = new NodeAuthorizer();

test('a node identity needs the system:node: prefix and the system:nodes group', () => {
  assert.equal(nodeIdentity(node1), 'n1');
  assert.equal(nodeIdentity({ username: 'system:node:n1', groups: [] }), undefined);
  assert.equal(nodeIdentity({ username: 'n1', groups: ['system:nodes'] }), undefined);
  assert.equal(nodeIdentity({ username: 'system:node:', groups: ['system:nodes'] }), '');
});

test('nodes may create and read CSRs and reviews through the static node rules', async () => {
  assert.equal((await a.authorize(attrs(node1, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' }))).decision, 'allow');
  assert.equal((await a.authorize(attrs(node1, 'watch', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' }))).decision, 'allow');
  assert.equal((await a.authorize(attrs(node1, 'create', 'subjectaccessreviews', { apiGroup: 'authorization.k8s.io' }))).decision, 'allow');
  assert.equal((await a.authorize(attrs(node1, 'delete', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' }))).decision, 'noOpinion');
  assert.equal((await a.authorize(attrs(node1, 'update', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io', subresource: 'approval' }))).decision, 'noOpinion');
});

test('a node may touch only its own lease in kube-node-lease', async () => {
  const lease = (verb: string, ns: string, name: string) => a.authorize(attrs(node1, verb, 'leases', { apiGroup: 'coordination.k8s.io', namespace: ns, name }));
  assert.equal((await lease('update', 'kube-node-lease', 'n1')).decision, 'allow');
  assert.equal((await lease('create', 'kube-node-lease', '')).decision, 'allow');
  assert.deepEqual(await lease('update', 'kube-node-lease', 'n2'), { decision: 'noOpinion', reason: 'can only access node lease with the same name as the requesting node' });
  assert.deepEqual(await lease('get', 'kube-system', 'n1'), { decision: 'noOpinion', reason: 'can only access leases in the "kube-node-lease" system namespace' });
  assert.equal((await lease('list', 'kube-node-lease', '')).decision, 'noOpinion');
});

test('secrets, configmaps and service-account tokens are refused: no pod binds them to the node', async () => {
  assert.deepEqual(await a.authorize(attrs(node1, 'get', 'secrets', { namespace: 'kube-system', name: 'bootstrap-token-abcdef' })), {
    decision: 'noOpinion',
    reason: "no relationship found between node 'n1' and this object",
  });
  assert.equal((await a.authorize(attrs(node1, 'list', 'configmaps', { namespace: 'default' }))).decision, 'noOpinion');
  assert.equal((await a.authorize(attrs(node1, 'create', 'serviceaccounts', { namespace: 'default', name: 'x', subresource: 'token' }))).decision, 'noOpinion');
});

test('non-nodes get no opinion; a node\'s rules are reported incomplete', async () => {
  assert.deepEqual(await a.authorize(attrs({ username: 'alice', groups: [] }, 'create', 'certificatesigningrequests', { apiGroup: 'certificates.k8s.io' })), { decision: 'noOpinion', reason: '' });
  assert.equal(a.rulesFor(node1).incomplete, true);
  assert.equal(a.rulesFor({ username: 'alice', groups: [] }).incomplete, false);
});
