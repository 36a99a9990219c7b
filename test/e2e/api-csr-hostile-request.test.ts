// Hostile spec.request bytes through the API, and hostile CSRs already in storage before the controllers:
// every class of the fuzz's mutations (test/x509/hostile-der-mutations.ts) and of hostile PEM is answered with
// kube's 422 Invalid Status naming spec.request (or, when the mutant is still a request Go accepts, created),
// never a 500; a CSR that an older version stored with such bytes leaves the approver, the signer and the
// cleaner running, the others' CSRs still approved and signed, and is retried with back-off, not in a loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrObject, startTestServer } from '../api/helpers.js';
import { encodePem } from '../../src/x509/pem.js';
import { createCertificateRequest, parseVerifiedCertificateRequest } from '../../src/x509/csr.js';
import { generateKeyPair } from '../../src/x509/keys.js';
import { MUTATIONS } from '../x509/hostile-der-mutations.js';
import { seededRandom } from '../helpers/seeded-random.js';
import { RestKubeClient } from '../../src/client/rest.js';
import { runControllerManager } from '../../src/controllers/run.js';
import { silentLogger } from '../../src/util/logger.js';
import { testCA } from '../controllers/fixtures.js';
import { until } from '../helpers/poll.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const KUBELET_CLIENT = { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] };

async function nodeRequest(node: string): Promise<Uint8Array> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  return (await createCertificateRequest({ subject: { commonName: `system:node:${node}`, organization: ['system:nodes'] }, keyPair })).der;
}

const b64 = (text: string | Uint8Array) => Buffer.from(text).toString('base64');

/** spec.request values that are not a request at the PEM level (base64 of these texts, unless raw). */
function hostilePem(der: Uint8Array): Array<[string, string]> {
  const pem = encodePem('CERTIFICATE REQUEST', der);
  return [
    ['2 MB of BEGIN lines and no END', b64('-----BEGIN CERTIFICATE REQUEST-----\n'.repeat(55_000))],
    ['a block with no END', b64(pem.replace(/-----END[^\n]*\n$/, ''))],
    ['a CERTIFICATE block', b64(pem.replace(/CERTIFICATE REQUEST/g, 'CERTIFICATE'))],
    ['invalid base64 inside the block', b64(pem.replace(/\n(.)/, '\n*'))],
    ['bare DER, no PEM', b64(der)],
    ['NUL bytes', b64(Buffer.alloc(4096))],
    ['a 1 MB request DER', b64(encodePem('CERTIFICATE REQUEST', Buffer.concat([Buffer.from([0x30, 0x83, 0x10, 0x00, 0x00]), Buffer.alloc(0x100000, 0x05)])))],
    ['an empty request', ''],
  ];
}

function assertInvalidSpecRequest(r: { status: number; text: string; json: { kind: string; reason: string; code: number; details: { causes: Array<{ field: string; reason: string }> } } }, what: string): void {
  assert.equal(r.status, 422, `${what}: ${r.text.slice(0, 300)}`);
  assert.equal(r.json.kind, 'Status', what);
  assert.equal(r.json.reason, 'Invalid', what);
  assert.equal(r.json.code, 422, what);
  assert.ok(r.json.details.causes.some((c) => c.field === 'spec.request'), `${what}: ${r.text.slice(0, 300)}`);
}

test('every class of hostile request DER and PEM: 422 Invalid naming spec.request (or created when still a valid request), never a 500', async (t) => {
  const s = await startTestServer(t);
  const der = await nodeRequest('n1');
  const rand = seededRandom(4242);
  let invalid = 0;
  let n = 0;
  for (const [mutation, mutate] of Object.entries(MUTATIONS)) {
    for (let i = 0; i < 4; i++) {
      const bytes = mutate(der, rand);
      const name = `mut-${n++}`;
      const r = await s.request('POST', CSRS, { body: csrObject(name, b64(encodePem('CERTIFICATE REQUEST', bytes)), KUBELET_CLIENT) });
      if (r.status === 201) continue; // the mutation kept a request Go accepts (e.g. a duplicated ignored attribute)
      assertInvalidSpecRequest(r, `${mutation} #${i} (${Buffer.from(bytes).toString('hex').slice(0, 200)})`);
      assert.equal((await s.request('GET', `${CSRS}/${name}`)).status, 404, 'nothing stored');
      invalid++;
    }
  }
  assert.ok(invalid >= Object.keys(MUTATIONS).length * 2, `${invalid} refused`);
  for (const [what, request] of hostilePem(der)) {
    const started = Date.now();
    const r = await s.request('POST', CSRS, { body: csrObject(`pem-${n++}`, request, KUBELET_CLIENT) });
    // A PEM reader that searched each BEGIN's END to the end of the text held the event loop 84 s here.
    assert.ok(Date.now() - started < 10_000, `${what}: answered in ${Date.now() - started} ms`);
    if (what === 'an empty request') {
      assert.equal(r.status, 422, r.text);
      assert.ok(r.json.details.causes.some((c: { field: string }) => c.field === 'spec.request'), r.text);
      continue;
    }
    assertInvalidSpecRequest(r, what);
  }
  // The server still answers at once (nothing above held its event loop).
  assert.equal((await s.request('GET', '/healthz')).status, 200);
});

