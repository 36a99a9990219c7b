// Custom CA trust end to end (issue 13, seed 001) with real TLS: an HTTPS server whose certificate comes
// from a custom CA the node does not trust; `kubepki agent --enable-custom-ca-trust` with its trust dir and
// update command pointed at a temporary "system bundle"; curl and openssl s_client as the judges; kubectl
// apply of the Secret; `kubepki trust status`; and 50 agents at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent } from '../../src/agent/agent.js';
import { CustomCaTrustStore } from '../../src/agent/custom-ca-trust.js';
import { kubepki, run } from '../helpers/cli.js';
import { opensslCa, opensslLeaf } from '../helpers/openssl.js';
import { startCluster } from '../agent/cluster.js';
import { startAgentProcess } from '../agent/processes.js';
import { makeCa, issueLeaf } from '../helpers/pki.js';
import { until } from '../helpers/poll.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

function secretYaml(data: Record<string, string>): string {
  const lines = Object.entries(data).map(([k, v]) => `  ${k}: ${v}`);
  return ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: custom-ca-trust-secret', '  namespace: kube-system', 'type: Opaque', 'data:', ...lines, ''].join('\n');
}

interface StatusJson {
  secret: { present: boolean; sha256: string; certificates: number };
  nodes: { node: string; inSync: boolean; since?: string; error?: string; certificates?: number }[];
}

