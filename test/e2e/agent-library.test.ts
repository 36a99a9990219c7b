import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent, type NodeAgentOptions } from '../../src/agent/agent.js';
import { CertificateStore, parsePair } from '../../src/agent/cert-store.js';
import { writeNodeKubeconfig } from '../../src/agent/kubeconfig.js';
import { createLogger } from '../../src/util/logger.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { APPROVER_OFF, startCluster, type Cluster } from '../agent/cluster.js';
import { crossSign, issueLeaf, makeCa } from '../helpers/pki.js';
import { until } from '../helpers/poll.js';

/** A real `kubepki serve` (approver, signer and the Node authorizer in-process) and a bootstrap kubeconfig for it. */
async function cluster(t: { after: (fn: () => Promise<void>) => void }, serveArgs: string[] = []): Promise<Cluster> {
  return startCluster(t, { serveArgs });
}

function agentOptions(c: { dir: string; bootstrap: string }, extra: Partial<NodeAgentOptions> = {}): NodeAgentOptions {
  return {
    kubeconfig: path.join(c.dir, 'kubelet.conf'),
    bootstrapKubeconfig: c.bootstrap,
    certDir: path.join(c.dir, 'pki'),
    nodeName: 'node-1',
    backoff: { initialMs: 50, capMs: 200 },
    pollIntervalMs: 50,
    // AGENT_TEST_LOG=debug shows the agents' logs when a test needs explaining.
    ...(process.env['AGENT_TEST_LOG'] ? { logger: createLogger({ level: process.env['AGENT_TEST_LOG'] }) } : {}),
    ...extra,
  };
}

/** Writes ConfigMap kube-public/cluster-info as the admin (kubeadm and the bootstrap signer keep it). */
async function publishClusterInfo(c: Cluster, data: Record<string, string>): Promise<void> {
  const p = '/api/v1/namespaces/kube-public/configmaps';
  const current = await c.admin('GET', `${p}/cluster-info`);
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data };
  const r = current.status === 404 ? await c.admin('POST', p, body) : await c.admin('PUT', `${p}/cluster-info`, { ...body, metadata: current.json.metadata });
  assert.ok(r.status < 300, `cluster-info: HTTP ${r.status} ${r.text}`);
}

async function startAgent(t: { after: (fn: () => Promise<void>) => void }, options: NodeAgentOptions): Promise<NodeAgent> {
  const agent = new NodeAgent(options);
  t.after(() => agent.stop());
  await agent.start();
  return agent;
}

test('bootstrap from nothing: a node CSR with the token, the pair file and symlink, and a kubeconfig that refers to it', async (t) => {
  const c = await cluster(t);
  const agent = await startAgent(t, agentOptions(c));
  const pki = path.join(c.dir, 'pki');
  const names = (await readdir(pki)).sort();
  assert.equal(names.length, 2, names.join(' '));
  assert.match(names[0]!, /^kubelet-client-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem$/);
  assert.equal(names[1], 'kubelet-client-current.pem');
  assert.equal((await stat(path.join(pki, names[0]!))).mode & 0o777, 0o600);
  assert.ok((await lstat(path.join(pki, names[1]!))).isSymbolicLink());
  assert.equal(await readlink(path.join(pki, names[1]!)), path.join(pki, names[0]!));
  const csrs = await c.csrs();
  assert.equal(csrs.length, 1);
  const [csr] = csrs;
  assert.equal(csr!.spec.username, 'system:bootstrap:07401b', 'the bootstrap CSR is made with the bootstrap token');
  assert.match(csr!.metadata.name, /^node-csr-/);
  assert.equal(csr!.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
  const kubeconfig = path.join(c.dir, 'kubelet.conf');
  assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
  const view = await run('kubectl', ['config', 'view', `--kubeconfig=${kubeconfig}`, '-o', 'jsonpath={.users[0].user.client-certificate} {.users[0].user.client-key} {.clusters[0].cluster.server}']);
  const pem = path.join(pki, 'kubelet-client-current.pem');
  assert.equal(view.stdout, `${pem} ${pem} ${c.url}`);
  const pair = parsePair(await readFile(pem, 'utf8'), pem);
  assert.equal(pair.certificate.subject.commonName, 'system:node:node-1');
  assert.deepEqual(pair.certificate.subject.organization, ['system:nodes']);
  assert.equal(agent.clientManager?.current()?.certificate.serialNumber, pair.certificate.serialNumber);
  assert.equal(existsSync(path.join(pki, 'kubelet-client.key.tmp')), false);
});

test('a restarted agent with a usable kubeconfig makes no request; one whose certificate lacks client auth bootstraps again', async (t) => {
  const c = await cluster(t);
  const first = new NodeAgent(agentOptions(c));
  await first.start();
  await first.stop();
  const created = (await c.csrs()).length;
  assert.equal(created, 1);
  await startAgent(t, agentOptions(c));
  assert.equal((await c.csrs()).length, created, 'no new CSR for a usable kubeconfig');
  // Seed 002: the kubeconfig's certificate is for server auth only — unusable as a client certificate.
  const bad = await issueLeaf(c.ca, { usages: ['digital signature', 'server auth'] });
  const dir2 = await tempDir(t);
  const store = new CertificateStore({ certDir: path.join(dir2, 'pki'), pairName: 'kubelet-client' });
  await store.update(bad.certificate.pem, bad.keyPem!);
  await writeNodeKubeconfig(path.join(dir2, 'kubelet.conf'), { cluster: { server: c.url, caFile: c.caFile }, pemPath: store.currentPath() });
  const again = await startAgent(t, agentOptions({ dir: dir2, bootstrap: c.bootstrap }));
  assert.equal((await c.csrs()).length, created + 1);
  assert.ok(again.clientManager?.current()?.certificate.extKeyUsages.includes('1.3.6.1.5.5.7.3.2'));
});

test('without a usable kubeconfig or a bootstrap kubeconfig the agent stops with one clear error', async (t) => {
  const dir = await tempDir(t);
  const agent = new NodeAgent({ kubeconfig: path.join(dir, 'kubelet.conf'), certDir: path.join(dir, 'pki'), nodeName: 'node-1' });
  await assert.rejects(agent.start(), { code: 'InvalidConfig', message: /kubelet\.conf does not exist\) and no --bootstrap-kubeconfig/ });
  assert.throws(() => new NodeAgent({ kubeconfig: 'k', certDir: dir, nodeName: 'Not_A_Name' }), { code: 'InvalidArgument' });
  assert.throws(() => new NodeAgent({ kubeconfig: 'k', certDir: dir, nodeName: 'n', nodeIPs: ['10.0.0.300'] }), { code: 'InvalidArgument', message: /--node-ip/ });
  assert.equal(existsSync(path.join(dir, 'pki')), false, 'nothing written');
});

