import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  caCertificatesOf,
  clusterAccessOf,
  inspectNodeKubeconfig,
  loadKubeconfig,
  renderNodeKubeconfig,
  writeNodeKubeconfig,
} from '../../src/agent/kubeconfig.js';
import { CertificateStore } from '../../src/agent/cert-store.js';
import { run } from '../helpers/cli.js';
import { writeBootstrapKubeconfig } from '../agent/processes.js';
import { tempDir } from '../helpers/tmp.js';
import { DAY, HOUR, issueLeaf, makeCa } from '../helpers/pki.js';

const kubectl = (args: string[]) => run('kubectl', args);

test('a bootstrap kubeconfig written by kubectl gives the server, the CA (file or embedded) and the token', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa();
  const caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, ca.certificate.pem);
  for (const embed of [false, true]) {
    const file = path.join(dir, `bootstrap-${embed}.conf`);
    await writeBootstrapKubeconfig(file, { server: 'https://127.0.0.1:6443', caFile, token: '07401b.f395accd246ae52d', embed });
    const kc = loadKubeconfig(file, 'bootstrap kubeconfig');
    const access = clusterAccessOf(kc);
    assert.equal(access.server, 'https://127.0.0.1:6443');
    if (embed) assert.equal(access.caFile, undefined);
    else assert.equal(access.caFile, caFile);
    assert.equal(caCertificatesOf(access)[0]!.serialNumber, ca.certificate.serialNumber);
    assert.equal(kc.user.token, '07401b.f395accd246ae52d');
  }
});

test('kubeconfigs the agent cannot trust or read are refused with one clear error', async (t) => {
  const dir = await tempDir(t);
  assert.throws(() => loadKubeconfig(path.join(dir, 'nope.conf')), { code: 'FileMissing' });
  const garbage = path.join(dir, 'garbage.conf');
  await writeFile(garbage, 'clusters: [');
  assert.throws(() => loadKubeconfig(garbage), { code: 'InvalidConfig' });
  const insecure = path.join(dir, 'insecure.conf');
  const r1 = await kubectl(['config', 'set-cluster', 'k', '--server=https://127.0.0.1:6443', '--insecure-skip-tls-verify=true', `--kubeconfig=${insecure}`]);
  assert.equal(r1.code, 0, r1.stderr);
  await kubectl(['config', 'set-credentials', 'u', '--token=abc.def', `--kubeconfig=${insecure}`]);
  await kubectl(['config', 'set-context', 'c', '--cluster=k', '--user=u', `--kubeconfig=${insecure}`]);
  await kubectl(['config', 'use-context', 'c', `--kubeconfig=${insecure}`]);
  assert.throws(() => clusterAccessOf(loadKubeconfig(insecure)), { code: 'InvalidConfig', message: /insecure-skip-tls-verify/ });
  await kubectl(['config', 'set-cluster', 'k', '--insecure-skip-tls-verify=false', `--kubeconfig=${insecure}`]);
  assert.throws(() => clusterAccessOf(loadKubeconfig(insecure)), { code: 'InvalidConfig', message: /no certificate-authority/ });
  await kubectl(['config', 'set-cluster', 'k', '--server=http://127.0.0.1:8080', '--certificate-authority=/nonexistent', `--kubeconfig=${insecure}`]);
  assert.throws(() => clusterAccessOf(loadKubeconfig(insecure)), { code: 'InvalidConfig', message: /not an https/ });
  const noContext = path.join(dir, 'nocontext.conf');
  await writeFile(noContext, 'apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n');
  assert.throws(() => loadKubeconfig(noContext), { code: 'InvalidConfig', message: /current-context/ });
});

test('the node kubeconfig is the kubelet\'s shape, 0600, and kubectl reads it with both paths on the current pem', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa();
  const caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, ca.certificate.pem);
  const pemPath = path.join(dir, 'pki', 'kubelet-client-current.pem');
  const file = path.join(dir, 'kubelet.conf');
  await writeNodeKubeconfig(file, { cluster: { server: 'https://10.0.0.1:6443', caFile }, pemPath });
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const view = await kubectl(['config', 'view', `--kubeconfig=${file}`, '-o', 'jsonpath={.users[0].user.client-certificate} {.users[0].user.client-key} {.clusters[0].cluster.server} {.current-context} {.contexts[0].context.namespace}']);
  assert.equal(view.code, 0, view.stderr);
  assert.equal(view.stdout, `${pemPath} ${pemPath} https://10.0.0.1:6443 default-context default`);
  // Embedded CA when the bootstrap kubeconfig embedded it.
  const text = renderNodeKubeconfig({ cluster: { server: 'https://10.0.0.1:6443', caPem: ca.certificate.pem }, pemPath });
  assert.match(text, /certificate-authority-data: /);
  assert.doesNotMatch(text, /token/);
});

test('inspectNodeKubeconfig says usable only for a verifiable client certificate, and why not otherwise', async (t) => {
  const dir = await tempDir(t);
  const ca = await makeCa();
  const other = await makeCa({ cn: 'another-cluster' });
  const caFile = path.join(dir, 'ca.crt');
  await writeFile(caFile, ca.certificate.pem);
  const file = path.join(dir, 'kubelet.conf');
  const now = new Date();
  assert.deepEqual(inspectNodeKubeconfig(file, { now }), { status: 'missing' });
  const store = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client' });
  await writeNodeKubeconfig(file, { cluster: { server: 'https://127.0.0.1:6443', caFile }, pemPath: store.currentPath() });
  const noPair = inspectNodeKubeconfig(file, { now });
  assert.equal(noPair.status, 'unusable');
  const cases: [string, Parameters<typeof issueLeaf>[1], typeof ca, RegExp | null][] = [
    ['good', {}, ca, null],
    ['expired', { notBefore: new Date(now.getTime() - 2 * DAY), notAfter: new Date(now.getTime() - HOUR) }, ca, /expired/],
    ['wrong CA', {}, other, /unknown authority/],
    ['server auth only (seed 002)', { usages: ['digital signature', 'server auth'] }, ca, /incompatible key usage/],
  ];
  let i = 0;
  for (const [name, opts, issuer, why] of cases) {
    const leaf = await issueLeaf(issuer, opts);
    const s = new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client', clock: { now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, i++)), sleep: async () => undefined } });
    await s.update(leaf.certificate.pem, leaf.keyPem!);
    const r = inspectNodeKubeconfig(file, { now });
    if (why === null) {
      assert.equal(r.status, 'usable', name);
      assert.equal(r.status === 'usable' && r.pair.certificate.serialNumber, leaf.certificate.serialNumber);
    } else {
      assert.equal(r.status, 'unusable', name);
      assert.match(r.status === 'unusable' ? r.reason : '', why, name);
    }
  }
});
