import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../../src/api/patch.js';
import { parseFieldSelector, parseLabelSelector } from '../../src/api/selectors.js';
import { humanDuration } from '../../src/api/table.js';
import { decodeProtobufBody } from '../../src/api/protobuf.js';
import { arrayOf, obj, str } from '../../src/api/schema.js';
import { parseRequestInfo } from '../../src/api/request-info.js';
import { certificateSigningRequests } from '../../src/resources/certificatesigningrequests.js';
import { secrets } from '../../src/resources/secrets.js';
import { startTestServer } from '../api/helpers.js';
import { ApiError } from '../../src/apis/status.js';

test('label selectors follow kube\'s grammar and semantics', () => {
  const s = parseLabelSelector('env in (prod, staging),tier!=db,!legacy,app');
  assert.equal(s.matches({ env: 'prod', app: 'x' }), true);
  assert.equal(s.matches({ env: 'prod', app: 'x', tier: 'db' }), false);
  assert.equal(s.matches({ env: 'prod', app: 'x', legacy: '' }), false);
  assert.equal(s.matches({ env: 'dev', app: 'x' }), false);
  assert.equal(s.toString(), 'env in (prod,staging),tier!=db,!legacy,app');
  assert.equal(parseLabelSelector('n>3').matches({ n: '4' }), true);
  assert.equal(parseLabelSelector('n<3').matches({ n: '4' }), false);
  assert.throws(() => parseLabelSelector('a=b=c'), ApiError);
  assert.throws(() => parseLabelSelector('bad key!'), ApiError);
  assert.throws(() => parseLabelSelector('k in ()'), /values set can't be empty/);
});

test('field selectors: =, ==, != with escapes, and unsupported labels refused', () => {
  const f = parseFieldSelector('metadata.name==a\\,b,spec.signerName!=x', new Set(['metadata.name', 'spec.signerName']));
  assert.equal(f.matches({ 'metadata.name': 'a,b', 'spec.signerName': 'y' }), true);
  assert.equal(f.exactValue('metadata.name'), 'a,b');
  assert.throws(() => parseFieldSelector('status.phase=x', new Set(['metadata.name'])), /field label not supported: status.phase/);
  // kubectl describe asks for an empty value
  assert.equal(parseFieldSelector('involvedObject.namespace=').matches({ 'involvedObject.namespace': '' }), true);
});

test('merge, JSON and strategic merge patches', () => {
  assert.deepEqual(applyMergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: null, e: 4 }, f: [1] }), { a: 1, b: { d: 3, e: 4 }, f: [1] });
  assert.deepEqual(applyJsonPatch({ a: [1] }, [{ op: 'add', path: '/a/-', value: 2 }]), { a: [1, 2] });
  assert.throws(() => applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: unknown) => e instanceof ApiError && e.code === 422);
  const schema = certificateSigningRequests.schema;
  const base = { status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'x' } };
  // conditions carry listType=map keyed by type: a strategic patch merges by type
  const out = applyStrategicMergePatch(base, { status: { conditions: [{ type: 'Failed', status: 'True' }] } }, schema) as typeof base;
  assert.deepEqual(out.status.conditions.map((c) => c.type), ['Approved', 'Failed']);
  const upd = applyStrategicMergePatch(base, { status: { conditions: [{ type: 'Approved', reason: 'R' }] } }, schema) as { status: { conditions: Record<string, string>[] } };
  assert.deepEqual(upd.status.conditions, [{ type: 'Approved', status: 'True', reason: 'R' }]);
  const replaced = applyStrategicMergePatch(base, { status: { $patch: 'replace', certificate: 'y' } }, schema);
  assert.deepEqual(replaced, { status: { certificate: 'y' } });
  // atomic lists (usages) are replaced
  const usages = applyStrategicMergePatch({ spec: { usages: ['a', 'b'] } }, { spec: { usages: ['c'] } }, schema);
  assert.deepEqual(usages, { spec: { usages: ['c'] } });
  const fin = applyStrategicMergePatch({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, schema);
  assert.deepEqual(fin, { metadata: { finalizers: ['b'] } });
});

test('humanDuration matches kubectl\'s AGE column', () => {
  const s = 1000;
  assert.equal(humanDuration(59 * s), '59s');
  assert.equal(humanDuration(119 * s), '119s');
  assert.equal(humanDuration(125 * s), '2m5s');
  assert.equal(humanDuration(600 * s), '10m');
  assert.equal(humanDuration(3 * 3600 * s + 10 * 60 * s), '3h10m');
  assert.equal(humanDuration(30 * 3600 * s), '30h');
  assert.equal(humanDuration(3 * 86400 * s + 5 * 3600 * s), '3d5h');
  assert.equal(humanDuration(400 * 86400 * s), '400d');
  assert.equal(humanDuration(3 * 365 * 86400 * s), '3y');
});