test('with --rotate-server-certificates the node requests a kubelet-serving certificate as itself, with its names and IPs', async (t) => {
  const c = await cluster(t);
  const agent = await startAgent(t, agentOptions(c, { rotateCertificates: true, rotateServerCertificates: true, hostnameOverride: 'node-1.example', nodeIPs: ['10.0.0.5'] }));
  // kubelet-serving CSRs are not approved automatically (opt-in, as in Kubernetes): the admin approves it.
  const pending = await until(async () => (await c.csrs()).find((x) => x.spec.signerName === 'kubernetes.io/kubelet-serving'), 'the serving CSR');
  await c.decide(pending.metadata.name, 'Approved', 'TestApproval', 'approved by the test');
  const pem = path.join(c.dir, 'pki', 'kubelet-server-current.pem');
  const deadline = Date.now() + 10_000;
  while (!existsSync(pem) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const pair = parsePair(await readFile(pem, 'utf8'), pem);
  assert.deepEqual(pair.certificate.sans.dnsNames, ['node-1.example']);
  assert.deepEqual(pair.certificate.sans.ipAddresses, ['10.0.0.5']);
  const serving = (await c.csrs()).filter((x) => x.spec.signerName === 'kubernetes.io/kubelet-serving');
  assert.equal(serving.length, 1);
  assert.equal(serving[0]!.spec.username, 'system:node:node-1', 'serving requests authenticate with the node client certificate');
  assert.deepEqual(serving[0]!.spec.usages, ['digital signature', 'server auth']);
  assert.equal(Buffer.from(serving[0]!.status.certificate ?? '', 'base64').toString(), pair.certificate.pem, 'the certificate the server issued');
  assert.ok(agent.servingManager?.current());
});

test('short-lived certificates are rotated in the background and the current file is valid at every read', async (t) => {
  // A 20 s signing duration with the signer's 5-minute backdate leaves most of the lifetime in the past: the
  // agent rotates as often as it may (once a second), as the kubelet would.
  const c = await cluster(t, ['--cluster-signing-duration', '20s']);
  const agent = await startAgent(t, agentOptions(c, { rotateCertificates: true, healthzPort: 0 }));
  assert.equal((await fetch(`http://127.0.0.1:${agent.healthzPort}/healthz`)).status, 200);
  const pem = path.join(c.dir, 'pki', 'kubelet-client-current.pem');
  const serials = new Set<string>();
  const end = Date.now() + 4000;
  let reads = 0;
  while (Date.now() < end) {
    const pair = parsePair(await readFile(pem, 'utf8'), pem);
    assert.ok(pair.privateKey && pair.certificate);
    serials.add(pair.certificate.serialNumber);
    reads++;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(serials.size >= 2, `rotated at least once (saw ${serials.size} certificates in ${reads} reads)`);
  const metrics = await (await fetch(`http://127.0.0.1:${agent.healthzPort}/metrics`)).text();
  assert.match(metrics, /kubepki_agent_certificate_rotations_total\{certificate="client"\} ([2-9]|\d{2,})/);
});

test('a denied bootstrap CSR is reported and a new request follows; the agent keeps running', async (t) => {
  const c = await cluster(t, APPROVER_OFF);
  const agent = new NodeAgent(agentOptions(c, { rotateCertificates: true }));
  t.after(() => agent.stop());
  const started = agent.start();
  const first = await until(async () => (await c.csrs())[0], 'the first CSR');
  await c.decide(first.metadata.name, 'Denied', 'TestDenial', 'denied by the test');
  const second = await until(async () => (await c.csrs()).find((x) => x.metadata.name !== first.metadata.name), 'a new CSR');
  await c.decide(second.metadata.name, 'Approved', 'TestApproval', 'approved by the test');
  await started;
  const csrs = await c.csrs();
  assert.equal(csrs.length, 2);
  const denied = csrs.find((x) => x.metadata.name === first.metadata.name)!;
  assert.equal(denied.status.conditions?.[0]?.type, 'Denied');
  assert.equal(denied.status.certificate, undefined);
  assert.notEqual(first.metadata.name, second.metadata.name);
  assert.equal(agent.clientManager?.current()?.certificate.pem, Buffer.from((await c.csr(second.metadata.name)).status.certificate ?? '', 'base64').toString());
  assert.match(agent.clientManager!.status().lastError ?? 'cleared after success', /cleared after success/);
  assert.equal(agent.clientManager!.status().failures, 1);
});

test('an API server that is down at start is waited for', async (t) => {
  const c = await cluster(t);
  await c.stop();
  const agent = new NodeAgent(agentOptions(c, { rotateCertificates: true }));
  t.after(() => agent.stop());
  const started = agent.start();
  // Wait for the attempt that proves the agent tried and failed, not for a guessed time.
  await until(() => (agent.clientManager?.status().failures ?? 0) >= 1, 'a failed attempt while the server is down', { timeoutMs: 60_000 });
  assert.match(agent.clientManager!.status().lastError ?? '', /ECONNREFUSED/);
  await c.restart();
  await started;
  assert.ok(agent.clientManager!.current());
});

test('a CA change published in cluster-info is followed only when the trusted CA signed the new one in', async (t) => {
  // `--controllers *` leaves out the bootstrap signer, which would publish cluster-info at once (kubeadm's set).
  const c = await cluster(t, ['--controllers', '*']);
  const agent = await startAgent(t, agentOptions(c, { rotateCertificates: true, caSyncIntervalMs: 0 }));
  const kubeconfig = path.join(c.dir, 'kubelet.conf');
  // No cluster-info yet (anonymous may read it, as kubeadm's RBAC allows, but there is none), and the
  // root-CA publisher's kube-root-ca.crt is not for nodes (the Node authorizer and RBAC refuse it).
  await assert.rejects(agent.syncTrust(), { code: 'APIError', message: /cluster-info: HTTP 404.*kube-root-ca\.crt: HTTP 403/ });
  const clusterInfo = (certs: { pem: string }[]) => ({
    kubeconfig: `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: ${Buffer.from(certs.map((x) => x.pem).join('')).toString('base64')}\n    server: ${c.url}\n  name: ""\ncontexts: null\ncurrent-context: ""\nusers: null\n`,
  });
  // The CA the node already trusts: nothing to follow.
  await publishClusterInfo(c, clusterInfo([c.ca.certificate]));
  const r0 = await agent.syncTrust();
  assert.equal(r0?.changed, false);
  assert.deepEqual(r0?.rejected, []);
  // A stranger CA (trust on first use would accept it): rejected, the kubeconfig is untouched.
  const stranger = await makeCa({ cn: 'evil' });
  await publishClusterInfo(c, clusterInfo([stranger.certificate]));
  const before = await readFile(kubeconfig, 'utf8');
  const r1 = await agent.syncTrust();
  assert.equal(r1?.changed, false);
  assert.match(r1?.rejected[0]?.reason ?? '', /not signed by a trusted CA/);
  assert.equal(await readFile(kubeconfig, 'utf8'), before);
  // The seed-000 rotation bundle, old + new, with the new CA cross-signed by the old: followed.
  const next = await makeCa({ cn: 'kubernetes-2' });
  const cross = await crossSign(next, c.ca);
  await publishClusterInfo(c, clusterInfo([c.ca.certificate, next.certificate, cross]));
  const r2 = await agent.syncTrust();
  assert.equal(r2?.changed, true);
  assert.deepEqual(r2?.added.map((x) => x.subject.commonName).sort(), ['kubernetes-2', 'kubernetes-2']);
  const view = await run('kubectl', ['config', 'view', '--raw', `--kubeconfig=${kubeconfig}`, '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']);
  const bundle = Buffer.from(view.stdout, 'base64').toString();
  assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 3);
  assert.ok(bundle.includes(next.certificate.pem));
  // Still talks to the server (its certificate chains to the old CA, still trusted) and still rotates.
  assert.equal(await agent.clientManager!.rotateOnce(), true);
});

test('with anonymous requests turned off, cluster-info is asked for with the node\'s own credentials', async (t) => {
  const c = await cluster(t, ['--anonymous-auth', 'false']);
  const agent = await startAgent(t, agentOptions(c, { rotateCertificates: true, caSyncIntervalMs: 0 }));
  // Anonymous gets 401 here; the node is then known (403 from the Node authorizer and RBAC, not 401).
  await assert.rejects(agent.syncTrust(), { code: 'APIError', message: /cluster-info: HTTP 403: .*User "system:node:node-1"/ });
});
