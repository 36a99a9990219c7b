// The housekeeping controllers inside `kubepki serve`, with short configured durations, seen through the real
// kubectl: the CSR cleaner, the kube-root-ca.crt publisher, the bootstrap signer (its JWS verified with jose,
// independently of kubepki) and the token cleaner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compactVerify } from 'jose';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { until } from '../helpers/poll.js';
import { createToken, csrManifest, csrWatcher, nodeCsr, userKubeconfig } from './controllers-helpers.js';

// Every probe here runs kubectl: poll gently, and let the timeout only bound a hang.
const eventually = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => until(fn, what, { timeoutMs, intervalMs: 100 });

test('housekeeping controllers with short durations', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-housekeeping-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(
    t,
    [
      '--csr-cleaner-approved-after', '2s', '--csr-cleaner-denied-after', '1s', '--csr-cleaner-failed-after', '1s', '--csr-cleaner-pending-after', '30s',
      '--cluster-signing-duration', '40s',
      '--kubelet-serving-approve-cidrs', '10.0.0.0/8', '--kubelet-serving-approve-dns-suffixes', 'cluster.internal',
      // info: the approver's "left Pending" line is the proof that it looked at a request and declined it.
      '--log-level', 'info',
    ],
    { dataDir, port: await freePort() },
  );
  const kubectl = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const exists = async (args: string[]) => (await kubectl(['get', ...args])).code === 0;
  const ca = await readFile(path.join(dataDir, 'pki', 'ca.crt'), 'utf8');

  await t.test('the cleaner removes denied, approved-and-issued and pending CSRs after their configured times', async () => {
    // The verdict is the order, not a stopwatch: denied (1 s) and approved (2 s) ones go while the pending one
    // (30 s — long against the kubectl calls in between, even on a machine ten times slower) is still there.
    // The controllers start after the server listens (a worker thread, informers synced); on a busy machine
    // that takes seconds, and a CSR approved before they run is past the 2 s cleaner deadline when the signer
    // first sees it. The root-CA publisher's ConfigMap proves they run.
    await eventually('controllers running', async () => ((await exists(['configmap', 'kube-root-ca.crt', '-n', 'default'])) ? true : undefined), 60_000);
    // Issuance is seen on a watch: with a 2 s approved deadline a poll could miss the short-lived Issued state.
    const watcher = csrWatcher(serve.kubeconfig);
    await watcher.start();
    t.after(() => watcher.stop());
    const a = await nodeCsr(dir, 'a', '/CN=jane/O=dev');
    for (const name of ['to-deny', 'to-approve', 'left-pending']) {
      await ok(['create', '-f', '-'], csrManifest(name, a.b64, 'kubernetes.io/kube-apiserver-client', ['client auth'], '  expirationSeconds: 600'));
    }
    await ok(['certificate', 'deny', 'to-deny']);
    await ok(['certificate', 'approve', 'to-approve']);
    const issued = await watcher.waitFor('to-approve', (c) => Boolean(c.status?.certificate), 60_000);
    assert.deepEqual(issued.status?.conditions?.map((c) => c.type), ['Approved']);
    await eventually('denied CSR deleted', async () => ((await exists(['csr', 'to-deny'])) ? undefined : true));
    await eventually('approved CSR deleted', async () => ((await exists(['csr', 'to-approve'])) ? undefined : true));
    assert.ok(await exists(['csr', 'left-pending']), 'the pending one lives longer');
    await eventually('pending CSR deleted', async () => ((await exists(['csr', 'left-pending'])) ? undefined : true), 120_000);
  });

  await t.test('--cluster-signing-duration=40s gives a 40-second certificate, backdated 5 minutes', async () => {
    const a = await nodeCsr(dir, 'b', '/CN=short/O=dev');
    await ok(['create', '-f', '-'], csrManifest('short-lived', a.b64, 'kubernetes.io/kube-apiserver-client', ['client auth']));
    await ok(['certificate', 'approve', 'short-lived']);
    const pem = await eventually('certificate', async () => {
      const b64 = await ok(['get', 'csr', 'short-lived', '-o', 'jsonpath={.status.certificate}']);
      return b64 ? Buffer.from(b64, 'base64').toString() : undefined;
    });
    const { X509Certificate } = await import('node:crypto');
    const cert = new X509Certificate(pem);
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    assert.equal(lifetime, 40_000 + 5 * 60_000);
  });

  await t.test('kube-root-ca.crt is in every namespace, appears in new ones, and is put back when deleted or edited', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      assert.equal((await ok(['get', 'configmap', 'kube-root-ca.crt', '-n', ns, '-o', 'jsonpath={.data.ca\\.crt}'])).trimEnd(), ca.trimEnd());
    }
    await ok(['create', 'namespace', 'team-a']);
    await eventually('published in team-a', async () => ((await exists(['configmap', 'kube-root-ca.crt', '-n', 'team-a'])) ? true : undefined));
    const annotation = await ok(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '-o', 'jsonpath={.metadata.annotations.kubernetes\\.io/description}']);
    assert.match(annotation, /Contains a CA bundle that can be used to verify the kube-apiserver/);
    await ok(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'team-a']);
    await eventually('recreated', async () => ((await exists(['configmap', 'kube-root-ca.crt', '-n', 'team-a'])) ? true : undefined));
    await ok(['patch', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '--type', 'merge', '-p', '{"data":{"ca.crt":"tampered"}}']);
    await eventually('repaired', async () => ((await ok(['get', 'configmap', 'kube-root-ca.crt', '-n', 'team-a', '-o', 'jsonpath={.data.ca\\.crt}'])).trimEnd() === ca.trimEnd() ? true : undefined));
  });

  await t.test('cluster-info carries a JWS per signing token that verifies independently, and loses it with the token', async () => {
    const token = await createToken(serve.kubeconfig);
    const [id, secret] = token.split('.') as [string, string];
    const jws = await eventually('signature', async () => {
      const v = await ok(['get', 'configmap', 'cluster-info', '-n', 'kube-public', '-o', `jsonpath={.data.jws-kubeconfig-${id}}`]);
      return v || undefined;
    });
    const kubeconfig = await ok(['get', 'configmap', 'cluster-info', '-n', 'kube-public', '-o', 'jsonpath={.data.kubeconfig}']);
    assert.match(kubeconfig, /certificate-authority-data: /);
    assert.equal(Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig)![1]!, 'base64').toString(), ca);
    const [header, empty, signature] = jws.split('.');
    assert.equal(empty, '');
    const { payload, protectedHeader } = await compactVerify(`${header}.${Buffer.from(kubeconfig).toString('base64url')}.${signature}`, new TextEncoder().encode(secret));
    assert.equal(new TextDecoder().decode(payload), kubeconfig);
    assert.deepEqual(protectedHeader, { alg: 'HS256', kid: id });
    await ok(['delete', 'secret', '-n', 'kube-system', `bootstrap-token-${id}`]);
    await eventually('signature removed', async () => {
      const v = await ok(['get', 'configmap', 'cluster-info', '-n', 'kube-public', '-o', `jsonpath={.data.jws-kubeconfig-${id}}`]);
      return v === '' ? true : undefined;
    });
  });

  await t.test('opt-in kubelet serving approval: a node\'s own names in the allow-list are approved, others stay Pending', async () => {
    const token = await createToken(serve.kubeconfig);
    const bootstrap = kubectlWith(await userKubeconfig(serve.kubeconfig, dir, 'boot', { token }), path.join(dir, 'kcache-boot'));
    const client = await nodeCsr(dir, 'w1-client', '/O=system:nodes/CN=system:node:w1');
    const r = await bootstrap(['create', '-f', '-'], csrManifest('w1-client', client.b64, 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']));
    assert.equal(r.code, 0, r.stderr);
    const certPem = await eventually('node client certificate', async () => {
      const b64 = await ok(['get', 'csr', 'w1-client', '-o', 'jsonpath={.status.certificate}']);
      return b64 ? Buffer.from(b64, 'base64').toString() : undefined;
    });
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(dir, 'w1.crt'), certPem);
    const node = kubectlWith(await userKubeconfig(serve.kubeconfig, dir, 'w1', { certFile: path.join(dir, 'w1.crt'), keyFile: client.keyFile }), path.join(dir, 'kcache-w1'));
    const own = await nodeCsr(dir, 'w1-serving', '/O=system:nodes/CN=system:node:w1', { sans: 'DNS:w1,DNS:w1.cluster.internal,IP:10.1.2.3' });
    const foreign = await nodeCsr(dir, 'w1-foreign', '/O=system:nodes/CN=system:node:w1', { sans: 'DNS:w1,IP:192.168.7.7' });
    const usages = ['digital signature', 'key encipherment', 'server auth'];
    for (const [name, b64] of [['w1-serving', own.b64], ['w1-foreign', foreign.b64]] as const) {
      const c = await node(['create', '-f', '-'], csrManifest(name, b64, 'kubernetes.io/kubelet-serving', usages));
      assert.equal(c.code, 0, c.stderr);
    }
    await eventually('serving certificate issued', async () => ((await ok(['get', 'csr', 'w1-serving'])).includes('Approved,Issued') ? true : undefined));
    await until(() => /"csr":"w1-foreign"[^\n]*kubelet serving request left Pending/.test(serve.stderr()), 'the approver to look at w1-foreign and leave it Pending', { timeoutMs: 60_000, intervalMs: 50 });
    assert.match(serve.stderr(), /"csr":"w1-foreign","reason":"[^"]*192\.168\.7\.7/, 'declined for the address outside the allow-list');
    assert.match(await ok(['get', 'csr', 'w1-foreign']), /Pending/);
  });

  await t.test('the controllers\' metrics are on the server\'s /metrics', async () => {
    const metrics = await ok(['get', '--raw', '/metrics']);
    assert.match(metrics, /kubepki_csr_signed_total\{signer_name="kubernetes.io\/kube-apiserver-client"\} \d+/);
    assert.match(metrics, /kubepki_csr_approved_total\{recognizer="kubeletserving"\} 1/);
    assert.match(metrics, /kubepki_csr_signing_duration_seconds_bucket/);
    assert.match(metrics, /workqueue_depth\{name="csrsigning"\}/);
    assert.match(metrics, /leader_election_master_status\{lease="kube-controller-manager"\} 1/);
  });

  await t.test('the token cleaner deletes a bootstrap token when it expires', async () => {
    const token = await createToken(serve.kubeconfig, ['--ttl', '2s']);
    const id = token.split('.')[0]!;
    assert.ok(await exists(['secret', '-n', 'kube-system', `bootstrap-token-${id}`]));
    // Deleted at its expiry (kube's cleaner re-checks a token when it expires), well before any periodic
    // scan: the wait bounds a hang, not the speed.
    await eventually('token deleted', async () => ((await exists(['secret', '-n', 'kube-system', `bootstrap-token-${id}`])) ? undefined : true));
  });
});
