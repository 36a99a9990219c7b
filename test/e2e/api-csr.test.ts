import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrObject, opensslCsr, startTestServer } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

test('CertificateSigningRequest lifecycle over HTTPS with client certificates', async (t) => {
  const s = await startTestServer(t);
  const dir = await tempDir(t);
  const req = await opensslCsr(dir, 'svc', '/CN=my-pod.my-namespace.pod.cluster.local', 'DNS:my-svc.my-namespace.svc.cluster.local,IP:192.0.2.24');

  await t.test('creates a CSR with the requester taken from the client certificate, never from the body', async () => {
    const body = csrObject('my-svc.my-namespace', req.b64, { username: 'mallory', groups: ['system:masters'], uid: 'x' });
    const r = await s.request('POST', CSRS, { body, as: s.pki.alice });
    // alice is not a master: forbidden by the minimal authorizer
    assert.equal(r.status, 403);
    assert.equal(r.json.reason, 'Forbidden');
    assert.match(r.json.message, /User "alice" cannot create resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope/);
    const ok = await s.request('POST', CSRS, { body });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.json.spec.username, 'kubernetes-admin');
    assert.deepEqual(ok.json.spec.groups, ['system:masters', 'system:authenticated']);
    assert.equal(ok.json.spec.uid, undefined);
    assert.deepEqual(ok.json.status, {});
    assert.match(ok.json.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.match(ok.json.metadata.resourceVersion, /^\d+$/);
    assert.match(ok.json.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  await t.test('a second create of the same name is 409 AlreadyExists', async () => {
    const r = await s.request('POST', CSRS, { body: csrObject('my-svc.my-namespace', req.b64) });
    assert.equal(r.status, 409);
    assert.equal(r.json.reason, 'AlreadyExists');
    assert.equal(r.json.message, 'certificatesigningrequests.certificates.k8s.io "my-svc.my-namespace" already exists');
  });

  await t.test('approval goes through /approval and stamps condition times', async () => {
    const cur = (await s.request('GET', `${CSRS}/my-svc.my-namespace`)).json;
    cur.status.conditions = [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'ok' }];
    const viaMain = await s.request('PUT', `${CSRS}/my-svc.my-namespace`, { body: cur });
    assert.equal(viaMain.status, 200);
    assert.equal(viaMain.json.status.conditions, undefined, 'the main resource ignores status');
    const r = await s.request('PUT', `${CSRS}/my-svc.my-namespace/approval`, { body: cur });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status.conditions[0].type, 'Approved');
    assert.ok(r.json.status.conditions[0].lastUpdateTime);
  });

  await t.test('Denied cannot be added next to Approved', async () => {
    const cur = (await s.request('GET', `${CSRS}/my-svc.my-namespace`)).json;
    cur.status.conditions.push({ type: 'Denied', status: 'True' });
    const r = await s.request('PUT', `${CSRS}/my-svc.my-namespace/approval`, { body: cur });
    assert.equal(r.status, 422);
    assert.match(r.json.message, /Approved and Denied conditions are mutually exclusive/);
  });

  await t.test('a stale resourceVersion is 409 Conflict with kube\'s message', async () => {
    const cur = (await s.request('GET', `${CSRS}/my-svc.my-namespace`)).json;
    cur.metadata.resourceVersion = '1';
    cur.metadata.labels = { a: 'b' };
    const r = await s.request('PUT', `${CSRS}/my-svc.my-namespace`, { body: cur });
    assert.equal(r.status, 409);
    assert.equal(r.json.reason, 'Conflict');
    assert.equal(
      r.json.message,
      'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "my-svc.my-namespace": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  await t.test('list shows it; a field selector on spec.signerName filters', async () => {
    const all = await s.request('GET', CSRS);
    assert.equal(all.json.kind, 'CertificateSigningRequestList');
    assert.equal(all.json.items.length, 1);
    const none = await s.request('GET', `${CSRS}?fieldSelector=spec.signerName%3Dkubernetes.io%2Fkube-apiserver-client`);
    assert.equal(none.json.items.length, 0);
    const bad = await s.request('GET', `${CSRS}?fieldSelector=spec.foo%3Dx`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.message, 'field label not supported: spec.foo');
  });

  await t.test('a Table lists kubectl\'s columns', async () => {
    const r = await s.request('GET', CSRS, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    assert.equal(r.json.kind, 'Table');
    assert.deepEqual(
      r.json.columnDefinitions.map((c: { name: string }) => c.name),
      ['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition'],
    );
    assert.deepEqual(r.json.rows[0].cells.slice(2), ['example.com/serving', 'kubernetes-admin', '<none>', 'Approved']);
  });

  await t.test('a bad request, usages and signer name are 422 with every cause', async () => {
    const body = csrObject('bad', Buffer.from('not a pem').toString('base64'), { usages: ['server auth', 'flying'], signerName: 'nodomain', expirationSeconds: 60 });
    const r = await s.request('POST', CSRS, { body });
    assert.equal(r.status, 422);
    const fields = r.json.details.causes.map((c: { field: string }) => c.field);
    assert.deepEqual(fields, ['spec.request', 'spec.usages[1]', 'spec.signerName', 'spec.expirationSeconds']);
    assert.match(r.json.message, /PEM block type must be CERTIFICATE REQUEST/);
    const after = await s.request('GET', `${CSRS}/bad`);
    assert.equal(after.status, 404, 'nothing stored');
  });

  await t.test('an unknown field is 400 under Strict and a warning under Warn', async () => {
    const body = csrObject('strict', req.b64);
    (body['spec'] as Record<string, unknown>)['foo'] = 1;
    const strict = await s.request('POST', `${CSRS}?fieldValidation=Strict`, { body });
    assert.equal(strict.status, 400);
    assert.equal(
      strict.json.message,
      'CertificateSigningRequest in version "v1" cannot be handled as a CertificateSigningRequest: strict decoding error: unknown field "spec.foo"',
    );
    const warn = await s.request('POST', CSRS, { body });
    assert.equal(warn.status, 201);
    assert.match(String(warn.headers['warning']), /unknown field \\"spec\.foo\\"/);
    assert.equal(warn.json.spec.foo, undefined);
  });

  await t.test('status.certificate is refused before approval and accepted after', async () => {
    const cert = Buffer.from(s.pki.admin.cert).toString('base64');
    const pending = (await s.request('GET', `${CSRS}/strict`)).json;
    pending.status = { certificate: cert };
    const r1 = await s.request('PUT', `${CSRS}/strict/status`, { body: pending });
    assert.equal(r1.status, 422);
    assert.match(r1.json.message, /status.certificate: Forbidden/);
    const approved = await s.request('PATCH', `${CSRS}/strict/approval`, {
      raw: JSON.stringify({ status: { conditions: [{ type: 'Approved', status: 'True', reason: 'r' }] } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(approved.status, 200, approved.text);
    const notPem = await s.request('PATCH', `${CSRS}/strict/status`, {
      raw: JSON.stringify({ status: { certificate: Buffer.from('junk').toString('base64') } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(notPem.status, 422);
    const ok = await s.request('PATCH', `${CSRS}/strict/status`, {
      raw: JSON.stringify({ status: { certificate: cert } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.status.certificate, cert);
  });

  await t.test("status.certificate that does not parse is 422 with Go's message, in a short list and in a long one", async () => {
    const created = await s.request('POST', CSRS, { body: csrObject('parse-check', req.b64) });
    assert.equal(created.status, 201, created.text);
    const approved = await s.request('PATCH', `${CSRS}/parse-check/approval`, {
      raw: JSON.stringify({ status: { conditions: [{ type: 'Approved', status: 'True', reason: 'r' }] } }),
      headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(approved.status, 200, approved.text);
    const pem = s.pki.admin.cert.endsWith('\n') ? s.pki.admin.cert : `${s.pki.admin.cert}\n`;
    const notACertificate = '-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n'; // SEQUENCE { INTEGER 1 }
    const setCertificate = (text: string) =>
      s.request('PATCH', `${CSRS}/parse-check/status`, {
        raw: JSON.stringify({ status: { certificate: Buffer.from(text).toString('base64') } }),
        headers: { 'Content-Type': 'application/merge-patch+json' },
      });
    // A leaf and its issuer: checked on the event loop; twenty certificates (over 16 KiB): on the worker threads.
    for (const list of [pem + notACertificate, pem.repeat(20) + notACertificate]) {
      const bad = await setCertificate(list);
      assert.equal(bad.status, 422, bad.text);
      assert.match(bad.json.message, /status\.certificate: Invalid value: "<certificate data>": x509: malformed tbs certificate/);
    }
    const long = await setCertificate(pem.repeat(20));
    assert.equal(long.status, 200, long.text);
  });
});

test('CertificateSubjectRestriction: the kube-apiserver-client signer never issues into system:masters', async (t) => {
  const s = await startTestServer(t);
  const dir = await tempDir(t);
  const masters = await opensslCsr(dir, 'm', '/O=system:masters/CN=sneaky');
  const clientUsages = { signerName: 'kubernetes.io/kube-apiserver-client', usages: ['digital signature', 'client auth'] };
  const r = await s.request('POST', CSRS, { body: csrObject('sneaky', masters.b64, clientUsages) });
  assert.equal(r.status, 403, r.text);
  assert.equal(r.json.reason, 'Forbidden');
  assert.equal(
    r.json.message,
    'certificatesigningrequests.certificates.k8s.io "sneaky" is forbidden: use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed',
  );
  assert.equal((await s.request('GET', `${CSRS}/sneaky`)).status, 404, 'nothing was stored');
  // Another group, or system:masters for another signer, is not this plugin's business.
  const devs = await opensslCsr(dir, 'd', '/O=devs/CN=ann');
  assert.equal((await s.request('POST', CSRS, { body: csrObject('ann', devs.b64, clientUsages) })).status, 201);
  assert.equal((await s.request('POST', CSRS, { body: csrObject('other-signer', masters.b64) })).status, 201);
});
