// ClusterTrustBundle v1beta1 (as in Kubernetes 1.33) through the real kubectl: discovery, the signer-linked bundles serve publishes
// from its CA, kube's validation (name prefix, CA-only PEM), the attest check on a bundle's signer, and
// agents that take their custom trust from bundles selected by name or by signer and labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent } from '../../src/agent/agent.js';
import { CustomCaTrustStore } from '../../src/agent/custom-ca-trust.js';
import { clusterTrustBundleSource, type CtbSelection } from '../../src/agent/custom-ca-trust-ctb.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';
import { kubepki } from '../helpers/cli.js';
import { startCluster } from '../agent/cluster.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { until } from '../helpers/poll.js';

const indent = (pem: string) => pem.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
const ctbYaml = (name: string, pem: string, signerName?: string) =>
  ['apiVersion: certificates.k8s.io/v1beta1', 'kind: ClusterTrustBundle', 'metadata:', `  name: ${name}`, 'spec:', ...(signerName ? [`  signerName: ${signerName}`] : []), '  trustBundle: |', indent(pem), ''].join('\n');

test('serve publishes its CA as signer-linked ClusterTrustBundles and validates bundles as kube does', async (t) => {
  const cluster = await startCluster(t);
  const k = cluster.kubectl;
  const resources = await k(['api-resources', '--api-group=certificates.k8s.io', '-o', 'wide']);
  assert.equal(resources.code, 0, resources.stderr);
  assert.match(resources.stdout, /^clustertrustbundles\s+certificates\.k8s\.io\/v1beta1\s+false\s+ClusterTrustBundle\s+create,delete,deletecollection,get,list,patch,update,watch/m);

  const explain = await k(['explain', 'clustertrustbundles.spec.signerName', '--api-version=certificates.k8s.io/v1beta1']);
  assert.equal(explain.code, 0, explain.stderr);
  assert.match(explain.stdout, /GROUP:\s+certificates\.k8s\.io\nKIND:\s+ClusterTrustBundle\nVERSION:\s+v1beta1\n/);
  assert.match(explain.stdout, /verb=attest/);

  type Ctb = { metadata: { name: string }; spec: { signerName?: string; trustBundle: string } };
  const published = await until(async () => {
    const r = await k(['get', 'clustertrustbundles', '-o', 'json']);
    const items = (JSON.parse(r.stdout) as { items: Ctb[] }).items;
    return items.length >= 4 ? items : undefined;
  }, 'the publisher wrote the signer bundles', { timeoutMs: 20_000 });
  const bySigner = new Map(published.map((b) => [b.spec.signerName, b]));
  for (const signer of ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-serving']) {
    const b = bySigner.get(signer);
    assert.ok(b, `a bundle for ${signer}`);
    assert.ok(b.metadata.name.startsWith(`${signer.replace('/', ':')}:`));
    assert.equal(b.spec.trustBundle, cluster.caPem);
  }
  const table = await k(['get', 'clustertrustbundles', '--field-selector', 'spec.signerName=kubernetes.io/kubelet-serving']);
  // kube's printer for ClusterTrustBundle has NAME and SIGNERNAME only (no AGE).
  assert.match(table.stdout, /^NAME\s+SIGNERNAME\nkubernetes\.io:kubelet-serving:[0-9a-f]{64}\s+kubernetes\.io\/kubelet-serving\n/);

  const ca = await makeCa({ cn: 'example-ca' });
  const leaf = await issueLeaf(ca);
  const badName = await k(['apply', '-f', '-'], ctbYaml('wrong-name', ca.certificate.pem, 'example.com/foo'));
  assert.notEqual(badName.code, 0);
  assert.match(badName.stderr, /metadata\.name: Invalid value: "wrong-name": ClusterTrustBundle for signerName example\.com\/foo must be named with prefix example\.com:foo:/);
  const colon = await k(['apply', '-f', '-'], ctbYaml('a:b', ca.certificate.pem));
  assert.match(colon.stderr, /ClusterTrustBundle without signer name must not have ":" in its name/);
  const notCa = await k(['apply', '-f', '-'], ctbYaml('leaf', leaf.certificate.pem));
  assert.match(notCa.stderr, /spec\.trustBundle: Invalid value: "<value omitted>": entry 0 does not have the CA bit set/);

  // attest: alice may create bundles, but a signer-linked one needs `attest` on that signer.
  for (const args of [
    ['create', 'clusterrole', 'ctb-writer', '--verb=create,get,update,patch', '--resource=clustertrustbundles.certificates.k8s.io'],
    ['create', 'clusterrolebinding', 'alice-ctb', '--clusterrole=ctb-writer', '--user=alice'],
  ]) {
    const r = await k(args);
    assert.equal(r.code, 0, r.stderr);
  }
  const denied = await k(['--as', 'alice', 'create', '-f', '-'], ctbYaml('example.com:foo:one', ca.certificate.pem, 'example.com/foo'));
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /clustertrustbundles\.certificates\.k8s\.io "example\.com:foo:one" is forbidden: user not permitted to attest for signerName "example\.com\/foo"/);
  const unlinked = await k(['--as', 'alice', 'create', '-f', '-'], ctbYaml('plain-bundle', ca.certificate.pem));
  assert.equal(unlinked.code, 0, unlinked.stderr);
  // signers is no served resource, so the role is written as YAML (kubectl create clusterrole checks discovery).
  const attestRole = ['apiVersion: rbac.authorization.k8s.io/v1', 'kind: ClusterRole', 'metadata:', '  name: attest-foo', 'rules:', '- apiGroups: [certificates.k8s.io]', '  resources: [signers]', '  resourceNames: [example.com/foo]', '  verbs: [attest]', ''].join('\n');
  const role = await k(['apply', '-f', '-'], attestRole);
  assert.equal(role.code, 0, role.stderr);
  const binding = await k(['create', 'clusterrolebinding', 'alice-attest', '--clusterrole=attest-foo', '--user=alice']);
  assert.equal(binding.code, 0, binding.stderr);
  const allowed = await until(async () => {
    const r = await k(['--as', 'alice', 'create', '-f', '-'], ctbYaml('example.com:foo:one', ca.certificate.pem, 'example.com/foo'));
    return r.code === 0 ? r : undefined;
  }, 'alice may attest once RBAC says so', { timeoutMs: 5000 });
  assert.match(allowed.stdout, /clustertrustbundle\.certificates\.k8s\.io\/example\.com:foo:one created/);
});

