// Server-side apply and field ownership, driven by the real kubectl: metadata.managedFields on every write
// (Update for create/replace/patch/edit-style writes, Apply for apply --server-side) in kube's FieldsV1
// encoding, kube's 409 naming the field and the manager, --force-conflicts taking ownership, a field its
// only applier stops applying removed, and --show-managed-fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { csrObject, kubectlWith, opensslCsr, startTestServer, writeKubeconfig } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';

const CM = '/api/v1/namespaces/default/configmaps';

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: unknown;
  subresource?: string;
}

test('server-side apply with field ownership', async (t) => {
  const s = await startTestServer(t);
  const dir = await tempDir(t);
  const kubeconfig = path.join(dir, 'admin.conf');
  await writeKubeconfig(kubeconfig, s.url, s.pki, s.pki.admin);
  const kubectl = kubectlWith(kubeconfig, path.join(dir, 'cache'));
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const managed = async (p: string): Promise<Entry[]> => (await s.request('GET', p)).json.metadata.managedFields;
  const byManager = (entries: Entry[], manager: string, operation = 'Apply') => entries.find((e) => e.manager === manager && e.operation === operation);

  await t.test('create records an Update entry with the client\'s field manager (kubectl create: kubectl-create)', async () => {
    await ok(['create', 'configmap', 'settings', '--from-literal=a=1', '--from-literal=b=2']);
    const entries = await managed(`${CM}/settings`);
    assert.equal(entries.length, 1);
    const e = entries[0]!;
    assert.deepEqual({ ...e, time: undefined }, { manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: undefined, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} } } });
    assert.match(e.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  await t.test('without fieldManager the manager is the User-Agent\'s product', async () => {
    const r = await s.request('POST', CM, { body: { metadata: { name: 'by-agent', labels: { app: 'x' } }, data: { k: 'v' } }, headers: { 'User-Agent': 'my-operator/1.2.3 (linux/amd64)' } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.metadata.managedFields.map((e: Entry) => [e.manager, e.operation]), [['my-operator', 'Update']]);
    assert.deepEqual(r.json.metadata.managedFields[0].fieldsV1, { 'f:data': { '.': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } });
  });

  const manifest = (data: Record<string, string>, labels: Record<string, string> = {}) =>
    JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: 'default', ...(Object.keys(labels).length ? { labels } : {}) }, ...(Object.keys(data).length ? { data } : {}) });

  await t.test('apply --server-side creates and records an Apply entry with exactly the applied fields', async () => {
    assert.match(await ok(['apply', '--server-side', '--field-manager', 'alice', '-f', '-'], manifest({ x: '1', y: '2' }, { tier: 'web' })), /configmap\/applied serverside-applied/);
    const e = byManager(await managed(`${CM}/applied`), 'alice')!;
    assert.deepEqual(e.fieldsV1, { 'f:data': { 'f:x': {}, 'f:y': {} }, 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    assert.equal(e.apiVersion, 'v1');
  });

  await t.test('a second manager changing an owned field gets kube\'s 409 Conflict; nothing changes', async () => {
    const before = (await s.request('GET', `${CM}/applied`)).json.metadata.resourceVersion;
    const r = await kubectl(['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], manifest({ x: 'changed' }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "alice": \.data\.x/);
    const raw = await s.request('PATCH', `${CM}/applied?fieldManager=bob`, { raw: manifest({ x: 'changed' }), headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(raw.status, 409);
    assert.equal(raw.json.reason, 'Conflict');
    assert.equal(raw.json.message, 'Apply failed with 1 conflict: conflict with "alice": .data.x');
    assert.deepEqual(raw.json.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.data.x' }]);
    assert.equal((await s.request('GET', `${CM}/applied`)).json.metadata.resourceVersion, before);
  });

  await t.test('the same value is shared ownership, not a conflict', async () => {
    await ok(['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], manifest({ x: '1' }));
    const entries = await managed(`${CM}/applied`);
    assert.deepEqual(byManager(entries, 'bob')!.fieldsV1, { 'f:data': { 'f:x': {} } });
    assert.deepEqual(byManager(entries, 'alice')!.fieldsV1, { 'f:data': { 'f:x': {}, 'f:y': {} }, 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
  });

  await t.test('--force-conflicts takes ownership of the field', async () => {
    await ok(['apply', '--server-side', '--force-conflicts', '--field-manager', 'bob', '-f', '-'], manifest({ x: 'forced' }));
    const cm = (await s.request('GET', `${CM}/applied`)).json;
    assert.equal(cm.data.x, 'forced');
    assert.equal(cm.data.y, '2');
    assert.deepEqual(byManager(cm.metadata.managedFields, 'alice')!.fieldsV1, { 'f:data': { 'f:y': {} }, 'f:metadata': { 'f:labels': { 'f:tier': {} } } });
    assert.deepEqual(byManager(cm.metadata.managedFields, 'bob')!.fieldsV1, { 'f:data': { 'f:x': {} } });
  });

  await t.test('a field its only applier stops applying is removed; one another manager still owns stays', async () => {
    await ok(['apply', '--server-side', '--field-manager', 'alice', '-f', '-'], manifest({}, {}));
    const cm = (await s.request('GET', `${CM}/applied`)).json;
    assert.equal(cm.data.y, undefined, 'y was only alice\'s');
    assert.equal(cm.metadata.labels?.tier, undefined, 'so was the label');
    assert.equal(cm.data.x, 'forced', 'x is bob\'s');
    assert.equal(byManager(cm.metadata.managedFields, 'alice'), undefined, 'an empty entry is dropped');
  });

  await t.test('an Update by another manager takes the field over without conflict', async () => {
    await ok(['patch', 'configmap', 'applied', '--type', 'merge', '-p', '{"data":{"x":"patched"}}']);
    const entries = await managed(`${CM}/applied`);
    assert.deepEqual(byManager(entries, 'kubectl-patch', 'Update')!.fieldsV1, { 'f:data': { 'f:x': {} } });
    assert.equal(byManager(entries, 'bob'), undefined);
    const r = await kubectl(['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], manifest({ x: 'again' }));
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: \.data\.x/);
  });

  await t.test('kubectl get --show-managed-fields shows them; plain get hides them', async () => {
    const shown = await ok(['get', 'cm', 'applied', '-o', 'yaml', '--show-managed-fields']);
    assert.match(shown, /managedFields:\n(\s+- apiVersion: v1\n(\s{4}.*\n)+)*\s+- apiVersion: v1\n\s+fieldsType: FieldsV1\n\s+fieldsV1:\n\s+f:data:\n\s+f:x: \{\}\n\s+manager: kubectl-patch\n\s+operation: Update\n/);
    assert.doesNotMatch(await ok(['get', 'cm', 'applied', '-o', 'yaml']), /managedFields/);
  });

  await t.test('list-type map items are owned by key (k:{...}) with "." on the item: CSR approval conditions, subresource recorded', async () => {
    const req = await opensslCsr(dir, 'ssa', '/CN=ssa');
    assert.equal((await s.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: csrObject('ssa', req.b64) })).status, 201);
    await ok(['certificate', 'approve', 'ssa']);
    const entries = await managed('/apis/certificates.k8s.io/v1/certificatesigningrequests/ssa');
    const approval = entries.find((e) => e.subresource === 'approval')!;
    assert.equal(approval.manager, 'kubectl');
    assert.equal(approval.operation, 'Update');
    assert.deepEqual(approval.fieldsV1, {
      'f:status': { 'f:conditions': { '.': {}, 'k:{"type":"Approved"}': { '.': {}, 'f:lastTransitionTime': {}, 'f:lastUpdateTime': {}, 'f:message': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} } } },
    });
  });

  await t.test('RBAC and Secrets: atomic lists are one field; an apply conflict names it', async () => {
    const role = (verbs: string[]) => JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader', namespace: 'default' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs }] });
    await ok(['apply', '--server-side', '--field-manager', 'alice', '-f', '-'], role(['get']));
    const e = byManager(await managed('/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles/reader'), 'alice')!;
    assert.deepEqual(e.fieldsV1, { 'f:rules': {} });
    const r = await kubectl(['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], role(['get', 'list']));
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "alice": \.rules/);
    const secret = JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, type: 'Opaque', stringData: { user: 'u' } });
    await ok(['apply', '--server-side', '--field-manager', 'alice', '-f', '-'], secret);
    const got = (await s.request('GET', '/api/v1/namespaces/default/secrets/creds')).json;
    assert.equal(Buffer.from(got.data.user, 'base64').toString(), 'u');
    assert.ok(byManager(got.metadata.managedFields, 'alice'));
  });

  await t.test('force on a non-apply patch is 422; an overlong field manager is 422', async () => {
    const r = await s.request('PATCH', `${CM}/applied?force=true`, { raw: '{}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(r.status, 422);
    assert.equal(r.json.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
    const long = await s.request('PATCH', `${CM}/applied?fieldManager=${'m'.repeat(129)}`, { raw: '{}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(long.status, 422);
  });
});
