// Nodes read exactly the custom CA trust Secret and nothing else, and write only their own trust report:
// requests parsed as the server parses them, decided by the Node + RBAC chain serve runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequestInfo } from '../../src/api/request-info.js';
import { NodeAuthorizer } from '../../src/auth/authz/node.js';
import { RbacAuthorizer } from '../../src/auth/authz/rbac.js';
import { unionAuthorizer } from '../../src/auth/authz/union.js';
import type { UserInfo } from '../../src/apis/authorization.js';
import { policyCache } from './policy.js';

const chain = unionAuthorizer([new NodeAuthorizer(), new RbacAuthorizer(policyCache())]);
const node: UserInfo = { username: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

async function decide(user: UserInfo, method: string, url: string): Promise<string> {
  const u = new URL(url, 'https://x');
  const info = parseRequestInfo(method, u.pathname, u.searchParams);
  const { decision } = await chain.authorize({ user, verb: info.verb, resourceRequest: info.isResourceRequest, apiGroup: info.apiGroup, apiVersion: info.apiVersion, resource: info.resource, subresource: info.subresource, namespace: info.namespace, name: info.name, path: info.path });
  return decision;
}

test('a node may get, list and watch custom-ca-trust-secret (list/watch only with its name as field selector)', async () => {
  const base = '/api/v1/namespaces/kube-system/secrets';
  assert.equal(await decide(node, 'GET', `${base}/custom-ca-trust-secret`), 'allow');
  assert.equal(await decide(node, 'GET', `${base}?fieldSelector=metadata.name%3Dcustom-ca-trust-secret`), 'allow');
  assert.equal(await decide(node, 'GET', `${base}?watch=true&fieldSelector=metadata.name%3Dcustom-ca-trust-secret&resourceVersion=5`), 'allow');
  // Everything else stays refused: other Secrets, all Secrets, writes, other namespaces.
  assert.equal(await decide(node, 'GET', base), 'noOpinion');
  assert.equal(await decide(node, 'GET', `${base}?watch=true`), 'noOpinion');
  assert.equal(await decide(node, 'GET', `${base}?fieldSelector=metadata.name!%3Dcustom-ca-trust-secret`), 'noOpinion');
  assert.equal(await decide(node, 'GET', `${base}/bootstrap-token-abcdef`), 'noOpinion');
  assert.equal(await decide(node, 'PUT', `${base}/custom-ca-trust-secret`), 'noOpinion');
  assert.equal(await decide(node, 'DELETE', `${base}/custom-ca-trust-secret`), 'noOpinion');
  assert.equal(await decide(node, 'GET', '/api/v1/namespaces/default/secrets/custom-ca-trust-secret'), 'noOpinion');
  // Not for users who are not nodes.
  assert.equal(await decide({ username: 'alice', groups: ['system:authenticated'] }, 'GET', `${base}/custom-ca-trust-secret`), 'noOpinion');
});

test('a node may write its own trust report Lease and not another node\'s', async () => {
  const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
  assert.equal(await decide(node, 'GET', `${leases}/n1-custom-ca-trust`), 'allow');
  assert.equal(await decide(node, 'PUT', `${leases}/n1-custom-ca-trust`), 'allow');
  assert.equal(await decide(node, 'PUT', `${leases}/n2-custom-ca-trust`), 'noOpinion');
  assert.equal(await decide(node, 'GET', `${leases}/n2`), 'noOpinion');
});