async function trustStatus(adminConf: string): Promise<StatusJson> {
  const r = await kubepki(['trust', 'status', '--kubeconfig', adminConf, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as StatusJson;
}

test('the agent installs the Secret\'s CAs so curl and openssl s_client trust the server, removes them again, and bad Secrets are refused', async (t) => {
  const cluster = await startCluster(t);
  const dir = cluster.dir;
  const adminConf = path.join(cluster.dataDir, 'admin.conf');

  // A private registry's CA, and its server on 127.0.0.1.
  const pkiDir = path.join(dir, 'custom');
  await mkdir(pkiDir);
  const registryCa = await opensslCa(pkiDir, 'registry-ca', { subject: '/CN=registry-ca', days: 30, keyUsage: 'critical,keyCertSign,cRLSign' });
  const server = await opensslLeaf(pkiDir, 'registry', {
    subject: '/CN=registry.local',
    ext: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    ca: { cert: registryCa.certFile, key: registryCa.keyFile },
    days: 10,
  });
  const httpsServer = https.createServer({ cert: await readFile(server.certFile), key: await readFile(server.keyFile) }, (_req, res) => res.end('registry ok\n'));
  await new Promise<void>((resolve) => httpsServer.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => httpsServer.close(() => resolve())));
  const url = `https://127.0.0.1:${(httpsServer.address() as AddressInfo).port}/`;
  const registryCaPem = await readFile(registryCa.certFile, 'utf8');

  // The node's "system" store: a base CA file plus whatever the trust dir holds, rebuilt by the update command.
  const trustDir = path.join(dir, 'ca-certificates');
  const base = path.join(dir, 'base.pem');
  await writeFile(base, (await makeCa({ cn: 'some public root' })).certificate.pem);
  const systemBundle = path.join(dir, 'ca-certificates.crt');
  const update = `{ cat ${base}; find "$KUBEPKI_CUSTOM_CA_TRUST_DIR" -name '*.crt' -exec cat {} +; } > ${systemBundle}.tmp && mv ${systemBundle}.tmp ${systemBundle}`;
  const ownBundle = path.join(dir, 'custom-bundle.pem');
  const agent = startAgentProcess(t, [
    '--bootstrap-kubeconfig', cluster.bootstrap,
    '--kubeconfig', path.join(dir, 'kubelet.conf'),
    '--cert-dir', path.join(dir, 'pki-node'),
    '--node-name', 'node-a',
    '--healthz-port', '0',
    '--enable-custom-ca-trust',
    '--custom-ca-trust-dir', trustDir,
    '--custom-ca-trust-update-command', update,
    '--custom-ca-trust-bundle', ownBundle,
    '--custom-ca-trust-sync-period', '30s',
  ]);

  // The node's report is written after the whole set (files, commands, bundle) is applied: the event to wait for.
  const inSync = () => until(async () => (await trustStatus(adminConf)).nodes.every((n) => n.inSync) || undefined, 'node-a reports in sync with the Secret');
  const curl = () => run('curl', ['-sS', '--max-time', '5', '--cacert', systemBundle, url]);
  const sClient = () => run('openssl', ['s_client', '-connect', url.slice(8, -1), '-CAfile', systemBundle, '-verify_return_error', '-brief'], { input: '' });

  // The node reports that it applied the (absent) Secret: nothing custom installed, curl and openssl fail.
  await until(async () => (await trustStatus(adminConf)).nodes.find((n) => n.node === 'node-a' && n.inSync), 'node-a reports in sync', { timeoutMs: 30_000 }).catch((err: Error) => {
    throw new Error(`${err.message}; agent log: ${agent.log()}`);
  });
  const before = await curl();
  assert.notEqual(before.code, 0, 'curl must not trust the registry yet');
  assert.match(before.stderr, /certificate/i);
  const sBefore = await sClient();
  assert.notEqual(sBefore.code, 0, 'openssl s_client must fail verification');
  assert.match(sBefore.stdout + sBefore.stderr, /verify|unable to get local issuer/i);

  // kubectl apply of the Secret: trusted within 10 s.
  const applied = await cluster.kubectl(['apply', '-f', '-'], secretYaml({ 'ca1.crt': b64(registryCaPem) }));
  assert.equal(applied.code, 0, applied.stderr);
  const t0 = Date.now();
  await until(async () => (await curl()).code === 0 || undefined, 'curl trusts the registry', { timeoutMs: 10_000 });
  t.diagnostic(`trusted ${Date.now() - t0} ms after kubectl apply`);
  assert.equal((await curl()).stdout, 'registry ok\n');
  await inSync();
  const sAfter = await sClient();
  assert.equal(sAfter.code, 0, sAfter.stdout + sAfter.stderr);
  assert.equal(await readFile(ownBundle, 'utf8'), registryCaPem.replace(/\r?\n?$/, '\n'));
  const status = await trustStatus(adminConf);
  assert.equal(status.secret.certificates, 1);
  assert.deepEqual(status.nodes.map((n) => [n.node, n.inSync, n.certificates]), [['node-a', true, 1]]);
  const text = await kubepki(['trust', 'status', '--kubeconfig', adminConf]);
  assert.match(text.stdout, /^node-a\s+True\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+1\s/m);

  // Bad Secrets are refused by kubectl apply, naming the key; the node keeps what it has.
  const other = await opensslCa(pkiDir, 'other-ca', { subject: '/CN=other-ca', days: 30, keyUsage: 'critical,keyCertSign' });
  const otherPem = await readFile(other.certFile, 'utf8');
  const leaf = await issueLeaf(await makeCa(), { cn: 'just-a-server' });
  const eleven: Record<string, string> = {};
  for (let i = 1; i <= 11; i++) eleven[`ca${i}.crt`] = b64((await makeCa({ cn: `ca-${i}` })).certificate.pem);
  const bad: [string, Record<string, string>, RegExp][] = [
    ['11 certificates', eleven, /data: Invalid value: 11: holds 11 certificates; at most 10 are allowed in all/],
    ['a CRLF file', { 'ca1.crt': b64(registryCaPem), 'crlf.crt': b64(otherPem.replace(/\n/g, '\r\n')) }, /data\[crlf\.crt\]: Invalid value: "crlf\.crt": contains CR characters/],
    ['a non-CA certificate', { 'server.crt': b64(leaf.certificate.pem) }, /data\[server\.crt\]: Invalid value: "server\.crt": "just-a-server" is not a CA certificate/],
    ['broken base64', { 'broken.crt': b64(otherPem).slice(0, 50) }, /data\[broken\.crt\]: Invalid value: "broken\.crt": is not valid base64/],
    ['base64 twice', { 'twice.crt': b64(b64(otherPem)) }, /data\[twice\.crt\]: .*base64-encoded twice/],
  ];
  for (const [what, data, message] of bad) {
    const r = await cluster.kubectl(['apply', '-f', '-'], secretYaml(data));
    assert.notEqual(r.code, 0, `${what} must be refused`);
    assert.match(r.stderr, /The Secret "custom-ca-trust-secret" is invalid/, what);
    assert.match(r.stderr, message, what);
  }
  assert.equal((await curl()).code, 0, 'refused Secrets changed nothing on the node');

  // Removing the CA from the Secret (another CA instead): curl and openssl fail again.
  const replaced = await cluster.kubectl(['apply', '-f', '-'], secretYaml({ 'ca1.crt': b64(otherPem) }));
  assert.equal(replaced.code, 0, replaced.stderr);
  await until(async () => ((await curl()).code !== 0 ? true : undefined), 'curl no longer trusts the registry', { timeoutMs: 10_000 });
  assert.notEqual((await sClient()).code, 0);
  await inSync();
  assert.equal(await readFile(ownBundle, 'utf8'), otherPem);

  // Deleting the Secret removes the custom CAs; trust status shows the node in sync with "no Secret".
  const put = await cluster.kubectl(['apply', '-f', '-'], secretYaml({ 'ca1.crt': b64(registryCaPem) }));
  assert.equal(put.code, 0, put.stderr);
  await until(async () => ((await curl()).code === 0 ? true : undefined), 'trusted again', { timeoutMs: 10_000 });
  const del = await cluster.kubectl(['delete', 'secret', '-n', 'kube-system', 'custom-ca-trust-secret']);
  assert.equal(del.code, 0, del.stderr);
  await until(async () => ((await curl()).code !== 0 ? true : undefined), 'untrusted after the Secret is deleted', { timeoutMs: 10_000 });
  const afterDelete = await until(async () => {
    const s = await trustStatus(adminConf);
    return s.nodes.every((n) => n.inSync) ? s : undefined;
  }, 'node-a in sync with no Secret');
  assert.equal(await readFile(ownBundle, 'utf8'), '');
  assert.equal(afterDelete.secret.present, false);
  assert.deepEqual(afterDelete.nodes.map((n) => [n.node, n.certificates]), [['node-a', 0]]);

  // kubepki trust set writes the Secret from a seed-style file (blank-line separated) after the same checks.
  const seedFile = path.join(dir, 'cas.txt');
  await writeFile(seedFile, `${registryCaPem}\n${otherPem}`);
  const set = await kubepki(['trust', 'set', seedFile, '--kubeconfig', adminConf]);
  assert.equal(set.code, 0, set.stderr);
  await until(async () => ((await curl()).code === 0 ? true : undefined), 'trusted after trust set', { timeoutMs: 10_000 });
  await writeFile(seedFile, leaf.certificate.pem);
  const refused = await kubepki(['trust', 'set', seedFile, '--kubeconfig', adminConf]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /is not a CA certificate/);
  await agent.stop();
});

test('the agent refuses to start with a bad --custom-ca-trust-certificates file, and installs a good one before it bootstraps', async (t) => {
  const cluster = await startCluster(t);
  const dir = cluster.dir;
  const leaf = await issueLeaf(await makeCa(), { cn: 'not-a-ca' });
  const badFile = path.join(dir, 'bad.txt');
  await writeFile(badFile, leaf.certificate.pem.replace(/\n/g, '\r\n'));
  const common = ['--kubeconfig', path.join(dir, 'kubelet.conf'), '--cert-dir', path.join(dir, 'pki-node'), '--node-name', 'node-f', '--healthz-port', '0', '--enable-custom-ca-trust', '--custom-ca-trust-dir', path.join(dir, 'trust'), '--custom-ca-trust-update-command', ''];
  const bad = await kubepki(['agent', '--bootstrap-kubeconfig', cluster.bootstrap, ...common, '--custom-ca-trust-certificates', badFile]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--custom-ca-trust-certificates .*contains CR characters/);
  // A good file: the CAs are on disk before the bootstrap starts (a node may need them to reach its API
  // server through a proxy).
  const [a, b] = await Promise.all([makeCa({ cn: 'proxy-ca' }), makeCa({ cn: 'firewall-ca' })]);
  const goodFile = path.join(dir, 'good.txt');
  await writeFile(goodFile, `${a.certificate.pem}\n${b.certificate.pem}`);
  const agent = startAgentProcess(t, ['--bootstrap-kubeconfig', cluster.bootstrap, ...common, '--custom-ca-trust-certificates', goodFile]);
  await agent.waitForLog(/installed the custom CA certificates of --custom-ca-trust-certificates/);
  assert.deepEqual(
    [await readFile(path.join(dir, 'trust', 'kubepki', 'node-file.crt'), 'utf8'), await readFile(path.join(dir, 'trust', 'kubepki', 'node-file-2.crt'), 'utf8')],
    [a.certificate.pem, b.certificate.pem],
  );
  // After bootstrap the Secret's CAs are added next to the file's.
  const c = await makeCa({ cn: 'registry-ca' });
  assert.equal((await cluster.kubectl(['apply', '-f', '-'], secretYaml({ 'ca1.crt': b64(c.certificate.pem) }))).code, 0);
  await until(async () => {
    const s = await trustStatus(path.join(cluster.dataDir, 'admin.conf'));
    return s.nodes.find((n) => n.node === 'node-f' && n.inSync && n.certificates === 3);
  }, 'node-f applied file + Secret', { timeoutMs: 30_000 });
  assert.equal(await readFile(path.join(dir, 'trust', 'kubepki', 'ca1.crt'), 'utf8'), c.certificate.pem);
});

const FLEET = 50;

test(`${FLEET} agents at once: every node applies a change of the Secret within 10 s`, async (t) => {
  const cluster = await startCluster(t);
  const dir = cluster.dir;
  const agents = Array.from({ length: FLEET }, (_, i) => {
    const node = path.join(dir, 'nodes', `n${i}`);
    return new NodeAgent({
      bootstrapKubeconfig: cluster.bootstrap,
      kubeconfig: path.join(node, 'kubelet.conf'),
      certDir: path.join(node, 'pki'),
      nodeName: `fleet-${i}`,
      caSyncIntervalMs: 0,
      customCaTrust: { store: new CustomCaTrustStore({ dir: path.join(node, 'trust'), updateCommand: 'true', bundleFile: path.join(node, 'bundle.pem') }), resyncMs: 30_000 },
    });
  });
  t.after(() => Promise.all(agents.map((a) => a.stop())).then(() => undefined));
  await Promise.all(agents.map((a) => a.start()));
  // Every node has reported its first state (no Secret yet) before the change is made.
  await until(async () => {
    const s = await trustStatus(path.join(cluster.dataDir, 'admin.conf'));
    return (s.nodes.length === FLEET && s.nodes.every((n) => n.inSync)) || undefined;
  }, 'every node reports its initial state', { timeoutMs: 60_000 });
  const ca = await makeCa({ cn: 'fleet-registry-ca' });
  const r = await cluster.kubectl(['apply', '-f', '-'], secretYaml({ 'ca1.crt': b64(ca.certificate.pem) }));
  assert.equal(r.code, 0, r.stderr);
  const t0 = Date.now();
  const bundles = agents.map((_, i) => path.join(dir, 'nodes', `n${i}`, 'bundle.pem'));
  await until(async () => {
    const texts = await Promise.all(bundles.map((f) => readFile(f, 'utf8').catch(() => '')));
    return texts.every((x) => x === ca.certificate.pem) || undefined;
  }, `all ${FLEET} nodes installed the CA`, { timeoutMs: 10_000 }).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(agents.map((a) => a.customCaTrust!.status()).filter((s) => s.error || s.appliedCertificates !== 1).slice(0, 3))}`);
  });
  const elapsed = Date.now() - t0;
  t.diagnostic(`${FLEET} nodes applied the Secret in ${elapsed} ms`);
  assert.ok(elapsed < 10_000);
  const status = await until(async () => {
    const s = await trustStatus(path.join(cluster.dataDir, 'admin.conf'));
    return s.nodes.length === FLEET && s.nodes.every((n) => n.inSync) ? s : undefined;
  }, 'trust status shows every node in sync', { timeoutMs: 10_000 });
  assert.equal(status.secret.certificates, 1);
  const metrics = await agents[0]!.metrics.registry.metrics();
  assert.match(metrics, /kubepki_agent_custom_ca_trust_in_sync 1/);
  assert.match(metrics, /kubepki_agent_custom_ca_trust_apply_total\{result="success"\} [1-9]/);
});