test('hostile CSRs stored by an older version: the controllers keep running, sign the others, and retry the hostile ones with back-off', async (t) => {
  const s = await startTestServer(t);
  // A good CSR through the API, to copy the stored shape from.
  const good = await s.request('POST', CSRS, { body: csrObject('template', b64(encodePem('CERTIFICATE REQUEST', await nodeRequest('template'))), KUBELET_CLIENT) });
  assert.equal(good.status, 201, good.text);
  const stored = await s.storage.list('/');
  const templateEntry = stored.items.find((i) => i.key.endsWith('/template'))!;
  assert.ok(templateEntry, JSON.stringify(stored.items.map((i) => i.key)));
  assert.equal((await s.request('DELETE', `${CSRS}/template`)).status, 200);

  const der = await nodeRequest('n1');
  const rand = seededRandom(777);
  // Mutants that are no longer a request (a mutation with nothing to act on leaves a valid one).
  const refused = (bytes: Uint8Array) => parseVerifiedCertificateRequest(bytes).then(() => false, () => true);
  const mutants: Uint8Array[] = [];
  for (const m of Object.values(MUTATIONS)) {
    const bytes = m(der, rand);
    if (await refused(bytes)) mutants.push(bytes);
  }
  assert.ok(mutants.length >= Object.keys(MUTATIONS).length - 3, `${mutants.length} hostile mutants`);
  const hostileRequests: string[] = [
    ...mutants.map((bytes) => b64(encodePem('CERTIFICATE REQUEST', bytes))),
    ...hostilePem(der).map(([, r]) => r),
    'not base64 at all: %%%',
  ];
  const approved = { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'older version', lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  const names: string[] = [];
  for (const [i, request] of hostileRequests.entries()) {
    const object = JSON.parse(templateEntry.value);
    const name = `hostile-${i}`;
    names.push(name);
    object.metadata = { ...object.metadata, name, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` };
    delete object.metadata.resourceVersion;
    object.spec.request = request;
    // Half of them approved already (the signer reads them), half pending (the approver reads them); one issued
    // with a garbage certificate (the cleaner reads its notAfter), one pending since 2020 (the cleaner deletes it,
    // as kube's deletes a request pending for more than a day).
    object.status = i % 2 ? { conditions: [approved] } : {};
    if (i === 1) object.status = { conditions: [approved], certificate: b64('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n') };
    if (i === 2) object.metadata.creationTimestamp = '2020-01-01T00:00:00Z';
    await s.storage.create(templateEntry.key.replace(/template$/, name), JSON.stringify(object));
  }

  const ca = await testCA('ECDSA-P256');
  const client = new RestKubeClient({ cluster: { server: s.url, caPem: s.pki.ca }, user: { certPem: s.pki.admin.cert, keyPem: s.pki.admin.key } });
  t.after(() => client.close());
  const controllers = await runControllerManager({
    client,
    logger: silentLogger,
    controllers: ['csrsigning', 'csrapproving', 'csrcleaner'],
    signing: { authorities: new Map([[KUBELET_CLIENT.signerName, ca.authority]]) },
  });
  t.after(() => controllers.stop());

  // A CSR made after the hostile ones is approved (by the approver, for a node's bootstrap) and signed.
  const fresh = await s.request('POST', CSRS, {
    body: { ...csrObject('fresh', b64(encodePem('CERTIFICATE REQUEST', await nodeRequest('fresh'))), KUBELET_CLIENT) },
    as: s.pki.admin,
  });
  assert.equal(fresh.status, 201, fresh.text);
  await s.request('PUT', `${CSRS}/fresh/approval`, {
    body: { ...fresh.json, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'test' }] } },
  });
  await until(async () => ((await s.request('GET', `${CSRS}/fresh`)).json.status?.certificate ?? '') !== '', 'the fresh CSR signed', { timeoutMs: 20_000 });
  await until(async () => (await s.request('GET', `${CSRS}/hostile-2`)).status === 404, 'the cleaner deleted the request pending since 2020', { timeoutMs: 20_000 });
  names.splice(names.indexOf('hostile-2'), 1);

  // Each hostile one is still there and unsigned (the approver may approve one whose only fault is its
  // signature, as kube's approver, which never checks it; the signer checks it). The garbage-certificate one
  // keeps what it had: kube's cleaner only skips a certificate it cannot read.
  for (const name of names) {
    const r = await s.request('GET', `${CSRS}/${name}`);
    assert.equal(r.status, 200, `${name}: ${r.text.slice(0, 200)}`);
    if (name !== 'hostile-1') assert.equal(r.json.status?.certificate ?? '', '', `${name} signed`);
    assert.ok(!(r.json.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Failed'), `${name}: a parse error is retried, not a terminal Failed (kube's signer)`);
  }

  // Retried with back-off: after the fresh CSR's round trip, the retries of the ~30 hostile objects are a few
  // each (client-go's per-item exponential back-off from 5 ms), not thousands.
  const metrics = await controllers.registry.getSingleMetricAsString('workqueue_retries_total');
  const retries = [...metrics.matchAll(/workqueue_retries_total\{name="([^"]+)"\} (\d+)/g)].map(([, q, v]) => [q!, Number(v)] as const);
  const total = retries.reduce((sum, [, v]) => sum + v, 0);
  assert.ok(total > 0, `the hostile CSRs were retried: ${metrics}`);
  assert.ok(total < names.length * 20, `retried with back-off, not in a loop: ${metrics}`);
});