test('the agent takes its custom trust from ClusterTrustBundles: by signer and labels, or by name', async (t) => {
  const cluster = await startCluster(t);
  const k = cluster.kubectl;
  const [a, b, c] = await Promise.all([makeCa({ cn: 'team-a-1' }), makeCa({ cn: 'team-a-2' }), makeCa({ cn: 'team-b' })]);
  const labelled = (name: string, pem: string, team: string) => ctbYaml(name, pem, 'example.com/foo').replace('metadata:\n', `metadata:\n  labels:\n    team: ${team}\n`);
  for (const y of [labelled('example.com:foo:a1', a.certificate.pem, 'a'), labelled('example.com:foo:b', c.certificate.pem, 'b')]) {
    const r = await k(['apply', '-f', '-'], y);
    assert.equal(r.code, 0, r.stderr);
  }
  const published = await until(async () => {
    const r = await k(['get', 'clustertrustbundles', '--field-selector', 'spec.signerName=kubernetes.io/kube-apiserver-serving', '-o', 'jsonpath={.items[0].metadata.name}']);
    return r.stdout || undefined;
  }, 'the serving bundle is published', { timeoutMs: 20_000 });
  const agent = (node: string, selection: CtbSelection) => {
    const dir = path.join(cluster.dir, node);
    const logger = silentLogger;
    return new NodeAgent({
      bootstrapKubeconfig: cluster.bootstrap,
      kubeconfig: path.join(dir, 'kubelet.conf'),
      certDir: path.join(dir, 'pki'),
      nodeName: node,
      caSyncIntervalMs: 0,
      customCaTrust: {
        store: new CustomCaTrustStore({ dir: path.join(dir, 'trust'), updateCommand: '', bundleFile: path.join(dir, 'bundle.pem') }),
        source: clusterTrustBundleSource({ selection, resyncMs: 30_000, clock: systemClock, logger }),
      },
    });
  };
  const bySigner = agent('node-s', { signerName: 'example.com/foo', labelSelector: 'team=a' });
  const byName = agent('node-n', { name: published });
  t.after(() => Promise.all([bySigner.stop(), byName.stop()]).then(() => undefined));
  await Promise.all([bySigner.start(), byName.start()]);
  const bundleOf = (node: string) => readFile(path.join(cluster.dir, node, 'bundle.pem'), 'utf8').catch(() => '');
  await until(async () => ((await bundleOf('node-s')) === a.certificate.pem ? true : undefined), 'node-s has team a\'s CA only');
  await until(async () => ((await bundleOf('node-n')) === cluster.caPem ? true : undefined), 'node-n has the published cluster CA');
  // A second matching bundle is unified in (bundles in name order); deleting one removes its CA.
  const r = await k(['apply', '-f', '-'], labelled('example.com:foo:a2', b.certificate.pem, 'a'));
  assert.equal(r.code, 0, r.stderr);
  await until(async () => ((await bundleOf('node-s')) === a.certificate.pem + b.certificate.pem ? true : undefined), 'node-s unified both team a bundles');
  assert.equal((await k(['delete', 'clustertrustbundle', 'example.com:foo:a1'])).code, 0);
  await until(async () => ((await bundleOf('node-s')) === b.certificate.pem ? true : undefined), 'node-s dropped the deleted bundle');
  const nodes = await until(async () => {
    const s = await kubepki(['trust', 'status', '--kubeconfig', path.join(cluster.dataDir, 'admin.conf'), '-o', 'json']);
    const ns = (JSON.parse(s.stdout) as { nodes: { node: string; inSync: boolean; source: string }[] }).nodes;
    return ns.length === 2 && ns.every((n) => n.inSync) ? ns : undefined;
  }, 'both nodes report in sync with their ClusterTrustBundle source');
  assert.deepEqual(nodes.map((n) => [n.node, n.source]).sort(), [['node-n', `clustertrustbundle/${published}`], ['node-s', 'clustertrustbundles signerName=example.com/foo labels=team=a']]);
});
