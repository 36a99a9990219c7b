// Object metadata kube validates on every kind: ownerReferences must name a version, kind, name and uid
// (ValidateOwnerReferences); garbage ones were stored as given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../api/helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';

test('ownerReferences without version/kind/name/uid are 422 with kube\'s messages, on create and update', async (t) => {
  const s = await startTestServer(t);
  const bad = { metadata: { name: 'own', ownerReferences: [{ apiVersion: 'a/b/c', kind: '', name: '', uid: '' }] } };
  const r = await s.request('POST', CM, { body: bad });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.reason, 'Invalid');
  assert.equal(
    r.json.message,
    'ConfigMap "own" is invalid: [metadata.ownerReferences.apiVersion: Invalid value: "a/b/c": version must not be empty, metadata.ownerReferences.kind: Invalid value: "": kind must not be empty, metadata.ownerReferences.name: Invalid value: "": name must not be empty, metadata.ownerReferences.uid: Invalid value: "": uid must not be empty]',
  );
  assert.equal((await s.request('GET', `${CM}/own`)).status, 404);

  const good = { apiVersion: 'v1', kind: 'Namespace', name: 'default', uid: '6b8f3c1e-0000-4000-8000-000000000001' };
  const created = await s.request('POST', CM, { body: { metadata: { name: 'own', ownerReferences: [good] } } });
  assert.equal(created.status, 201, created.text);
  const patched = await s.request('PATCH', `${CM}/own`, { raw: JSON.stringify({ metadata: { ownerReferences: [{ ...good, uid: '' }] } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(patched.status, 422, patched.text);
  assert.match(patched.json.message, /metadata\.ownerReferences\.uid: Invalid value: "": uid must not be empty/);
});
