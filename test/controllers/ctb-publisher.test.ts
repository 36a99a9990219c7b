// The ClusterTrustBundle publisher: one signer-linked bundle per signer, named after its content, following
// a CA rotation read from the source (the signing CA file), and deleting the previous bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { CtbPublisherController, desiredTrustBundle } from '../../src/controllers/publishers/ctb-publisher.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import type { ClusterTrustBundle } from '../../src/apis/clustertrustbundle.js';
import { trustBundleProblem } from '../../src/cluster/trust-bundle.js';
import {FakeKubeClient } from './fake-client.js';
import { issueLeaf, makeCa } from '../helpers/pki.js';
import { until } from '../helpers/poll.js';

test('publishes each signer CA as <signer with :>:<sha256>, follows a rotated CA and deletes the old bundle', async (t) => {
  const clock = new FakeClock(new Date());
  const client = new FakeKubeClient();
  const bundles = client.resource<ClusterTrustBundle>(RESOURCES.clusterTrustBundles);
  const informer = new Informer<ClusterTrustBundle>({ name: 'ctb', listerWatcher: bundles, clock });
  const oldCa = await makeCa({ cn: 'old' });
  const newCa = await makeCa({ cn: 'new' });
  let current = oldCa.certificate.pem;
  // Someone else's bundle for another signer stays untouched.
  await bundles.create({ metadata: { name: 'example.com:foo:x' }, spec: { signerName: 'example.com/foo', trustBundle: oldCa.certificate.pem } });
  const publisher = new CtbPublisherController({
    client, informer, clock, resyncMs: 1000,
    sources: [{ signerName: 'kubernetes.io/kube-apiserver-client', read: async () => current }],
  });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  void publisher.run(ac.signal);
  const linked = () => informer.list().filter((b) => b.spec.signerName === 'kubernetes.io/kube-apiserver-client');
  await until(() => linked().length === 1, 'published');
  const first = linked()[0]!;
  assert.equal(first.metadata.name, desiredTrustBundle('kubernetes.io/kube-apiserver-client', oldCa.certificate.pem).metadata.name);
  assert.match(first.metadata.name!, /^kubernetes\.io:kube-apiserver-client:[0-9a-f]{64}$/);
  assert.equal(first.spec.trustBundle, oldCa.certificate.pem);

  // A rotation: the CA file holds new + old; the next resync publishes it and removes the old bundle.
  current = newCa.certificate.pem + oldCa.certificate.pem;
  clock.advance(1000);
  await until(() => linked().length === 1 && linked()[0]!.spec.trustBundle === current, 'rotated');
  assert.notEqual(linked()[0]!.metadata.name, first.metadata.name);
  assert.ok(informer.get('example.com:foo:x'), 'another signer\'s bundle is left alone');
});

test('trustBundle rules: only CA CERTIFICATE blocks, no headers, no duplicates', async () => {
  const ca = await makeCa();
  const leaf = await issueLeaf(ca);
  assert.equal(trustBundleProblem(ca.certificate.pem), null);
  assert.equal(trustBundleProblem(leaf.certificate.pem), 'entry 0 does not have the CA bit set');
  assert.match(trustBundleProblem(ca.certificate.pem + ca.certificate.pem)!, /duplicate trust anchor/);
  assert.equal(trustBundleProblem(ca.certificate.pem + leaf.keyPem!), 'entry 1 has bad block type: EC PRIVATE KEY');
  assert.equal(trustBundleProblem(ca.certificate.pem.replace('-----BEGIN CERTIFICATE-----\n', '-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n')), 'entry 0 has PEM block headers');
});
