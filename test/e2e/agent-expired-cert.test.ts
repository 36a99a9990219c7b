// `kubepki agent` whose client certificate expires while its renewal request is still pending (issue 11
// item 10): the kubelet then re-bootstraps with --bootstrap-kubeconfig; the agent must not keep reading its
// request with the expired certificate (401 after 401) but request a new certificate with the bootstrap token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kubectlWith, startServe } from '../api/helpers.js';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { createBootstrapToken, startAgentProcess, writeBootstrapKubeconfig } from '../agent/processes.js';
import { until } from '../helpers/poll.js';

interface Csr {
  name: string;
  user: string;
  approved: boolean;
}

async function csrs(admin: ReturnType<typeof kubectlWith>): Promise<Csr[]> {
  const r = await admin(['get', 'csr', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { username: string }; status?: { conditions?: { type: string }[] } }[] };
  return list.items.map((i) => ({ name: i.metadata.name, user: i.spec.username, approved: (i.status?.conditions ?? []).some((c) => c.type === 'Approved') }));
}


test('a client certificate that expires while its renewal CSR is pending is replaced through the bootstrap token', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-agent-expired-');
  const dataDir = path.join(dir, 'data');
  // No approver: every request waits for `kubectl certificate approve`, so the renewal stays pending.
  const serve = await startServe(t, ['--cluster-signing-duration', '15s', '--controllers', '*,-csrapproving'], { dataDir, port: await freePort() });
  const token = await createBootstrapToken(serve.kubeconfig);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile: path.join(dataDir, 'pki', 'ca.crt'), token });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const kubeconfig = path.join(dir, 'node.conf');
  const agent = startAgentProcess(t, [
    '--bootstrap-kubeconfig', bootstrap, '--kubeconfig', kubeconfig, '--cert-dir', path.join(dir, 'pki'),
    '--node-name', 'node-exp', '--healthz-port', '0', '--rotate-certificates',
  ]);

  const first = await until(async () => (await csrs(admin)).find((c) => c.user.startsWith('system:bootstrap:')), 'the bootstrap CSR', { timeoutMs: 30_000, intervalMs: 200 });
  assert.equal((await admin(['certificate', 'approve', first.name])).code, 0);
  await agent.waitForLog(/the node has a usable client certificate/);
  // The certificate lives 15 s (backdated 5 min), so the renewal is requested at once, as the node; it stays pending.
  const renewal = await until(async () => (await csrs(admin)).find((c) => c.user === 'system:node:node-exp'), 'the renewal CSR', { timeoutMs: 15_000, intervalMs: 200 });
  assert.equal(renewal.approved, false);

  // Once the certificate has expired, the agent asks again with the bootstrap token: a second node-csr-.
  const second = await until(
    async () => (await csrs(admin)).find((c) => c.user.startsWith('system:bootstrap:') && c.name !== first.name),
    'a new request made with the bootstrap token after the certificate expired',
    { timeoutMs: 45_000, intervalMs: 200 },
  );
  assert.match(second.name, /^node-csr-/);
  assert.equal((await admin(['certificate', 'approve', second.name])).code, 0);
  await agent.waitForLog(/"bootstrap":true[\s\S]*"bootstrap":true[\s\S]*new certificate stored and in use/, 20_000);
  assert.match(agent.log(), /"reason":"expired"[^\n]*while its renewal request csr-/);
  const who = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'kc2'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
  assert.equal(who.stdout, 'system:node:node-exp', who.stderr);
});
