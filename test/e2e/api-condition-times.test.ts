// Condition timestamps as kube's CSR strategies set them: a condition added without lastUpdateTime or
// lastTransitionTime gets now (kubectl's typed client sends an unset metav1.Time as an empty protobuf
// Timestamp, which is Go's zero time — not 1970); an unchanged status keeps its lastTransitionTime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { csrObject, kubectlWith, opensslCsr, startTestServer, writeKubeconfig } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

test('condition timestamps are set to now when a client leaves them unset', async (t) => {
  const s = await startTestServer(t);
  const dir = await tempDir(t);
  const kubeconfig = path.join(dir, 'admin.conf');
  await writeKubeconfig(kubeconfig, s.url, s.pki, s.pki.admin);
  const kubectl = kubectlWith(kubeconfig, path.join(dir, 'cache'));
  const req = await opensslCsr(dir, 'svc', '/CN=svc');
  const near = (value: string | undefined, from: number, what: string) => {
    assert.match(value ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, what);
    const at = Date.parse(value!);
    assert.ok(at >= from - 1000 && at <= Date.now() + 1000, `${what} ${value} is not the time of the request`);
  };

  await t.test('kubectl certificate approve (protobuf): both times are now', async () => {
    assert.equal((await s.request('POST', CSRS, { body: csrObject('by-kubectl', req.b64) })).status, 201);
    const before = Date.now();
    const r = await kubectl(['certificate', 'approve', 'by-kubectl']);
    assert.equal(r.code, 0, r.stderr);
    const [c] = (await s.request('GET', `${CSRS}/by-kubectl`)).json.status.conditions;
    assert.equal(c.type, 'Approved');
    near(c.lastUpdateTime, before, 'lastUpdateTime');
    near(c.lastTransitionTime, before, 'lastTransitionTime');
  });

  await t.test('kubectl certificate deny: both times are now', async () => {
    assert.equal((await s.request('POST', CSRS, { body: csrObject('denied-by-kubectl', req.b64) })).status, 201);
    const before = Date.now();
    const r = await kubectl(['certificate', 'deny', 'denied-by-kubectl']);
    assert.equal(r.code, 0, r.stderr);
    const [c] = (await s.request('GET', `${CSRS}/denied-by-kubectl`)).json.status.conditions;
    assert.equal(c.type, 'Denied');
    near(c.lastUpdateTime, before, 'lastUpdateTime');
    near(c.lastTransitionTime, before, 'lastTransitionTime');
  });

  await t.test('a status update (JSON, times null) adding Failed: times are now; the unchanged Approved keeps its own', async () => {
    const cur = (await s.request('GET', `${CSRS}/by-kubectl`)).json;
    const approved = cur.status.conditions[0];
    await new Promise((r) => setTimeout(r, 1100)); // a later second, so "kept" and "now" differ
    cur.status.conditions.push({ type: 'Failed', status: 'True', reason: 'SignerFailed', message: 'x', lastUpdateTime: null, lastTransitionTime: null });
    const before = Date.now();
    const r = await s.request('PUT', `${CSRS}/by-kubectl/status`, { body: cur });
    assert.equal(r.status, 200, r.text);
    const [a, f] = r.json.status.conditions;
    assert.equal(a.lastTransitionTime, approved.lastTransitionTime);
    assert.equal(a.lastUpdateTime, approved.lastUpdateTime);
    assert.equal(f.type, 'Failed');
    near(f.lastUpdateTime, before, 'lastUpdateTime');
    near(f.lastTransitionTime, before, 'lastTransitionTime');
  });
});
