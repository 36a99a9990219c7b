import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { ControllerManager, selectControllers } from '../../src/controllers/manager.js';
import { RESOURCES } from '../../src/client/interface.js';
import {FakeKubeClient, settle } from './fake-client.js';
import { csrObject, NODE_SUBJECT, requestPem, testCA } from './fixtures.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';
import type { Lease, Namespace } from '../../src/apis/objects.js';
import { until } from '../helpers/poll.js';

test('--controllers: * is every default controller; names enable, -names disable; unknown names are refused', () => {
  assert.deepEqual([...selectControllers()].sort(), ['csrapproving', 'csrcleaner', 'csrsigning', 'root-ca-cert-publisher']);
  assert.deepEqual([...selectControllers(['*,bootstrapsigner,tokencleaner'])].length, 6);
  assert.deepEqual([...selectControllers(['*', '-csrcleaner'])].sort(), ['csrapproving', 'csrsigning', 'root-ca-cert-publisher']);
  assert.deepEqual([...selectControllers(['csrsigning'])], ['csrsigning']);
  assert.deepEqual([...selectControllers(['certificatesigningrequest-approving-controller'])], ['csrapproving']);
  assert.throws(() => selectControllers(['*,nosuch']), /"nosuch" is not in the list of known controllers/);
});

async function manager(client: FakeKubeClient, clock: FakeClock, identity: string) {
  const ca = await testCA('ECDSA-P256');
  const authorities = new Map([['kubernetes.io/kube-apiserver-client-kubelet', ca.authority]]);
  return ControllerManager.create({
    client,
    clock,
    signing: { authorities },
    rootCA: ca.certificate.pem,
    controllers: ['*'],
    leaderElection: { enabled: true, identity },
  });
}

test('a leading manager approves and signs a bootstrap CSR; a second replica stays idle until the lease is released', async (t) => {
  const clock = new FakeClock(new Date('2026-05-01T00:00:00Z'));
  const client = new FakeKubeClient();
  client.authorize = (r) => r.spec.resourceAttributes?.subresource === 'nodeclient';
  await client.resource<Namespace>(RESOURCES.namespaces).create({ metadata: { name: 'default' } });
  const a = await manager(client, clock, 'replica-a');
  const b = await manager(client, clock, 'replica-b');
  const acA = new AbortController();
  const acB = new AbortController();
  t.after(() => {
    acA.abort();
    acB.abort();
  });
  const runningA = a.run(acA.signal);
  await settle();
  void b.run(acB.signal);
  await settle();
  const lease = await client.resource<Lease>(RESOURCES.leases).get('kube-controller-manager', 'kube-system');
  assert.equal(lease.spec.holderIdentity, 'replica-a');
  assert.equal(b.runnables.length, 0, 'the follower runs no controllers');

  const csrs = client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
  await csrs.create(csrObject('node-csr-abc', await requestPem(NODE_SUBJECT('worker-1'))));
  await until(() => a.informers.some((i) => (i.get('node-csr-abc') as CertificateSigningRequest | undefined)?.status?.certificate), 'issued');
  const csr = await csrs.get('node-csr-abc');
  assert.deepEqual(csr.status!.conditions!.map((c) => c.type), ['Approved']);
  await until(() => a.informers.some((i) => i.get('default/kube-root-ca.crt')), 'root CA published');
  const metrics = await a.metrics.registry.metrics();
  assert.match(metrics, /kubepki_csr_approved_total\{recognizer="nodeclient"\} 1/);
  assert.match(metrics, /leader_election_master_status\{lease="kube-controller-manager"\} 1/);

  // Stopping A releases the lease; B takes over at its next retry.
  acA.abort();
  await runningA;
  for (let i = 0; i < 5 && !b.elector?.isLeader(); i++) {
    clock.advance(2500);
    await settle();
  }
  assert.equal((await client.resource<Lease>(RESOURCES.leases).get('kube-controller-manager', 'kube-system')).spec.holderIdentity, 'replica-b');
  await until(() => b.runnables.length === 4, 'follower started its controllers');
});

test('without leader election the manager runs at once; csrsigning without a CA only warns', async (t) => {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const m = await ControllerManager.create({ client, clock, controllers: ['csrsigning', 'csrapproving'] });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void m.run(ac.signal);
  await until(() => m.runnables.length > 0, 'condition');
  assert.deepEqual(m.runnables.map((r) => r.name), ['csrapproving']);
  assert.deepEqual(m.signerNames, []);
});
