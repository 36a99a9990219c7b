// `kubepki controllers --kubeconfig controller-manager.conf` as separate processes against `kubepki serve
// --in-process-controllers=false`: two replicas, one Lease; only the holder acts; when it dies without
// releasing the lease the other takes over after the lease duration, and when it stops cleanly at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { CLI_ENTRY } from '../helpers/cli.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { createToken, csrManifest, csrWatcher, nodeCsr, userKubeconfig } from './controllers-helpers.js';
import { until } from '../helpers/poll.js';

interface Replica {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startReplica(t: { after: (fn: () => Promise<void>) => void }, kubeconfig: string, pki: string): Replica {
  const child = spawn(
    process.execPath,
    [CLI_ENTRY, 'controllers', '--kubeconfig', kubeconfig, '--cluster-signing-cert-file', path.join(pki, 'ca.crt'), '--cluster-signing-key-file', path.join(pki, 'ca.key'), '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms', '--log-level', 'info', '--metrics-bind-address', '127.0.0.1:0'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stderr: () => err, exited };
}

test('two controller replicas share one Lease: only the holder acts, and the other takes over', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-leader-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(t, ['--in-process-controllers', 'false'], { dataDir, port: await freePort() });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const holder = async () => {
    const r = await admin(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}/{.spec.leaseTransitions}']);
    return r.code === 0 ? r.stdout : '';
  };
  const watcher = csrWatcher(serve.kubeconfig);
  await watcher.start();
  t.after(() => watcher.stop());
  const token = await createToken(serve.kubeconfig);
  const bootstrap = kubectlWith(await userKubeconfig(serve.kubeconfig, dir, 'bootstrap', { token }), path.join(dir, 'kcache-boot'));
  const submit = async (name: string) => {
    const { b64 } = await nodeCsr(dir, name, `/O=system:nodes/CN=system:node:${name}`);
    const r = await bootstrap(['create', '-f', '-'], csrManifest(name, b64, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
    assert.equal(r.code, 0, r.stderr);
  };

  await t.test('without controllers a bootstrap CSR stays Pending', async () => {
    await submit('node-a');
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(watcher.get('node-a')?.status?.conditions, undefined);
  });

  const conf = path.join(dataDir, 'controller-manager.conf');
  const a = startReplica(t, conf, path.join(dataDir, 'pki'));
  let b: Replica | undefined;

  await t.test('the first replica takes the Lease and issues the waiting CSR', async () => {
    await watcher.waitFor('node-a', (c) => Boolean(c.status?.certificate), 30_000);
    const h = await holder();
    assert.match(h, /^\S+_[0-9a-f-]{36}\/0$/);
    const metricsUrl = /metrics on (http:\/\/\S+)/.exec(a.stderr())![1]!;
    const metrics = await (await fetch(metricsUrl)).text();
    assert.match(metrics, /kubepki_csr_signed_total\{signer_name="kubernetes.io\/kube-apiserver-client-kubelet"\} 1/);
    assert.match(metrics, /kubepki_csr_approved_total\{recognizer="nodeclient"\} 1/);
    b = startReplica(t, conf, path.join(dataDir, 'pki'));
    await until(() => /running against https:/.test(b!.stderr()), 'the second replica to run', { timeoutMs: 60_000, intervalMs: 50 }).catch(() => undefined);
    assert.match(b.stderr(), /running against https:/);
    await new Promise((r) => setTimeout(r, 1500)); // three retry periods of the second replica
    assert.equal(await holder(), h, 'the second replica does not take a renewed lease');
  });

  await t.test('killed without releasing, the leader is replaced after the lease duration', async () => {
    const before = await holder();
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    await submit('node-b');
    await watcher.waitFor('node-b', (c) => Boolean(c.status?.certificate), 30_000);
    const after = await holder();
    assert.notEqual(after.split('/')[0], before.split('/')[0]);
    assert.ok(after.endsWith('/1'), `one transition: ${after}`);
    assert.ok(Date.now() - killedAt >= 2500, 'not before the old lease could have expired');
  });

  await t.test('stopped cleanly, the leader releases the Lease', async () => {
    b!.child.kill('SIGTERM');
    assert.equal(await b!.exited, 0);
    assert.match(await holder(), /^\/1$/);
  });
});
