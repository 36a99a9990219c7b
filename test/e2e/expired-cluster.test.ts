// Recovering a cluster whose every leaf certificate expired (the CA still valid): kubectl fails with Go's
// "certificate has expired" text (as doctor predicts), `kubepki certs renew all` renews everything serve needs,
// serve starts and kubectl works, and a node whose client certificate expired re-bootstraps with its
// bootstrap token. The expired PKI is made by the x509 core with an injected clock (400 days ago).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initClusterPki } from '../../src/cluster/init.js';
import { FakeClock } from '../../src/util/clock.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { generateKeyPair, issueCertificate, parseCertificatesPem, parsePrivateKeyPem, parseUsages, privateKeyToPem } from '../../src/x509/index.js';
import { NodeAgent } from '../../src/agent/agent.js';
import { parsePair } from '../../src/agent/cert-store.js';
import { writeNodeKubeconfig } from '../../src/agent/kubeconfig.js';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { createBootstrapToken, writeBootstrapKubeconfig } from '../agent/processes.js';
import type { Finding } from '../../src/cluster/doctor/checks.js';

const DAY = 86400_000;

test('an expired cluster: renew all, serve starts, kubectl works, the node re-bootstraps', async (t) => {
  const dir = await tempDir(t, 'kubepki-expired-');
  const dataDir = path.join(dir, 'data');
  const pki = path.join(dataDir, 'pki');
  const past = new Date(Date.now() - 400 * DAY);
  const port = await freePort();
  const config = resolveClusterConfig({ bindPort: port, advertiseAddress: '127.0.0.1', nodeName: 'cp-0', encryptionAlgorithm: 'ECDSA-P256', apiServerCertSANs: ['127.0.0.1', 'localhost'] });
  await initClusterPki({ certDir: pki, kubeconfigDir: dataDir, config, clock: new FakeClock(past) });
  const apiserverBefore = parseCertificatesPem(await readFile(path.join(pki, 'apiserver.crt'), 'utf8'))[0]!;
  assert.ok(apiserverBefore.notAfter.getTime() < Date.now(), 'the leaves have expired');

  // The node: its client certificate expired with the rest.
  const nodeDir = path.join(dir, 'node');
  await mkdir(path.join(nodeDir, 'pki'), { recursive: true });
  const ca = { certificate: parseCertificatesPem(await readFile(path.join(pki, 'ca.crt'), 'utf8'))[0]!, privateKey: parsePrivateKeyPem(await readFile(path.join(pki, 'ca.key'), 'utf8')) };
  const kp = await generateKeyPair('ECDSA-P256');
  const oldNode = await issueCertificate({
    template: { subject: { commonName: 'system:node:node-1', organization: ['system:nodes'] }, notBefore: past, notAfter: new Date(past.getTime() + 365 * DAY), ...parseUsages(['digital signature', 'client auth']) },
    publicKey: kp.publicKey,
    issuer: ca,
  });
  const oldPem = path.join(nodeDir, 'pki', 'kubelet-client-2025-01-01-00-00-00.pem');
  await writeFile(oldPem, oldNode.pem + privateKeyToPem(kp.privateKey), { mode: 0o600 });
  const currentPem = path.join(nodeDir, 'pki', 'kubelet-client-current.pem');
  await symlink(oldPem, currentPem);

  // Broken: kubectl prints Go's expiry error, the one doctor reports for apiserver.crt.
  const doctor = async () => {
    const r = await kubepki(['doctor', '--cert-dir', pki, '--kubeconfig-dir', dataDir, '--kubelet-cert-dir', path.join(nodeDir, 'pki'), '-o', 'json']);
    return { code: r.code, findings: (JSON.parse(r.stdout) as { findings: Finding[] }).findings };
  };
  const before = await doctor();
  assert.equal(before.code, 2);
  const serving = before.findings.find((f) => f.check === 'serving-certificate' && f.file === path.join(pki, 'apiserver.crt'))!;
  assert.match(serving.message, /^x509: certificate has expired or is not yet valid: current time \S+ is after /);
  let serve = await startServe(t, [], { dataDir, port });
  const kubectl = kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'));
  const broken = await kubectl(['--server', serve.url, 'get', '--raw', '/version']);
  assert.notEqual(broken.code, 0);
  // The same text but for the current time, which moved on between the two checks.
  const expiredAt = ` is after ${apiserverBefore.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;
  assert.ok(serving.message.endsWith(expiredAt), serving.message);
  assert.match(broken.stderr, new RegExp(`tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time \\S+${expiredAt}`));
  await serve.stop();

  // Renew everything, then serve and kubectl work again.
  const renew = await kubepki(['certs', 'renew', 'all', '--cert-dir', pki, '--kubeconfig-dir', dataDir]);
  assert.equal(renew.code, 0, renew.stderr);
  const after = await doctor();
  // What is left is the kubelet's: kubelet.conf and the node's pair are the kubelet's to re-bootstrap.
  assert.deepEqual([...new Set(after.findings.map((f) => path.basename(f.file)))].sort(), ['kubelet-client-current.pem', 'kubelet.conf']);
  serve = await startServe(t, [], { dataDir, port });
  const ok = await kubectl(['--server', serve.url, 'get', '--raw', '/version']);
  assert.equal(ok.code, 0, ok.stderr);

  // The node: doctor's fix (restart the agent with a bootstrap token) re-bootstraps: its kubelet.conf still
  // points at the expired pair, which the agent finds unusable.
  const token = await createBootstrapToken(path.join(dataDir, 'admin.conf'));
  const bootstrap = path.join(nodeDir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile: path.join(pki, 'ca.crt'), token });
  await writeNodeKubeconfig(path.join(nodeDir, 'kubelet.conf'), { cluster: { server: serve.url, caPem: ca.certificate.pem }, pemPath: currentPem });
  const fix = after.findings.find((f) => f.file === currentPem)!;
  assert.match(fix.fix, /re-bootstraps/);
  const agent = new NodeAgent({ kubeconfig: path.join(nodeDir, 'kubelet.conf'), bootstrapKubeconfig: bootstrap, certDir: path.join(nodeDir, 'pki'), nodeName: 'node-1', backoff: { initialMs: 50, capMs: 200 }, pollIntervalMs: 50 });
  t.after(() => agent.stop());
  await agent.start();
  const pair = parsePair(await readFile(currentPem, 'utf8'), currentPem);
  assert.equal(pair.certificate.subject.commonName, 'system:node:node-1');
  assert.notEqual(pair.certificate.serialNumber, oldNode.serialNumber, 'a new certificate, through the bootstrap token');
  assert.ok(pair.certificate.notAfter.getTime() > Date.now() + 30 * DAY, 'a fresh certificate');
  const healed = await doctor();
  assert.deepEqual(healed.findings.filter((f) => f.file === currentPem), []);
});
