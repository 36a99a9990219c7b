import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStorage } from '../../src/storage/memory.js';
import { CLIENT_EXT, httpsRequest, issueCert, makeTestPki, startTestServer } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import https from 'node:https';
import { parse as parseYaml } from 'yaml';

const CM = '/api/v1/namespaces/default/configmaps';
const MERGE = { 'Content-Type': 'application/merge-patch+json' };

test('REST semantics', async (t) => {
  const storage = new MemoryStorage({ historyLimit: 40 });
  t.after(() => storage.close());
  const s = await startTestServer(t, { storage });

  await t.test('system namespaces exist at start', async () => {
    const r = await s.request('GET', '/api/v1/namespaces');
    assert.deepEqual(r.json.items.map((n: { metadata: { name: string } }) => n.metadata.name), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    assert.equal(r.json.items[0].status.phase, 'Active');
    assert.equal(r.json.items[0].metadata.labels['kubernetes.io/metadata.name'], 'default');
  });

  await t.test('generateName makes a unique name', async () => {
    const r = await s.request('POST', CM, { body: { metadata: { generateName: 'gen-' } } });
    assert.equal(r.status, 201);
    assert.match(r.json.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  await t.test('limit and continue page through a consistent snapshot; remainingItemCount counts the rest', async () => {
    for (let i = 0; i < 7; i++) await s.request('POST', CM, { body: { metadata: { name: `page-${i}`, labels: { parity: i % 2 ? 'odd' : 'even' } } } });
    const p1 = await s.request('GET', `${CM}?limit=3`);
    assert.equal(p1.json.items.length, 3);
    assert.equal(p1.json.metadata.remainingItemCount, 5);
    await s.request('POST', CM, { body: { metadata: { name: 'page-late' } } });
    const names: string[] = p1.json.items.map((i: { metadata: { name: string } }) => i.metadata.name);
    let cont = p1.json.metadata.continue;
    while (cont) {
      const p = await s.request('GET', `${CM}?limit=3&continue=${encodeURIComponent(cont)}`);
      assert.equal(p.status, 200, p.text);
      assert.equal(p.json.metadata.resourceVersion, p1.json.metadata.resourceVersion, 'every page is read at the first page\'s revision');
      names.push(...p.json.items.map((i: { metadata: { name: string } }) => i.metadata.name));
      cont = p.json.metadata.continue;
    }
    assert.equal(names.length, 8);
    assert.ok(!names.includes('page-late'));
  });

  await t.test('label selectors: =, !=, in, notin, exists, !exists', async () => {
    const names = async (sel: string) =>
      (await s.request('GET', `${CM}?labelSelector=${encodeURIComponent(sel)}`)).json.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort();
    assert.deepEqual(await names('parity=odd'), ['page-1', 'page-3', 'page-5']);
    assert.deepEqual(await names('parity==odd'), ['page-1', 'page-3', 'page-5']);
    assert.equal((await names('parity!=odd')).length, 6, '!= also matches objects without the label');
    assert.deepEqual(await names('parity in (odd,even),parity notin (even)'), ['page-1', 'page-3', 'page-5']);
    assert.equal((await names('parity')).length, 7);
    assert.equal((await names('!parity')).length, 2);
    const bad = await s.request('GET', `${CM}?labelSelector=${encodeURIComponent('a in (')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.reason, 'BadRequest');
  });

  await t.test('selectors with limit still fill pages', async () => {
    const p = await s.request('GET', `${CM}?limit=2&labelSelector=parity%3Dodd`);
    assert.equal(p.json.items.length, 2);
    assert.ok(p.json.metadata.continue);
    const p2 = await s.request('GET', `${CM}?limit=2&labelSelector=parity%3Dodd&continue=${encodeURIComponent(p.json.metadata.continue)}`);
    assert.deepEqual(p2.json.items.map((i: { metadata: { name: string } }) => i.metadata.name), ['page-5']);
  });

  await t.test('a continue token older than the retained history is 410 Expired', async () => {
    const p1 = await s.request('GET', `${CM}?limit=1`);
    for (let i = 0; i < 60; i++) await s.request('PATCH', `${CM}/page-0`, { raw: JSON.stringify({ data: { i: String(i) } }), headers: MERGE });
    const r = await s.request('GET', `${CM}?limit=1&continue=${encodeURIComponent(p1.json.metadata.continue)}`);
    assert.equal(r.status, 410);
    assert.equal(r.json.reason, 'Expired');
    assert.match(r.json.message, /The provided continue parameter is too old/);
    const exact = await s.request('GET', `${CM}?resourceVersion=2&resourceVersionMatch=Exact`);
    assert.equal(exact.status, 410);
    assert.match(exact.json.message, /^too old resource version: 2 \(\d+\)$/);
    const garbage = await s.request('GET', `${CM}?limit=1&continue=notatoken`);
    assert.equal(garbage.status, 400);
  });

  await t.test('a create in a missing namespace is 404 and writes nothing', async () => {
    const before = await storage.currentRevision();
    const r = await s.request('POST', '/api/v1/namespaces/nowhere/configmaps', { body: { metadata: { name: 'x' } } });
    assert.equal(r.status, 404);
    assert.equal(r.json.message, 'namespaces "nowhere" not found');
    assert.equal(await storage.currentRevision(), before);
  });

  await t.test('a request body over 3 MiB is 413 and writes nothing', async () => {
    const before = await storage.currentRevision();
    const big = { metadata: { name: 'big' }, data: { k: 'x'.repeat(3 * 1024 * 1024) } };
    const r = await s.request('POST', CM, { body: big });
    assert.equal(r.status, 413);
    assert.equal(r.json.reason, 'RequestEntityTooLarge');
    assert.equal(r.json.message, 'Request entity too large: limit is 3145728');
    assert.equal(await storage.currentRevision(), before);
    assert.equal((await s.request('GET', `${CM}/big`)).status, 404);
  });

  await t.test('invalid objects are 422 and leave the store unchanged', async () => {
    const before = await storage.currentRevision();
    const r = await s.request('POST', CM, { body: { metadata: { name: 'Bad_Name' } } });
    assert.equal(r.status, 422);
    assert.match(r.json.message, /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    const upd = await s.request('PATCH', `${CM}/page-1`, { raw: '{"data":{"bad key":"x"}}', headers: MERGE });
    assert.equal(upd.status, 422);
    assert.equal(await storage.currentRevision(), before);
  });

  await t.test('wrong content types and methods', async () => {
    const r = await s.request('PATCH', `${CM}/page-1`, { raw: '{}', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(r.status, 415);
    assert.equal(r.json.reason, 'UnsupportedMediaType');
    const bad = await s.request('POST', CM, { raw: '{not json', headers: { 'Content-Type': 'application/json' } });
    assert.equal(bad.status, 400);
    const nf = await s.request('GET', '/apis/example.com/v1/widgets');
    assert.equal(nf.status, 404);
    const na = await s.request('GET', `${CM}/page-1`, { headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
    assert.equal(na.status, 406);
    const yaml = await s.request('GET', `${CM}/page-1`, { headers: { Accept: 'application/yaml' } });
    assert.match(yaml.text, /^apiVersion: v1\nkind: ConfigMap\n/);
  });

  await t.test('YAML output reads back as the same object in YAML 1.1 (go-yaml v2, PyYAML): look-alike strings are quoted, keys sorted', async () => {
    const data = { a: 'yes', b: 'on', c: 'y', d: 'N', e: '2026-01-01', f: '012', g: '0x1F', h: '1:20', i: '~', j: 'Off', k: 'plain' };
    const made = await s.request('POST', CM, { body: { metadata: { name: 'looks-like', labels: { on: 'no' } }, data } });
    assert.equal(made.status, 201, made.text);
    const yaml = await s.request('GET', `${CM}/looks-like`, { headers: { Accept: 'application/yaml' } });
    assert.equal(yaml.headers['content-type'], 'application/yaml');
    const read = parseYaml(yaml.text, { schema: 'yaml-1.1' }) as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    assert.deepEqual(read.data, data);
    assert.deepEqual(read.metadata.labels, { on: 'no' });
    assert.deepEqual(read, made.json);
    assert.match(yaml.text, /^apiVersion: v1\ndata:\n/, 'keys in sorted order, as sigs.k8s.io/yaml writes them');
  });

  await t.test('strategic merge patch merges lists with a merge key and honours $patch', async () => {
    await s.request('POST', '/api/v1/namespaces', { body: { metadata: { name: 'team' } } });
    await s.request('POST', '/api/v1/namespaces/team/serviceaccounts', { body: { metadata: { name: 'sa' }, secrets: [{ name: 'a' }, { name: 'b' }] } });
    const smp = { 'Content-Type': 'application/strategic-merge-patch+json' };
    let r = await s.request('PATCH', '/api/v1/namespaces/team/serviceaccounts/sa', { raw: '{"secrets":[{"name":"c"}]}', headers: smp });
    assert.deepEqual(r.json.secrets.map((x: { name: string }) => x.name), ['a', 'b', 'c']);
    r = await s.request('PATCH', '/api/v1/namespaces/team/serviceaccounts/sa', { raw: '{"secrets":[{"name":"a","$patch":"delete"}]}', headers: smp });
    assert.deepEqual(r.json.secrets.map((x: { name: string }) => x.name), ['b', 'c']);
    r = await s.request('PATCH', '/api/v1/namespaces/team/serviceaccounts/sa', { raw: '{"secrets":[{"name":"z"},{"$patch":"replace"}]}', headers: smp });
    assert.deepEqual(r.json.secrets.map((x: { name: string }) => x.name), ['z']);
    // a merge patch replaces the list
    r = await s.request('PATCH', '/api/v1/namespaces/team/serviceaccounts/sa', { raw: '{"secrets":[{"name":"m"}]}', headers: MERGE });
    assert.deepEqual(r.json.secrets.map((x: { name: string }) => x.name), ['m']);
  });

  await t.test('a patch naming a stale resourceVersion is 409; one naming none is retried', async () => {
    const r = await s.request('PATCH', `${CM}/page-2`, { raw: '{"metadata":{"resourceVersion":"3"},"data":{"a":"b"}}', headers: MERGE });
    assert.equal(r.status, 409);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => s.request('PATCH', `${CM}/page-2`, { raw: JSON.stringify({ data: { [`k${i}`]: 'v' } }), headers: MERGE })),
    );
    assert.ok(results.every((x) => x.status === 200));
    const after = await s.request('GET', `${CM}/page-2`);
    assert.equal(Object.keys(after.json.data).length, 10, 'no concurrent patch was lost');
  });

  await t.test('finalizers hold a delete until they are removed', async () => {
    await s.request('POST', CM, { body: { metadata: { name: 'fin', finalizers: ['example.com/hold'] } } });
    const d = await s.request('DELETE', `${CM}/fin`);
    assert.equal(d.status, 200);
    assert.ok(d.json.metadata.deletionTimestamp);
    assert.equal((await s.request('GET', `${CM}/fin`)).status, 200);
    const p = await s.request('PATCH', `${CM}/fin`, { raw: '{"metadata":{"finalizers":null}}', headers: MERGE });
    assert.equal(p.status, 200);
    assert.equal((await s.request('GET', `${CM}/fin`)).status, 404);
  });

  await t.test('delete preconditions and deletecollection', async () => {
    const pre = await s.request('DELETE', `${CM}/page-3`, { body: { preconditions: { uid: 'nope' } } });
    assert.equal(pre.status, 409, pre.text);
    assert.match(pre.json.message, /Precondition failed: UID in precondition: nope/);
    const dc = await s.request('DELETE', `${CM}?labelSelector=parity%3Deven`);
    assert.equal(dc.status, 200);
    assert.equal(dc.json.items.length, 4);
    assert.equal((await s.request('GET', `${CM}?labelSelector=parity%3Deven`)).json.items.length, 0);
  });

  await t.test('namespace deletion removes its contents; system namespaces cannot be deleted', async () => {
    const d = await s.request('DELETE', '/api/v1/namespaces/team');
    assert.equal(d.status, 200);
    assert.equal(d.json.status.phase, 'Terminating');
    assert.equal((await s.request('GET', '/api/v1/namespaces/team/serviceaccounts/sa')).status, 404);
    const k = await s.request('DELETE', '/api/v1/namespaces/kube-system');
    assert.equal(k.status, 403);
  });

  await t.test('secrets: stringData is merged into data and never stored; tls secrets need their keys', async () => {
    const r = await s.request('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 'sd' }, stringData: { user: 'admin' }, data: { pw: 'c2VjcmV0' } } });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.data, { pw: 'c2VjcmV0', user: 'YWRtaW4=' });
    assert.equal(r.json.stringData, undefined);
    assert.equal(r.json.type, 'Opaque');
    const tls = await s.request('POST', '/api/v1/namespaces/default/secrets', { body: { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==' } } });
    assert.equal(tls.status, 422);
    assert.match(tls.json.message, /data\[tls\.key\]: Required value/);
    const typed = await s.request('GET', '/api/v1/secrets?fieldSelector=type%3DOpaque');
    assert.equal(typed.json.items.length, 1);
  });

  await t.test('the RBAC kinds validate their references', async () => {
    const rb = await s.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
      body: { metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'x' }, subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }] },
    });
    assert.equal(rb.status, 422);
    assert.match(rb.json.message, /roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"/);
    const cr = await s.request('POST', '/apis/rbac.authorization.k8s.io/v1/clusterroles', { body: { metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }] } });
    assert.equal(cr.status, 201);
  });
});

test('authentication and authorization at the edge', async (t) => {
  const s = await startTestServer(t);
  const dir = await tempDir(t);
  const other = await makeTestPki(`${dir}/other`);
  const stranger = await issueCert(`${dir}/other`, 'stranger', { subject: '/O=system:masters/CN=mallory', ext: CLIENT_EXT });
  const expired = await issueCert(s.pki.dir, 'expired', { subject: '/O=system:masters/CN=old', ext: CLIENT_EXT, days: 1 });
  void other;

  await t.test('no certificate: anonymous may read /healthz and /version, not the API', async () => {
    const h = await s.request('GET', '/healthz', { as: null });
    assert.equal(h.status, 200);
    assert.equal(h.text, 'ok');
    const v = await s.request('GET', '/version', { as: null });
    assert.equal(v.json.gitVersion, 'v1.32.0-kubepki');
    const r = await s.request('GET', '/apis/certificates.k8s.io/v1/certificatesigningrequests', { as: null });
    assert.equal(r.status, 403);
    assert.match(r.json.message, /User "system:anonymous" cannot list resource "certificatesigningrequests"/);
  });

  await t.test('a certificate from another CA is 401, never anonymous or its claimed group', async () => {
    const agent = new https.Agent({ ca: s.pki.ca, cert: stranger.cert, key: stranger.key });
    t.after(() => agent.destroy());
    const r = await httpsRequest(s.url, 'GET', '/api/v1/namespaces', { agent });
    assert.equal(r.status, 401);
    assert.equal(r.json.reason, 'Unauthorized');
  });

  await t.test('alice (O=devs) is authenticated with her groups but not allowed', async () => {
    const who = await s.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, as: s.pki.alice });
    assert.equal(who.status, 201, who.text);
    assert.deepEqual(who.json.status.userInfo, { username: 'alice', groups: ['devs', 'qa', 'system:authenticated'] });
    const can = await s.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: { spec: { resourceAttributes: { verb: 'list', group: 'certificates.k8s.io', resource: 'certificatesigningrequests' } } },
      as: s.pki.alice,
    });
    assert.equal(can.json.status.allowed, false);
  });

  await t.test('/metrics counts requests', async () => {
    const m = await s.request('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.text, /apiserver_request_total\{verb="LIST",group="",version="v1",resource="namespaces",subresource="",scope="cluster",component="apiserver",code="401"\} 1/);
  });

  await t.test('an expired client certificate is refused (checked against the clock)', async () => {
    const { FakeClock } = await import('../../src/util/clock.js');
    const { x509Authenticator } = await import('../../src/auth/authn/x509.js');
    const { parseCertificatesPem } = await import('../../src/x509/certificate.js');
    const clock = new FakeClock(new Date());
    const authn = x509Authenticator({ roots: parseCertificatesPem(s.pki.ca), clock });
    const der = [new Uint8Array(Buffer.from(expired.cert.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'))];
    assert.equal((await authn.authenticate({ headers: {}, peerCertificates: der }))?.user.username, 'old');
    clock.advance(3 * 24 * 3600_000);
    await assert.rejects(authn.authenticate({ headers: {}, peerCertificates: der }), /x509: certificate has expired or is not yet valid/);
  });
});

test('impersonation: kubectl --as for a master, refused for others', async (t) => {
  const s = await startTestServer(t);
  const who = (headers: Record<string, string>, as = s.pki.admin) =>
    s.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { body: { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1' }, headers, as });
  const r = await who({ 'Impersonate-User': 'system:serviceaccount:kube-system:approver' });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.status.userInfo, {
    username: 'system:serviceaccount:kube-system:approver',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
  });
  const g = await who({ 'Impersonate-User': 'bob', 'Impersonate-Group': 'devs' });
  assert.deepEqual(g.json.status.userInfo.groups, ['devs', 'system:authenticated']);
  const denied = await who({ 'Impersonate-User': 'kubernetes-admin' }, s.pki.alice);
  assert.equal(denied.status, 403);
  assert.match(denied.json.message, /User "alice" cannot impersonate resource "users" in API group "" at the cluster scope/);
  const bad = await who({ 'Impersonate-Group': 'x' });
  assert.equal(bad.status, 400);
});
