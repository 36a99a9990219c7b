// Patches that would move an object to another namespace or change its kind are refused with kube's 400
// (checkName in endpoints/handlers/rest.go; the decoder's kind check), not silently undone with a 200.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../api/helpers.js';
import { MAX_BODY_NESTING } from '../../src/api/body.js';

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

test('JSON patch: more than 10,000 operations is a 413; copies that would blow the object up stop at 3 MiB', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'p1' }, data: { a: '1' } } })).status, 201);
  const JP = { 'Content-Type': 'application/json-patch+json' };

  const many = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/data/a', value: '1' }));
  const r413 = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify(many), headers: JP });
  assert.equal(r413.status, 413, r413.text);
  assert.equal(r413.json.reason, 'RequestEntityTooLarge');
  assert.equal(r413.json.message, 'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
  const atLimit = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify(many.slice(1)), headers: JP });
  assert.equal(atLimit.status, 200, atLimit.text);

  // Each copy doubles metadata.annotations: 30 of them would be 2^30 KB. Without the bound the server stopped answering.
  const doubling = [{ op: 'add', path: '/metadata/annotations', value: { a: 'x'.repeat(1000) } }];
  for (let i = 0; i < 30; i++) doubling.push({ op: 'copy', from: '/metadata/annotations', path: `/metadata/annotations/c${i}` } as never);
  const started = Date.now();
  const r = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify(doubling), headers: JP });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.reason, 'Invalid');
  assert.match(r.json.message, /Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728/);
  assert.ok(Date.now() - started < 10_000, 'answered promptly');
  const after = await s.request('GET', `${CM}/p1`);
  assert.equal(after.status, 200);
  assert.equal(after.json.metadata.annotations, undefined, 'nothing was written');
  // Small copies are still fine.
  const ok = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify([{ op: 'copy', from: '/data/a', path: '/data/b' }]), headers: JP });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.data.b, '1');
});

test('strategic merge patch directives of the wrong shape are kube\'s 400 (422 for content outside $retainKeys), nothing written', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'p1', finalizers: ['example.com/f'] }, data: { a: '1' } } })).status, 201);
  const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
  const cases: Array<[unknown, number, string]> = [
    [{ $retainKeys: 'x', data: { a: '2' } }, 400, 'invalid patch format of retainKeys'],
    [{ data: { $retainKeys: [1], a: '2' } }, 400, 'invalid patch format of retainKeys'],
    [{ metadata: { '$setElementOrder/finalizers': 'x' }, data: { a: '2' } }, 400, 'invalid patch format of setElementOrder list'],
    [{ metadata: { '$deleteFromPrimitiveList/finalizers': 'example.com/f' }, data: { a: '2' } }, 400, 'invalid patch format of primitive list'],
    [{ data: { $retainKeys: ['b'], a: '2' } }, 422, "the server rejected our request due to an error in our request: patch content doesn't match retainKeys list"],
  ];
  for (const [patch, code, message] of cases) {
    const r = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify(patch), headers: SMP });
    assert.equal(r.status, code, `${JSON.stringify(patch)}: ${r.text}`);
    assert.equal(r.json.kind, 'Status');
    assert.equal(r.json.message, message);
  }
  const after = await s.request('GET', `${CM}/p1`);
  assert.equal(after.json.data.a, '1');
  assert.deepEqual(after.json.metadata.finalizers, ['example.com/f']);
  // Well-formed directives still work.
  const ok = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify({ data: { $retainKeys: ['b'], b: '2' }, metadata: { '$deleteFromPrimitiveList/finalizers': ['example.com/f'] } }), headers: SMP });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json.data, { b: '2' });
  assert.deepEqual(ok.json.metadata.finalizers ?? [], []);
});

test('bodies nested deeper than the recursion can follow are a 400 for every way in, never a 500; up to the limit they are handled', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'p1' }, data: { a: '1' } } })).status, 201);
  // {"a":{"a":...}} n levels deep (the JSON text is also YAML).
  const deep = (n: number) => `${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}`;
  const tooDeep = deep(MAX_BODY_NESTING * 5);
  const cases: Array<[string, string, string, string]> = [
    ['POST', CM, 'application/json', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"unknown":${tooDeep}}`],
    ['POST', CM, 'application/yaml', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"unknown":${deep(MAX_BODY_NESTING + 1)}}`],
    ['PATCH', `${CM}/p1`, 'application/merge-patch+json', `{"metadata":{"annotations":${tooDeep}}}`],
    ['PATCH', `${CM}/p1`, 'application/strategic-merge-patch+json', `{"metadata":{"annotations":${tooDeep}}}`],
    ['PATCH', `${CM}/p1`, 'application/json-patch+json', `[{"op":"add","path":"/metadata/annotations","value":${tooDeep}}]`],
    ['PATCH', `${CM}/p1?fieldManager=m`, 'application/apply-patch+yaml', `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p1","annotations":${tooDeep}}}`],
    // YAML aliases: a node that contains itself is a cycle, not a deep value.
    ['POST', CM, 'application/yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: deep, labels: *m}\n'],
    ['PATCH', `${CM}/p1?fieldManager=m`, 'application/apply-patch+yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p1, annotations: &a {x: *a}}\n'],
  ];
  for (const [method, url, type, raw] of cases) {
    const r = await s.request(method, url, { raw, headers: { 'Content-Type': type } });
    assert.equal(r.status, 400, `${method} ${type}: ${r.text.slice(0, 300)}`);
    assert.equal(r.json.reason, 'BadRequest');
    assert.match(r.json.message, /^(json|yaml) parse error: (exceeded max depth|an alias refers to a node that contains it)/, `${method} ${type}`);
  }
  assert.equal((await s.request('GET', `${CM}/deep`)).status, 404, 'nothing was created');
  assert.deepEqual((await s.request('GET', `${CM}/p1`)).json.data, { a: '1' }, 'nothing was patched');
  // At the limit, a patch goes through the recursive merge and meets the typed decoder's usual 400.
  const atLimit = deep(MAX_BODY_NESTING - 3);
  for (const type of ['application/merge-patch+json', 'application/strategic-merge-patch+json']) {
    const r = await s.request('PATCH', `${CM}/p1`, { raw: `{"metadata":{"annotations":${atLimit}}}`, headers: { 'Content-Type': type } });
    assert.equal(r.status, 400, `${type}: ${r.text.slice(0, 300)}`);
    assert.match(r.json.message, /cannot unmarshal object into Go struct field ObjectMeta\.metadata\.annotations/);
  }
  const created = await s.request('POST', CM, { raw: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-ok"},"unknown":${deep(MAX_BODY_NESTING - 1)}}`, headers: { 'Content-Type': 'application/json' } });
  assert.equal(created.status, 201, created.text.slice(0, 300));
});

test('a JSON patch operation that cannot apply is a 422 naming it, never JavaScript\'s own error text', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'p1' }, data: { a: '1' } } })).status, 201);
  // Moving a member into its own child: RFC 6902 forbids it; fast-json-patch reads a property of undefined.
  const r = await s.request('PATCH', `${CM}/p1`, { raw: JSON.stringify([{ op: 'test', path: '/data/a', value: '1' }, { op: 'move', from: '/data', path: '/data/x' }]), headers: { 'Content-Type': 'application/json-patch+json' } });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.reason, 'Invalid');
  assert.equal(r.json.message, 'the server rejected our request due to an error in our request: operation 1 (move at "/data/x") cannot be applied to the object');
  assert.deepEqual((await s.request('GET', `${CM}/p1`)).json.data, { a: '1' });
});
