// Storage behind `kubepki serve`: SQLite keeps objects across a restart with resourceVersions still
// increasing; two replicas on one real etcd (mutual TLS with the apiserver-etcd-client certificate) are one
// API — a write on one is seen by a watch on the other, and a stale write on one conflicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubepki } from '../helpers/cli.js';
import { startEtcd } from '../helpers/etcd.js';
import { csrObject, httpsRequest, kubectlWith, openWatch, startServe } from '../api/helpers.js';
import { openssl } from '../helpers/openssl.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

async function adminAgent(kubeconfig: string): Promise<https.Agent> {
  const kc = parseYaml(await readFile(kubeconfig, 'utf8')) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
  const b = (s: string) => Buffer.from(s, 'base64');
  return new https.Agent({
    keepAlive: true,
    ca: b(kc.clusters[0]!.cluster['certificate-authority-data']!),
    cert: b(kc.users[0]!.user['client-certificate-data']!),
    key: b(kc.users[0]!.user['client-key-data']!),
  });
}

async function csrB64(dir: string): Promise<string> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.pem'], dir);
  await openssl(['req', '-new', '-key', 'k.pem', '-subj', '/CN=replica-test', '-out', 'r.csr'], dir);
  return (await readFile(path.join(dir, 'r.csr'))).toString('base64');
}

test('SQLite storage survives a restart with increasing resourceVersions', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-sqlite-');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const request = await csrB64(dir);
  const first = await startServe(t, [], { dataDir, port });
  const agent1 = await adminAgent(first.kubeconfig);
  t.after(() => agent1.destroy());
  const created = await httpsRequest(first.url, 'POST', CSRS, { body: csrObject('persisted', request), agent: agent1 });
  assert.equal(created.status, 201, created.text);
  const rv1 = Number(created.json.metadata.resourceVersion);
  assert.equal(await first.stop(), 0);

  const second = await startServe(t, [], { dataDir, port });
  const agent2 = await adminAgent(second.kubeconfig);
  t.after(() => agent2.destroy());
  const got = await httpsRequest(second.url, 'GET', `${CSRS}/persisted`, { agent: agent2 });
  assert.equal(got.status, 200);
  assert.equal(got.json.metadata.uid, created.json.metadata.uid);
  assert.equal(Number(got.json.metadata.resourceVersion), rv1);
  const next = await httpsRequest(second.url, 'POST', CSRS, { body: csrObject('after-restart', request), agent: agent2 });
  assert.equal(next.status, 201);
  assert.ok(Number(next.json.metadata.resourceVersion) > rv1, 'resourceVersions keep increasing after a restart');
  const kubectl = kubectlWith(second.kubeconfig, path.join(dir, 'kcache'));
  const out = await kubectl(['get', 'csr', '-o', 'name']);
  assert.equal(out.stdout, 'certificatesigningrequest.certificates.k8s.io/after-restart\ncertificatesigningrequest.certificates.k8s.io/persisted\n');
});

test('two serve replicas on one etcd (mutual TLS) are one API', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-etcd-');
  const dataDir = path.join(dir, 'data');
  const [portA, portB] = [await freePort(), await freePort()];
  // The operator's PKI first (kubeadm's layout); both replicas use it as it is.
  const init = await kubepki([
    'init', '--cert-dir', path.join(dataDir, 'pki'), '--kubeconfig-dir', dataDir, '--apiserver-advertise-address', '127.0.0.1',
    '--apiserver-bind-port', String(portA), '--encryption-algorithm', 'ECDSA-P256', '--node-name', 'cp-1',
  ]);
  assert.equal(init.code, 0, init.stderr);
  const pki = (f: string) => path.join(dataDir, 'pki', f);
  const etcd = await startEtcd({
    dataDir: dir,
    tls: { server: () => ({ certFile: pki('etcd/server.crt'), keyFile: pki('etcd/server.key'), trustedCaFile: pki('etcd/ca.crt'), clientCertAuth: true }) },
  });
  t.after(() => etcd.stop());
  const etcdFlags = [
    '--storage', 'etcd', '--etcd-servers', etcd.clientUrls.join(','), '--etcd-cafile', pki('etcd/ca.crt'),
    '--etcd-certfile', pki('apiserver-etcd-client.crt'), '--etcd-keyfile', pki('apiserver-etcd-client.key'),
  ];
  const [a, b] = await Promise.all([startServe(t, etcdFlags, { dataDir, port: portA }), startServe(t, etcdFlags, { dataDir, port: portB })]);
  const agent = await adminAgent(a.kubeconfig);
  t.after(() => agent.destroy());
  const request = await csrB64(dir);

  await t.test('both started on the same etcd and see the same system namespaces', async () => {
    const na = await httpsRequest(a.url, 'GET', '/api/v1/namespaces', { agent });
    const nb = await httpsRequest(b.url, 'GET', '/api/v1/namespaces', { agent });
    assert.deepEqual(na.json.items.map((n: { metadata: { uid: string } }) => n.metadata.uid), nb.json.items.map((n: { metadata: { uid: string } }) => n.metadata.uid));
    assert.equal(na.json.items.length, 4);
  });

  await t.test('a write on one replica reaches a watch on the other', async () => {
    const list = await httpsRequest(b.url, 'GET', CSRS, { agent });
    const w = openWatch(b.url, `${CSRS}?watch=1&resourceVersion=${list.json.metadata.resourceVersion}&fieldSelector=metadata.name%3Dacross`, agent);
    t.after(() => w.close());
    await new Promise((r) => setTimeout(r, 200));
    const created = await httpsRequest(a.url, 'POST', CSRS, { body: csrObject('across', request), agent });
    assert.equal(created.status, 201, created.text);
    const e = await w.next(10_000);
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.uid, created.json.metadata.uid);
    assert.equal(e.object.metadata.resourceVersion, created.json.metadata.resourceVersion);
  });

  await t.test('a stale write on one replica conflicts with a newer write on the other', async () => {
    const fromA = (await httpsRequest(a.url, 'GET', `${CSRS}/across`, { agent })).json;
    const fromB = structuredClone(fromA);
    fromB.metadata.labels = { by: 'b' };
    const wb = await httpsRequest(b.url, 'PUT', `${CSRS}/across`, { body: fromB, agent });
    assert.equal(wb.status, 200);
    fromA.metadata.labels = { by: 'a' };
    const wa = await httpsRequest(a.url, 'PUT', `${CSRS}/across`, { body: fromA, agent });
    assert.equal(wa.status, 409);
    assert.equal(wa.json.reason, 'Conflict');
  });

  await t.test('kubectl approves through one replica and reads Approved through the other', async () => {
    const kubectl = kubectlWith(a.kubeconfig, path.join(dir, 'kcache'));
    const approve = await kubectl(['--server', b.url, 'certificate', 'approve', 'across']);
    assert.equal(approve.code, 0, approve.stderr);
    const get = await kubectl(['get', 'csr', 'across', '-o', 'jsonpath={.status.conditions[0].type}']);
    assert.equal(get.stdout, 'Approved');
  });
});
