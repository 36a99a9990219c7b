// Write options as kube validates them: a bad propagationPolicy, orphanDependents with a policy, or a dryRun
// other than "All" is 422 Invalid on the options kind, and the object is NOT deleted/created (it was deleted
// with a 200 for propagationPolicy=Foo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../api/helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';
const SUPPORTED = 'supported values: "Foreground", "Background", "Orphan", "nil"';

test('DeleteOptions: bad propagationPolicy / dryRun are 422 and delete nothing', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'keep' } } })).status, 201);
  const cases: Array<[string, { raw?: string }, string]> = [
    ['?propagationPolicy=Foo', {}, `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Foo": ${SUPPORTED}`],
    ['', { raw: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foo' }) }, `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Foo": ${SUPPORTED}`],
    ['?orphanDependents=true&propagationPolicy=Background', {}, 'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Background": orphanDependents and deletionPropagation cannot be both set'],
    ['?dryRun=Foo', {}, 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Foo": supported values: "All"'],
    ['', { raw: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', dryRun: ['Nope'] }) }, 'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Nope": supported values: "All"'],
  ];
  for (const [query, o, message] of cases) {
    for (const target of [`${CM}/keep${query}`, `${CM}${query}`]) {
      const r = await s.request('DELETE', target, o);
      assert.equal(r.status, 422, `${target} ${o.raw ?? ''}: ${r.text}`);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.reason, 'Invalid');
      assert.equal(r.json.message, message);
    }
  }
  assert.equal((await s.request('GET', `${CM}/keep`)).status, 200, 'nothing was deleted');
  const ok = await s.request('DELETE', `${CM}/keep?propagationPolicy=Background`);
  assert.equal(ok.status, 200, ok.text);
});

test('dryRun other than All on create, update and patch is 422 on the options kind', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'a' } } })).status, 201);
  const cases: Array<[string, string, { body?: unknown; raw?: string; headers?: Record<string, string> }, string]> = [
    ['POST', CM, { body: { metadata: { name: 'b' } } }, 'CreateOptions'],
    ['PUT', `${CM}/a`, { body: { metadata: { name: 'a' } } }, 'UpdateOptions'],
    ['PATCH', `${CM}/a`, { raw: '{}', headers: { 'Content-Type': 'application/merge-patch+json' } }, 'PatchOptions'],
  ];
  for (const [method, p, o, kind] of cases) {
    const r = await s.request(method, `${p}?dryRun=Foo`, o);
    assert.equal(r.status, 422, `${method}: ${r.text}`);
    assert.equal(r.json.message, `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Foo": supported values: "All"`);
  }
  assert.equal((await s.request('GET', `${CM}/b`)).status, 404, 'nothing was created');
});
