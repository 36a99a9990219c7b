// Patches that would move an object to another namespace or change its kind are refused with kube's 400
// (checkName in endpoints/handlers/rest.go; the decoder's kind check), not silently undone with a 200.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../api/helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';

test('merge, JSON, strategic and apply patches may not change metadata.namespace or kind', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'p1' }, data: { a: '1' } } })).status, 201);
  const nsMessage = 'the namespace of the object (kube-system) does not match the namespace on the URL (default)';
  const cases: Array<[string, string, string, string]> = [
    ['application/merge-patch+json', '', JSON.stringify({ metadata: { namespace: 'kube-system' }, data: { a: '2' } }), nsMessage],
    ['application/strategic-merge-patch+json', '', JSON.stringify({ metadata: { namespace: 'kube-system' }, data: { a: '2' } }), nsMessage],
    ['application/json-patch+json', '', JSON.stringify([{ op: 'replace', path: '/metadata/namespace', value: 'kube-system' }, { op: 'replace', path: '/data/a', value: '2' }]), nsMessage],
    ['application/apply-patch+yaml', '?fieldManager=m', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p1', namespace: 'kube-system' }, data: { a: '2' } }), nsMessage],
    ['application/merge-patch+json', '', JSON.stringify({ kind: 'Secret', data: { a: '2' } }), 'the kind in the data (Secret) does not match the expected kind (ConfigMap)'],
    ['application/json-patch+json', '', JSON.stringify([{ op: 'replace', path: '/apiVersion', value: 'v2' }]), 'the API version in the data (v2) does not match the expected API version (v1)'],
  ];
  for (const [type, query, raw, message] of cases) {
    const r = await s.request('PATCH', `${CM}/p1${query}`, { raw, headers: { 'Content-Type': type } });
    assert.equal(r.status, 400, `${type} ${raw}: ${r.text}`);
    assert.equal(r.json.kind, 'Status');
    assert.equal(r.json.reason, 'BadRequest');
    assert.equal(r.json.message, message);
  }
  const after = await s.request('GET', `${CM}/p1`);
  assert.equal(after.json.data.a, '1', 'no refused patch was written');
  // The namespace it already has is fine.
  const same = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify({ metadata: { namespace: 'default' }, data: { a: '3' } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.json.data.a, '3');
});
