// Where `serve` answered differently from kube-apiserver for requests a client we never see may send: watch
// option edges (negative/huge timeoutSeconds, sendInitialEvents=false), method/path pairings kube has no route
// for, strategic-merge directives at the top level, empty metadata lists and maps, and the Event Table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { csrObject, openWatch, opensslCsr, startTestServer } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/poll.js';

const CM = '/api/v1/namespaces/default/configmaps';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };
const SMP = { 'Content-Type': 'application/strategic-merge-patch+json' };
const TABLE = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

test('kube-apiserver conformance of edge requests', async (t) => {
  const s = await startTestServer(t);
  const agent = new https.Agent({ keepAlive: false, ca: s.pki.ca, cert: s.pki.admin.cert, key: s.pki.admin.key });
  t.after(() => agent.destroy());
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'existing' } } })).status, 201);

  await t.test('a negative timeoutSeconds ends the watch at once: 200 and no event, as kube\'s timer of a negative duration', async () => {
    const w = openWatch(s.url, `${CM}?watch=1&timeoutSeconds=-1`, agent);
    t.after(() => w.close());
    await assert.rejects(w.next(5000), /watch ended/);
    assert.equal(w.status, 200);
    assert.equal(w.events.length, 0);
  });

  await t.test('a timeoutSeconds beyond setTimeout\'s 24.8 days keeps the watch open (it used to end it at once)', async () => {
    const w = openWatch(s.url, `${CM}?watch=1&timeoutSeconds=3000000`, agent);
    t.after(() => w.close());
    assert.equal((await w.next()).object.metadata.name, 'existing');
    // The overflowing timer fired after 1 ms; a write made after the first event must still arrive.
    await new Promise((r) => setTimeout(r, 50));
    await s.request('POST', CM, { body: { metadata: { name: 'after-huge-timeout' } } });
    const e = await w.next(5000);
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.name, 'after-huge-timeout');
  });

  await t.test('sendInitialEvents=false starts at the current revision without synthetic ADDED events', async () => {
    const w = openWatch(s.url, `${CM}?watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`, agent);
    t.after(() => w.close());
    // The headers come once the watch is registered; a write after that is the first event, not 'existing'.
    await until(() => w.status === 200, 'the watch to open', { intervalMs: 10 });
    await s.request('POST', CM, { body: { metadata: { name: 'after-opt-out' } } });
    const e = await w.next(5000);
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.name, 'after-opt-out');
  });

  await t.test('POST naming an object, PUT or PATCH of a collection: 405 MethodNotAllowed, nothing written', async () => {
    const post = await s.request('POST', `${CM}/posted`, { body: { metadata: { name: 'posted' } } });
    assert.equal(post.status, 405);
    assert.equal(post.json.reason, 'MethodNotAllowed');
    assert.equal(post.json.message, 'the server does not allow this method on the requested resource');
    assert.equal((await s.request('GET', `${CM}/posted`)).status, 404);
    const put = await s.request('PUT', CM, { body: { metadata: { name: 'existing' } } });
    assert.deepEqual([put.status, put.json.reason], [405, 'MethodNotAllowed']);
    const patch = await s.request('PATCH', CM, { raw: '{}', headers: MERGE });
    assert.deepEqual([patch.status, patch.json.reason], [405, 'MethodNotAllowed']);
    const nsPut = await s.request('PUT', '/api/v1/namespaces', { body: { metadata: { name: 'default' } } });
    assert.equal(nsPut.status, 405);
  });

  await t.test('a top-level strategic-merge `$patch: delete` or a patch removing the name: 400 "name must be provided", object kept', async () => {
    await s.request('POST', CM, { body: { metadata: { name: 'kept', labels: { a: 'b' } }, data: { k: 'v' } } });
    const del = await s.request('PATCH', `${CM}/kept`, { raw: '{"$patch":"delete"}', headers: SMP });
    assert.equal(del.status, 400);
    assert.equal(del.json.reason, 'BadRequest');
    assert.equal(del.json.message, 'name must be provided');
    const unnamed = await s.request('PATCH', `${CM}/kept`, { raw: '{"metadata":{"name":null}}', headers: MERGE });
    assert.deepEqual([unnamed.status, unnamed.json.message], [400, 'name must be provided']);
    const removed = await s.request('PATCH', `${CM}/kept`, { raw: '[{"op":"remove","path":"/metadata/name"}]', headers: { 'Content-Type': 'application/json-patch+json' } });
    assert.deepEqual([removed.status, removed.json.message], [400, 'name must be provided']);
    const put = await s.request('PUT', `${CM}/kept`, { body: { metadata: {}, data: { k: 'other' } } });
    assert.deepEqual([put.status, put.json.message], [400, 'name must be provided']);
    const bogus = await s.request('PATCH', `${CM}/kept`, { raw: '{"$patch":"bogus"}', headers: SMP });
    assert.deepEqual([bogus.status, bogus.json.message], [400, 'unknown patch type: bogus in map: map[$patch:bogus]']);
    const after = await s.request('GET', `${CM}/kept`);
    assert.deepEqual([after.json.metadata.labels, after.json.data], [{ a: 'b' }, { k: 'v' }]);
    // `$patch: replace` at the top level replaces the object with the patch (the name kept in it).
    const replaced = await s.request('PATCH', `${CM}/kept`, { raw: '{"$patch":"replace","metadata":{"name":"kept"},"data":{"x":"1"}}', headers: SMP });
    assert.equal(replaced.status, 200);
    assert.deepEqual(replaced.json.data, { x: '1' });
    assert.equal(replaced.json.metadata.labels, undefined);
    assert.equal(replaced.json.metadata.uid, after.json.metadata.uid);
  });

  await t.test('empty finalizers, labels, annotations and data are omitted as Go\'s omitempty drops them', async () => {
    const created = await s.request('POST', CM, { body: { metadata: { name: 'empties', finalizers: [], labels: {}, annotations: {}, ownerReferences: [] }, data: {}, binaryData: {} } });
    assert.equal(created.status, 201);
    for (const k of ['finalizers', 'labels', 'annotations', 'ownerReferences']) assert.equal(k in created.json.metadata, false, k);
    assert.equal('data' in created.json, false);
    assert.equal('binaryData' in created.json, false);
    await s.request('PATCH', `${CM}/empties`, { raw: '{"metadata":{"finalizers":["example.com/hold"]}}', headers: MERGE });
    const emptied = await s.request('PATCH', `${CM}/empties`, { raw: '{"metadata":{"finalizers":[]}}', headers: MERGE });
    assert.equal(emptied.status, 200);
    assert.equal('finalizers' in emptied.json.metadata, false);
    assert.equal('finalizers' in (await s.request('GET', `${CM}/empties`)).json.metadata, false);
  });

  await t.test('the Event Table has kube\'s ten columns, the wide ones at priority 1, with kube\'s cells', async () => {
    const EV = '/api/v1/namespaces/default/events';
    // Whole minutes past 10 print as "<n>m" (HumanDuration), so the cells do not depend on the test's speed.
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await s.request('POST', EV, {
      body: {
        metadata: { name: 'ev-full' },
        involvedObject: { kind: 'ConfigMap', name: 'existing', namespace: 'default', fieldPath: 'data.k' },
        reason: 'Tested', message: ' hello \n', type: 'Normal', count: 3,
        firstTimestamp: minutesAgo(30), lastTimestamp: minutesAgo(15), source: { component: 'me', host: 'node-1' },
      },
    });
    await s.request('POST', EV, {
      body: { metadata: { name: 'ev-bare' }, involvedObject: { kind: 'Namespace' }, reason: 'R', reportingComponent: 'ctrl', eventTime: '2026-01-01T00:00:00.000000Z' },
    });
    const table = (await s.request('GET', EV, { headers: TABLE })).json;
    assert.deepEqual(
      table.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`),
      ['Last Seen:0', 'Type:0', 'Reason:0', 'Object:0', 'Subobject:1', 'Source:1', 'Message:0', 'First Seen:1', 'Count:1', 'Name:1'],
    );
    const rows = new Map(table.rows.map((r: { cells: unknown[] }) => [r.cells[9], r.cells]));
    assert.deepEqual(rows.get('ev-full'), ['15m', 'Normal', 'Tested', 'configmap/existing', 'data.k', 'me, node-1', 'hello', '30m', 3, 'ev-full']);
    // No lastTimestamp: last seen is the first seen (from eventTime); no count: 1; no involved name: the kind alone.
    const bare = rows.get('ev-bare') as unknown[];
    assert.equal(bare[0], bare[7]);
    assert.deepEqual([bare[3], bare[5], bare[8]], ['namespace', 'ctrl', 1]);
  });

  await t.test('/version, the OpenAPI info and discovery name one release, 1.32, and ClusterTrustBundle is served as v1beta1 only', async () => {
    const version = (await s.request('GET', '/version')).json;
    assert.deepEqual([version.major, version.minor, version.gitVersion], ['1', '32', 'v1.32.0-kubepki']);
    const index = (await s.request('GET', '/openapi/v3')).json;
    const certs = (await s.request('GET', index.paths['apis/certificates.k8s.io/v1beta1'].serverRelativeURL)).json;
    assert.equal(certs.info.version, 'v1.32.0');
    assert.ok(certs.components.schemas['io.k8s.api.certificates.v1beta1.ClusterTrustBundle']);
    // ClusterTrustBundle as 1.33 serves it by default: v1beta1, without the alpha version.
    const group = (await s.request('GET', '/apis/certificates.k8s.io')).json;
    assert.deepEqual(group.versions.map((v: { version: string }) => v.version).sort(), ['v1', 'v1beta1']);
    const v1beta1 = (await s.request('GET', '/apis/certificates.k8s.io/v1beta1')).json;
    assert.deepEqual(v1beta1.resources.map((r: { name: string }) => r.name), ['clustertrustbundles']);
    assert.equal((await s.request('GET', '/apis/certificates.k8s.io/v1alpha1/clustertrustbundles')).status, 404);
  });

  await t.test('rbac/v1 defaulting: roleRef.apiGroup and a User/Group subject\'s apiGroup default to rbac.authorization.k8s.io', async () => {
    const rb = await s.request('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      body: { metadata: { name: 'defaulted' }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'User', name: 'dave' }, { kind: 'Group', name: 'devs' }, { kind: 'ServiceAccount', name: 'sa', namespace: 'default' }] },
    });
    assert.equal(rb.status, 201, rb.text);
    assert.equal(rb.json.roleRef.apiGroup, 'rbac.authorization.k8s.io');
    assert.deepEqual(rb.json.subjects.map((x: { apiGroup?: string }) => x.apiGroup), ['rbac.authorization.k8s.io', 'rbac.authorization.k8s.io', undefined]);
  });

  await t.test('values sent with their keys in another order are the same values (roleRef, immutable data, CSR conditions, apply)', async () => {
    const RB = '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings';
    const created = await s.request('POST', RB, { body: { metadata: { name: 'ordered' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' } } });
    assert.equal(created.status, 201);
    const replaced = await s.request('PUT', `${RB}/ordered`, {
      body: { metadata: { name: 'ordered' }, roleRef: { name: 'view', kind: 'ClusterRole', apiGroup: 'rbac.authorization.k8s.io' }, subjects: [{ kind: 'User', name: 'erin' }] },
    });
    assert.equal(replaced.status, 200, replaced.text);
    // A changed roleRef is still refused.
    const changed = await s.request('PUT', `${RB}/ordered`, { body: { metadata: { name: 'ordered' }, roleRef: { name: 'edit', kind: 'ClusterRole', apiGroup: 'rbac.authorization.k8s.io' } } });
    assert.equal(changed.status, 422);

    await s.request('POST', CM, { body: { metadata: { name: 'frozen' }, data: { a: '1', b: '2' }, immutable: true } });
    const frozen = await s.request('PUT', `${CM}/frozen`, { body: { metadata: { name: 'frozen' }, data: { b: '2', a: '1' }, immutable: true } });
    assert.equal(frozen.status, 200, frozen.text);

    // Server-side apply of the value another manager set, keys reordered: co-ownership, not a conflict.
    const CR = '/apis/rbac.authorization.k8s.io/v1/clusterroles';
    await s.request('POST', `${CR}?fieldManager=creator`, { body: { metadata: { name: 'same-rules' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }] } });
    const applied = await s.request('PATCH', `${CR}/same-rules?fieldManager=applier`, {
      raw: JSON.stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'same-rules' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }),
      headers: { 'Content-Type': 'application/apply-patch+yaml' },
    });
    assert.equal(applied.status, 200, applied.text);

    const dir = await tempDir(t, 'kubepki-conformance-');
    const { b64 } = await opensslCsr(dir, 'ordered', '/CN=ordered');
    await s.request('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { body: csrObject('ordered', b64) });
    const csr = (await s.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests/ordered')).json;
    csr.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'ByTest', message: 'ok' }] };
    const approved = await s.request('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/ordered/approval', { body: csr });
    assert.equal(approved.status, 200, approved.text);
    // A signer's status update carrying the Approved condition as another client serializes it (keys reversed).
    const current = approved.json;
    const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
    current.status.conditions = current.status.conditions.map(reversed);
    const status = await s.request('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/ordered/status', { body: current });
    assert.equal(status.status, 200, status.text);
  });

  await t.test('the deprecated /watch/ prefix kube still serves: a collection or one named object', async () => {
    const one = openWatch(s.url, '/api/v1/watch/namespaces/default/configmaps/existing', agent);
    t.after(() => one.close());
    const e = await one.next(5000);
    assert.deepEqual([one.status, e.type, e.object.metadata.name], [200, 'ADDED', 'existing']);
    await s.request('PATCH', `${CM}/existing`, { raw: '{"data":{"seen":"yes"}}', headers: MERGE });
    const m = await one.next(5000);
    assert.deepEqual([m.type, m.object.data], ['MODIFIED', { seen: 'yes' }]);
    const all = openWatch(s.url, '/api/v1/watch/namespaces/default/configmaps?labelSelector=nothing%3Dhere', agent);
    t.after(() => all.close());
    await s.request('POST', CM, { body: { metadata: { name: 'labelled', labels: { nothing: 'here' } } } });
    assert.equal((await all.next(5000)).object.metadata.name, 'labelled');
    const del = await s.request('DELETE', '/api/v1/watch/namespaces/default/configmaps/existing');
    assert.equal(del.status, 405);
  });

  await t.test('/openapi/v2 is one Swagger 2.0 document of every served kind (JSON; protobuf-only Accept is 406)', async () => {
    const r = await s.request('GET', '/openapi/v2', { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.swagger, '2.0');
    assert.equal(r.json.info.version, 'v1.32.0');
    const csr = r.json.definitions['io.k8s.api.certificates.v1.CertificateSigningRequest'];
    assert.deepEqual(csr['x-kubernetes-group-version-kind'], [{ group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' }]);
    assert.ok(r.json.definitions['io.k8s.api.core.v1.ConfigMap'] && r.json.definitions['io.k8s.api.rbac.v1.ClusterRole']);
    const approval = r.json.paths['/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}/approval'];
    const body = approval.put.parameters.find((p: { in: string }) => p.in === 'body');
    assert.deepEqual(body.schema, { $ref: '#/definitions/io.k8s.api.certificates.v1.CertificateSigningRequest' });
    assert.doesNotMatch(r.text, /#\/components\//);
    const list = r.json.paths['/api/v1/namespaces/{namespace}/configmaps'].get;
    assert.deepEqual(list.parameters.find((p: { name: string }) => p.name === 'limit'), { name: 'limit', in: 'query', description: list.parameters.find((p: { name: string }) => p.name === 'limit').description, type: 'integer', uniqueItems: true });
    const pb = await s.request('GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    assert.deepEqual([pb.status, pb.json.reason], [406, 'NotAcceptable']);
  });

  await t.test('a ClusterTrustBundle sent as protobuf (a typed client-go client) is decoded, not emptied', async () => {
    // Protobuf wire format by hand: field `n` of length-delimited type is tag (n<<3|2), length, bytes.
    const field = (n: number, value: Buffer | string): Buffer => {
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8');
      const varint = (x: number): number[] => (x < 0x80 ? [x] : [(x & 0x7f) | 0x80, ...varint(x >>> 7)]);
      return Buffer.concat([Buffer.from([(n << 3) | 2, ...varint(bytes.length)]), bytes]);
    };
    const pem = (await s.request('GET', '/apis/certificates.k8s.io/v1beta1/clustertrustbundles')).json;
    assert.equal(pem.kind, 'ClusterTrustBundleList');
    const caPem = s.pki.ca.trim() + '\n';
    const raw = Buffer.concat([field(1, field(1, 'pb-bundle')), field(2, field(2, caPem))]);
    const typeMeta = Buffer.concat([field(1, 'certificates.k8s.io/v1beta1'), field(2, 'ClusterTrustBundle')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), field(1, typeMeta), field(2, raw)]);
    const created = await s.request('POST', '/apis/certificates.k8s.io/v1beta1/clustertrustbundles', { raw: body, headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.json.metadata.name, created.json.spec.trustBundle], ['pb-bundle', caPem]);
  });
});