test('request info reads verbs and scopes as kube does', () => {
  const q = new URLSearchParams();
  const r = parseRequestInfo('GET', '/api/v1/namespaces/ns1/secrets/s', q);
  assert.deepEqual([r.verb, r.namespace, r.resource, r.name, r.subresource], ['get', 'ns1', 'secrets', 's', '']);
  const ns = parseRequestInfo('GET', '/api/v1/namespaces/ns1', q);
  assert.deepEqual([ns.verb, ns.namespace, ns.resource, ns.name], ['get', 'ns1', 'namespaces', 'ns1']);
  const w = parseRequestInfo('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', new URLSearchParams('watch=1&fieldSelector=metadata.name%3Dx'));
  assert.deepEqual([w.verb, w.apiGroup, w.name], ['watch', 'certificates.k8s.io', 'x']);
  const a = parseRequestInfo('PUT', '/apis/certificates.k8s.io/v1/certificatesigningrequests/x/approval', q);
  assert.deepEqual([a.verb, a.subresource], ['update', 'approval']);
  assert.equal(parseRequestInfo('DELETE', '/api/v1/namespaces/a/configmaps', q).verb, 'deletecollection');
  const h = parseRequestInfo('GET', '/healthz', q);
  assert.deepEqual([h.isResourceRequest, h.verb], [false, 'get']);
});

// A tiny protobuf writer, enough to build what kubectl's typed clients send.
const varint = (n: number) => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
};
const field = (n: number, payload: Buffer | string) => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((n << 3) | 2), varint(b.length), b]);
};

test('protobuf bodies decode into the JSON shape (Secret with a data map, envelope TypeMeta)', () => {
  // generateName "" and a zero creationTimestamp (seconds -62135596800) are what gogo-protobuf writes for unset fields
  const zeroTime = Buffer.concat([Buffer.from([0x08]), Buffer.from([0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x01])]);
  const meta = Buffer.concat([field(1, 'tls'), field(2, ''), field(3, 'default'), field(8, zeroTime)]);
  const secret = Buffer.concat([
    field(1, meta),
    field(2, Buffer.concat([field(1, 'tls.crt'), field(2, Buffer.from('CERT'))])),
    field(2, Buffer.concat([field(1, 'tls.key'), field(2, Buffer.from('KEY'))])),
    field(3, 'kubernetes.io/tls'),
  ]);
  const envelope = Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, Buffer.concat([field(1, 'v1'), field(2, 'Secret')])), field(2, secret)]);
  const out = decodeProtobufBody(envelope, secrets.schema);
  assert.deepEqual(out, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'tls', namespace: 'default' },
    data: { 'tls.crt': Buffer.from('CERT').toString('base64'), 'tls.key': Buffer.from('KEY').toString('base64') },
    type: 'kubernetes.io/tls',
  });
  assert.throws(() => decodeProtobufBody(Buffer.from('nope'), obj({ a: arrayOf(str()) })), /k8s\\0 envelope/);
});

test('discovery and OpenAPI documents', async (t) => {
  const s = await startTestServer(t);
  await t.test('aggregated discovery v2 when asked for it, with its content type', async () => {
    const r = await s.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    assert.equal(r.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    const certs = r.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'certificates.k8s.io');
    const csr = certs.versions[0].resources[0];
    assert.equal(csr.resource, 'certificatesigningrequests');
    assert.deepEqual(csr.shortNames, ['csr']);
    assert.deepEqual(csr.subresources.map((x: { subresource: string }) => x.subresource), ['approval', 'status']);
    const core = await s.request('GET', '/api', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' } });
    assert.equal(core.json.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.equal(core.json.items[0].versions[0].version, 'v1');
  });
  await t.test('legacy discovery', async () => {
    assert.deepEqual((await s.request('GET', '/api')).json.versions, ['v1']);
    const groups = (await s.request('GET', '/apis')).json.groups.map((g: { name: string }) => g.name);
    assert.ok(groups.includes('rbac.authorization.k8s.io'));
    const list = (await s.request('GET', '/apis/certificates.k8s.io/v1')).json;
    assert.deepEqual(list.resources.map((r: { name: string }) => r.name), ['certificatesigningrequests', 'certificatesigningrequests/approval', 'certificatesigningrequests/status']);
  });
  await t.test('OpenAPI v3: the index links each group-version; PATCH declares fieldValidation', async () => {
    const index = (await s.request('GET', '/openapi/v3')).json;
    const url = index.paths['apis/certificates.k8s.io/v1'].serverRelativeURL;
    assert.match(url, /^\/openapi\/v3\/apis\/certificates\.k8s\.io\/v1\?hash=[0-9A-F]{128}$/);
    const doc = (await s.request('GET', url)).json;
    const op = doc.paths['/apis/certificates.k8s.io/v1/certificatesigningrequests/{name}'].patch;
    assert.deepEqual(op['x-kubernetes-group-version-kind'], { group: 'certificates.k8s.io', version: 'v1', kind: 'CertificateSigningRequest' });
    assert.ok(op.parameters.some((p: { name: string }) => p.name === 'fieldValidation'));
    const schema = doc.components.schemas['io.k8s.api.certificates.v1.CertificateSigningRequestStatus'];
    assert.equal(schema.properties.conditions['x-kubernetes-list-type'], 'map');
    assert.equal(schema.properties.certificate.format, 'byte');
    assert.equal((await s.request('GET', '/openapi/v3/apis/nothing/v1')).status, 404);
  });
});
