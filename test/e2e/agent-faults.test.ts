// `kubepki agent` when things go wrong (issue 6 item 6): the API server killed and restarted while the
// bootstrap CSR is pending, the API server down when the agent starts, and a denied CSR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kubectlWith, startServe } from '../api/helpers.js';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { createBootstrapToken, startAgentProcess, writeBootstrapKubeconfig } from '../agent/processes.js';
import { until } from '../helpers/poll.js';

const APPROVER_OFF = ['--controllers', '*,-csrapproving'];

async function setup(t: { after: (fn: () => Promise<void>) => void }, serveArgs: string[]) {
  const dir = await tempDir(t, 'kubepki-e2e-agent-faults-');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const serve = await startServe(t, serveArgs, { dataDir, port });
  const token = await createBootstrapToken(serve.kubeconfig);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile: path.join(dataDir, 'pki', 'ca.crt'), token });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const agentArgs = (node: string) => ['--bootstrap-kubeconfig', bootstrap, '--kubeconfig', path.join(dir, `${node}.conf`), '--cert-dir', path.join(dir, node), '--node-name', node, '--healthz-port', '0'];
  return { dir, dataDir, port, serve, admin, agentArgs };
}

async function csrNames(admin: ReturnType<typeof kubectlWith>): Promise<string[]> {
  const r = await admin(['get', 'csr', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}


test('the API server killed and restarted while the bootstrap CSR is pending: the agent finishes with the same request', async (t) => {
  const s = await setup(t, APPROVER_OFF);
  const agent = startAgentProcess(t, s.agentArgs('node-restart'));
  await agent.waitForLog(/certificate signing request created; waiting/);
  const before = await csrNames(s.admin);
  assert.equal(before.length, 1);
  await s.serve.stop();
  await agent.waitForLog(/(watch failed|cannot read the certificate signing request)/);
  // Back on the same data and port, now with the approver: the pending request is approved and signed.
  await startServe(t, [], { dataDir: s.dataDir, port: s.port });
  await agent.waitForLog(/the node has a usable client certificate/);
  assert.deepEqual(await csrNames(s.admin), before, 'no second request: the agent kept waiting for its own');
  const who = await run('kubectl', ['--kubeconfig', path.join(s.dir, 'node-restart.conf'), '--cache-dir', path.join(s.dir, 'kc2'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  assert.equal(who.stdout, 'system:node:node-restart', who.stderr);
});

test('the API server down when the agent starts: it retries, says why, and bootstraps once the server is back', async (t) => {
  const s = await setup(t, []);
  await s.serve.stop();
  const agent = startAgentProcess(t, s.agentArgs('node-late'));
  await agent.waitForLog(/ECONNREFUSED/);
  await agent.waitForLog(/will retry the certificate request/);
  await startServe(t, [], { dataDir: s.dataDir, port: s.port });
  await agent.waitForLog(/the node has a usable client certificate/);
});

test('a denied CSR is reported, does not crash the agent, and a new request is made and can be approved', async (t) => {
  const s = await setup(t, APPROVER_OFF);
  const agent = startAgentProcess(t, s.agentArgs('node-denied'));
  const first = await until(async () => (await csrNames(s.admin))[0], 'the first CSR', { intervalMs: 100 });
  const deny = await s.admin(['certificate', 'deny', first]);
  assert.equal(deny.code, 0, deny.stderr);
  await agent.waitForLog(new RegExp(`${first} was denied`));
  const second = await until(async () => (await csrNames(s.admin)).find((n) => n !== first), 'a new CSR', { timeoutMs: 30_000, intervalMs: 100 });
  assert.notEqual(second, first);
  assert.equal(agent.child.exitCode, null, 'still running');
  const approve = await s.admin(['certificate', 'approve', second]);
  assert.equal(approve.code, 0, approve.stderr);
  await agent.waitForLog(/the node has a usable client certificate/);
});

test('a client certificate that expires because renewal is refused is replaced through the bootstrap token', async (t) => {
  // RBAC alone (no Node authorizer) lets nodes create no CSRs, so every renewal made with the node
  // certificate is refused; once it expires the agent falls back to the bootstrap token.
  const s = await setup(t, ['--cluster-signing-duration', '8s', '--authorization-mode', 'RBAC']);
  const agent = startAgentProcess(t, [...s.agentArgs('node-expiring'), '--rotate-certificates']);
  await agent.waitForLog(/the node has a usable client certificate/);
  await agent.waitForLog(/rotating the certificate[\s\S]*HTTP 403/);
  await agent.waitForLog(/"bootstrap":true[\s\S]*"bootstrap":true/, 40_000);
  await agent.waitForLog(/"bootstrap":true[\s\S]*"bootstrap":true[\s\S]*new certificate stored and in use/, 20_000);
  const who = await run('kubectl', ['--kubeconfig', path.join(s.dir, 'node-expiring.conf'), '--cache-dir', path.join(s.dir, 'kc3'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  assert.equal(who.stdout, 'system:node:node-expiring', who.stderr);
});
