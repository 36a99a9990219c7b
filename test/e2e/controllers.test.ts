// The certificate controllers inside `kubepki serve`, driven by the real kubectl and judged by openssl: TLS
// bootstrap with a kubeadm-style bootstrap token, node renewal, a node asking for another node's name, the
// kubelet-serving signer's rules, and seed 004's bindings (removing the renewal binding stops renewals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubepki } from '../helpers/cli.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { certificateOf, conditionTypes, createToken, csrManifest, csrWatcher, nodeCsr, userKubeconfig } from './controllers-helpers.js';
import { openssl } from '../helpers/openssl.js';
import { until } from '../helpers/poll.js';

const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';

test('in-process controllers: bootstrap, renewal, foreign names, signer rules, bindings', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ctrl-');
  const dataDir = path.join(dir, 'data');
  // debug: each reconcile logs its outcome, which is how a test sees that the approver looked at a request
  // and decided to leave it Pending (instead of sleeping and asserting that nothing happened).
  const serve = await startServe(t, ['--log-level', 'debug'], { dataDir, port: await freePort() });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache-admin'));
  const watcher = csrWatcher(serve.kubeconfig);
  await watcher.start();
  t.after(() => watcher.stop());
  const caFile = path.join(dataDir, 'pki', 'ca.crt');
  const ok = async (kubectl: typeof admin, args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  const token = await createToken(serve.kubeconfig);
  const bootstrap = kubectlWith(await userKubeconfig(serve.kubeconfig, dir, 'bootstrap', { token }), path.join(dir, 'kcache-boot'));
  let node1Conf = '';
  // The approver's outcome for one request, from its debug log: the proof that it looked and decided.
  const approverDecided = (name: string, reason: string) =>
    until(() => serve.stderr().includes(`"key":"${name}","reason":"${reason}`), `the approver to leave ${name} Pending (${reason})`, { timeoutMs: 60_000, intervalMs: 50 });
  const sarSaidNo = (name: string, recognizers: string) => approverDecided(name, `recognized csr \\"${name}\\" as [${recognizers}] but subject access review was not approved`);

  await t.test('a bootstrap token\'s kubelet client CSR is Approved and Issued', async () => {
    const { b64, keyFile } = await nodeCsr(dir, 'node1', '/O=system:nodes/CN=system:node:node1');
    await ok(bootstrap, ['create', '-f', '-'], csrManifest('node-csr-node1', b64, KUBELET_CLIENT, ['digital signature', 'client auth']));
    // Issued in reaction to the watch event; the wait only bounds a hang (no stopwatch verdict: CI is a busy
    // 2-core machine).
    const csr = await watcher.waitFor('node-csr-node1', (c) => Boolean(c.status?.certificate), 30_000);
    assert.equal(csr.spec.username, `system:bootstrap:${token.split('.')[0]}`);
    const approved = csr.status!.conditions!.find((c) => c.type === 'Approved')!;
    assert.deepEqual([approved.reason, approved.message], ['AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.']);
    assert.match(await ok(admin, ['get', 'csr', 'node-csr-node1']), /node-csr-node1\s+\S+\s+kubernetes\.io\/kube-apiserver-client-kubelet\s+system:bootstrap:\w+\s+<none>\s+Approved,Issued/);

    const certFile = path.join(dir, 'node1.crt');
    await writeFile(certFile, certificateOf(csr));
    assert.match(await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile], dir), /node1\.crt: OK/);
    const text = await openssl(['x509', '-in', certFile, '-noout', '-subject', '-ext', 'extendedKeyUsage'], dir);
    assert.match(text, /subject=O = system:nodes, CN = system:node:node1/);
    assert.match(text, /TLS Web Client Authentication/);
    node1Conf = await userKubeconfig(serve.kubeconfig, dir, 'node1', { certFile, keyFile });
  });

  // The later subtests act as node1: say so plainly when the first one did not produce its certificate,
  // instead of failing each with kubectl's complaint about an empty kubeconfig path.
  const node1 = () => {
    assert.ok(node1Conf, 'needs node1\'s client certificate from the bootstrap subtest, which failed');
    return kubectlWith(node1Conf, path.join(dir, 'kcache-node1'));
  };

  await t.test('the certificate authenticates as system:node:node1 in group system:nodes', async () => {
    const who = JSON.parse(await ok(node1(), ['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(who.status.userInfo.username, 'system:node:node1');
    assert.ok(who.status.userInfo.groups.includes('system:nodes'));
  });

  await t.test('the node renews its own client certificate (selfnodeclient)', async () => {
    const { b64 } = await nodeCsr(dir, 'node1-renew', '/O=system:nodes/CN=system:node:node1');
    await ok(node1(), ['create', '-f', '-'], csrManifest('node1-renewal', b64, KUBELET_CLIENT, ['digital signature', 'key encipherment', 'client auth']));
    const csr = await watcher.waitFor('node1-renewal', (c) => Boolean(c.status?.certificate), 30_000);
    assert.equal(csr.spec.username, 'system:node:node1');
    assert.equal(csr.status!.conditions![0]!.message, 'Auto approving self kubelet client certificate after SubjectAccessReview.');
  });

  await t.test('a node asking for another node\'s name stays Pending, never Denied', async () => {
    const { b64 } = await nodeCsr(dir, 'node2-by-node1', '/O=system:nodes/CN=system:node:node2');
    await ok(node1(), ['create', '-f', '-'], csrManifest('node1-wants-node2', b64, KUBELET_CLIENT, ['digital signature', 'client auth']));
    await sarSaidNo('node1-wants-node2', 'nodeclient');
    assert.deepEqual(conditionTypes(watcher.get('node1-wants-node2')), []);
    assert.match(await ok(admin, ['get', 'csr', 'node1-wants-node2']), /Pending/);
  });

  await t.test('kubelet-serving CSRs with a client-auth usage or an email SAN are marked Failed once approved', async () => {
    const withClientAuth = await nodeCsr(dir, 'serving-a', '/O=system:nodes/CN=system:node:node1', { sans: 'DNS:node1,IP:10.0.0.11' });
    const withEmail = await nodeCsr(dir, 'serving-b', '/O=system:nodes/CN=system:node:node1', { sans: 'DNS:node1,email:node1@example.com' });
    const good = await nodeCsr(dir, 'serving-c', '/O=system:nodes/CN=system:node:node1', { sans: 'DNS:node1,IP:10.0.0.11' });
    await ok(node1(), ['create', '-f', '-'], csrManifest('serving-client-auth', withClientAuth.b64, KUBELET_SERVING, ['digital signature', 'server auth', 'client auth']));
    await ok(node1(), ['create', '-f', '-'], csrManifest('serving-email', withEmail.b64, KUBELET_SERVING, ['digital signature', 'server auth']));
    await ok(node1(), ['create', '-f', '-'], csrManifest('serving-good', good.b64, KUBELET_SERVING, ['digital signature', 'key encipherment', 'server auth']));
    await approverDecided('serving-good', 'not a request this approver recognizes');
    assert.deepEqual(conditionTypes(watcher.get('serving-good')), [], 'kubelet serving certificates are not auto-approved');
    await ok(admin, ['certificate', 'approve', 'serving-client-auth', 'serving-email', 'serving-good']);
    for (const [name, message] of [
      ['serving-client-auth', 'usages did not match [digital signature key encipherment server auth]'],
      ['serving-email', 'Email subjectAltNames are not allowed'],
    ] as const) {
      const csr = await watcher.waitFor(name, (c) => conditionTypes(c).includes('Failed'), 30_000);
      const failed = csr.status!.conditions!.find((c) => c.type === 'Failed')!;
      assert.deepEqual([failed.reason, failed.message], ['SignerValidationFailure', message]);
      assert.equal(csr.status!.certificate, undefined);
      assert.match(await ok(admin, ['get', 'csr', name]), /Approved,Failed/);
    }
    const served = await watcher.waitFor('serving-good', (c) => Boolean(c.status?.certificate), 30_000);
    const certFile = path.join(dir, 'serving.crt');
    await writeFile(certFile, certificateOf(served));
    assert.match(await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslserver', certFile], dir), /OK/);
  });

  await t.test('removing the renewal binding (seed 004) stops renewals; restoring it resumes them', async () => {
    const binding = await ok(admin, ['get', 'clusterrolebinding', 'kubeadm:node-autoapprove-certificate-rotation', '-o', 'yaml']);
    assert.match(binding, /name: system:certificates\.k8s\.io:certificatesigningrequests:selfnodeclient/);
    await ok(admin, ['delete', 'clusterrolebinding', 'kubeadm:node-autoapprove-certificate-rotation']);
    const { b64 } = await nodeCsr(dir, 'node1-renew2', '/O=system:nodes/CN=system:node:node1');
    await ok(node1(), ['create', '-f', '-'], csrManifest('node1-renewal-unbound', b64, KUBELET_CLIENT, ['digital signature', 'client auth']));
    await sarSaidNo('node1-renewal-unbound', 'selfnodeclient nodeclient');
    assert.deepEqual(conditionTypes(watcher.get('node1-renewal-unbound')), [], 'no renewal without the binding');
    // seed 004's per-node binding restores renewals for node1 (the approver re-checks with backoff).
    await ok(admin, ['create', 'clusterrolebinding', 'node1-client-cert-renewal', '--clusterrole', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', '--user', 'system:node:node1']);
    const { b64: b64b } = await nodeCsr(dir, 'node1-renew3', '/O=system:nodes/CN=system:node:node1');
    await ok(node1(), ['create', '-f', '-'], csrManifest('node1-renewal-rebound', b64b, KUBELET_CLIENT, ['digital signature', 'client auth']));
    await watcher.waitFor('node1-renewal-rebound', (c) => Boolean(c.status?.certificate), 30_000);
  });

  await t.test('the controllers hold the kube-controller-manager Lease', async () => {
    const lease = JSON.parse(await ok(admin, ['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.match(String(lease.spec['holderIdentity']), /_[0-9a-f-]{36}$/);
    assert.equal(lease.spec['leaseDurationSeconds'], 15);
  });
});

test('a signing certificate that is a bundle is refused at start, by serve and by controllers', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ctrl-bundle-');
  const dataDir = path.join(dir, 'data');
  const init = await kubepki(['init', '--cert-dir', path.join(dataDir, 'pki'), '--kubeconfig-dir', dataDir]);
  assert.equal(init.code, 0, init.stderr);
  const bundle = path.join(dir, 'bundle.crt');
  const { readFile } = await import('node:fs/promises');
  const ca = await readFile(path.join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const front = await readFile(path.join(dataDir, 'pki', 'front-proxy-ca.crt'), 'utf8');
  await writeFile(bundle, ca + front);
  const signingFlags = ['--cluster-signing-cert-file', bundle, '--cluster-signing-key-file', path.join(dataDir, 'pki', 'ca.key')];
  const serve = await kubepki(['serve', '--data-dir', dataDir, '--secure-port', String(await freePort()), ...signingFlags], { timeoutMs: 20_000 });
  assert.equal(serve.code, 1);
  assert.match(serve.stderr, /--cluster-signing-cert-file .*bundle\.crt holds a bundle of 2 certificates/);
  assert.match(serve.stderr, /copy the new CA certificate into a file of its own/);
  assert.doesNotMatch(serve.stderr, /listening on/);
  const ctrl = await kubepki(['controllers', '--kubeconfig', path.join(dataDir, 'controller-manager.conf'), ...signingFlags]);
  assert.equal(ctrl.code, 1);
  assert.match(ctrl.stderr, /holds a bundle of 2 certificates/);
  const badDuration = await kubepki(['controllers', '--kubeconfig', path.join(dataDir, 'controller-manager.conf'), '--cluster-signing-duration', '40 seconds']);
  assert.equal(badDuration.code, 1);
  assert.match(badDuration.stderr, /--cluster-signing-duration: invalid duration "40 seconds"/);
});
