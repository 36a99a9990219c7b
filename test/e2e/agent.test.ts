// `kubepki agent` against `kubepki serve` (API server + approver + signer in-process) on loopback, judged by
// the real kubectl and openssl: TLS bootstrap with a bootstrap token (seed 004), the kubelet's files in
// --cert-dir (seed 002), rotation with a short --cluster-signing-duration (seed 000), the serving certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { parsePair } from '../../src/agent/cert-store.js';
import { keyMatchesPublicKey } from '../../src/x509/index.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { createBootstrapToken, pemPath, startAgentProcess, writeBootstrapKubeconfig } from '../agent/processes.js';

test('kubepki agent bootstraps with a token, rotates without an invalid moment, and gets a serving certificate', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-agent-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(t, ['--cluster-signing-duration', '20s', '--kubelet-serving-approve-cidrs', '127.0.0.0/8'], { dataDir, port: await freePort() });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const caFile = path.join(dataDir, 'pki', 'ca.crt');
  const token = await createBootstrapToken(serve.kubeconfig);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile, token });
  const certDir = path.join(dir, 'pki');
  const kubeconfig = path.join(dir, 'kubelet.conf');
  const healthz = await freePort();
  const agent = startAgentProcess(t, [
    '--bootstrap-kubeconfig', bootstrap,
    '--kubeconfig', kubeconfig,
    '--cert-dir', certDir,
    '--node-name', 'node-e2e-1',
    '--hostname-override', 'node-e2e-1',
    '--node-ip', '127.0.0.1',
    '--rotate-certificates',
    '--rotate-server-certificates',
    '--healthz-port', String(healthz),
  ]);
  await agent.waitForLog(/the node has a usable client certificate/);

  await t.test('the pair file is 0600, the symlink points at it, and the kubeconfig refers to the symlink', async () => {
    const names = await readdir(certDir);
    const pairs = names.filter((n) => /^kubelet-client-\d{4}(-\d{2}){5}\.pem$/.test(n));
    assert.ok(pairs.length >= 1, names.join(' '));
    for (const p of pairs) assert.equal((await stat(path.join(certDir, p))).mode & 0o777, 0o600);
    const link = pemPath(certDir);
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.match(await readlink(link), new RegExp(`^${certDir.replace(/[.]/g, '\\.')}/kubelet-client-\\d{4}(-\\d{2}){5}\\.pem$`));
    assert.equal((await stat(kubeconfig)).mode & 0o777, 0o600);
    const view = await run('kubectl', ['config', 'view', `--kubeconfig=${kubeconfig}`, '-o', 'jsonpath={.users[0].user.client-certificate} {.users[0].user.client-key}']);
    assert.equal(view.stdout, `${link} ${link}`);
  });

  await t.test('openssl verifies the current certificate for client auth against the cluster CA', async () => {
    const v = await run('openssl', ['verify', '-purpose', 'sslclient', '-CAfile', caFile, pemPath(certDir)]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const s = await run('openssl', ['x509', '-in', pemPath(certDir), '-noout', '-subject']);
    assert.match(s.stdout, /O ?= ?system:nodes, CN ?= ?system:node:node-e2e-1/);
  });

  await t.test('kubectl auth whoami with the written kubeconfig is system:node:node-e2e-1 in system:nodes', async () => {
    const r = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'kcache-node'), 'auth', 'whoami', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const who = JSON.parse(r.stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(who.status.userInfo.username, 'system:node:node-e2e-1');
    assert.ok(who.status.userInfo.groups.includes('system:nodes'));
  });

  await t.test('the bootstrap CSR came from the bootstrap token and was approved and issued', async () => {
    const r = await admin(['get', 'csr', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: { username: string; signerName: string }; status: { conditions?: { type: string }[]; certificate?: string } }[] }).items;
    const boot = items.find((i) => i.metadata.name.startsWith('node-csr-'));
    assert.ok(boot, 'a node-csr-* request');
    assert.equal(boot.spec.username, `system:bootstrap:${token.split('.')[0]}`);
    assert.equal(boot.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.ok(boot.status.conditions?.some((c) => c.type === 'Approved'));
    assert.ok(boot.status.certificate);
  });

  await t.test('rotation replaces the certificate and every read of the current file is a valid pair', async () => {
    // Renewals are CSRs the node creates as itself (allowed by the Node authorizer, approved as selfnodeclient).
  // --cluster-signing-duration 20s with the signer's 5-minute backdate puts 70–90 % of the lifetime in the
    // past, so the agent rotates as often as it may (once a second), as the kubelet would.
    const link = pemPath(certDir);
    const serials = new Set<string>();
    const end = Date.now() + 4000;
    let reads = 0;
    while (Date.now() < end) {
      const pair = parsePair(await readFile(link, 'utf8'), link);
      assert.ok(keyMatchesPublicKey(pair.privateKey, pair.certificate.publicKey), 'key and certificate always match');
      assert.ok(pair.certificate.notAfter.getTime() > Date.now(), 'never an expired certificate');
      serials.add(pair.certificate.serialNumber);
      reads++;
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.ok(serials.size >= 2, `rotated (saw ${serials.size} certificates in ${reads} reads)`);
    const r = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, 'kcache-node'), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(r.stdout, 'system:node:node-e2e-1');
    const csrs = await admin(['get', 'csr', '-o', 'jsonpath={range .items[*]}{.spec.username}{"\\n"}{end}']);
    assert.ok(csrs.stdout.split('\n').includes('system:node:node-e2e-1'), 'rotations authenticate with the node certificate (selfnodeclient)');
  });

  await t.test('the serving certificate is from kubelet-serving, for the node name and IP, 0600, behind its own symlink', async () => {
    const link = pemPath(certDir, 'kubelet-server');
    const end = Date.now() + 15_000;
    while (Date.now() < end) {
      try {
        await stat(link);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const v = await run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', caFile, link]);
    assert.equal(v.code, 0, v.stdout + v.stderr + agent.log());
    const text = await run('openssl', ['x509', '-in', link, '-noout', '-ext', 'subjectAltName']);
    assert.match(text.stdout, /DNS:node-e2e-1, IP Address:127\.0\.0\.1/);
    assert.equal((await stat(await readlink(link))).mode & 0o777, 0o600);
  });

  await t.test('/healthz is ok and /metrics counts rotations and the time left', async () => {
    const h = await fetch(`http://127.0.0.1:${healthz}/healthz`);
    assert.equal(h.status, 200);
    const m = await (await fetch(`http://127.0.0.1:${healthz}/metrics`)).text();
    assert.match(m, /kubepki_agent_certificate_rotations_total\{certificate="client"\} ([2-9]|\d{2,})/);
    assert.match(m, /kubepki_agent_certificate_expiration_seconds\{certificate="client"\} \d/);
    assert.match(m, /kubepki_agent_certificate_expiration_seconds\{certificate="serving"\} \d/);
  });

  assert.equal(await agent.stop(), 0, 'the agent stops cleanly on SIGTERM');
});
