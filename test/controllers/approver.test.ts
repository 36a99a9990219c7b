import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { CSRApprovingController } from '../../src/controllers/approver/controller.js';
import { isNodeClientCert, isSelfNodeClientCert } from '../../src/controllers/approver/recognizers.js';
import { checkKubeletServingRequest, compileCidrs, type KubeletServingPolicy } from '../../src/controllers/approver/kubelet-serving.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import { parseSpecRequest } from '../../src/controllers/csr.js';
import type { CertificateSigningRequest, SubjectAccessReview } from '../../src/apis/index.js';
import { FakeKubeClient, settle } from './fake-client.js';
import { approved, csrObject, denied, issuedWith, NODE_SUBJECT, requestPem, withRequester, withSigner, withUsages } from './fixtures.js';

const parse = (csr: CertificateSigningRequest) => parseSpecRequest(csr);
const NODE_GROUPS = ['system:nodes', 'system:authenticated'];

test('nodeclient recognizes any valid kubelet client request; selfnodeclient only when the requester is the CN', async () => {
  const pem = await requestPem(NODE_SUBJECT('node-1'));
  const bootstrap = csrObject('a', pem);
  assert.equal(isNodeClientCert(bootstrap, parse(bootstrap)), true);
  assert.equal(isSelfNodeClientCert(bootstrap, parse(bootstrap)), false);
  const renewal = csrObject('b', pem, withRequester('system:node:node-1', NODE_GROUPS));
  assert.equal(isSelfNodeClientCert(renewal, parse(renewal)), true);
  const otherNode = csrObject('c', pem, withRequester('system:node:node-2', NODE_GROUPS));
  assert.equal(isSelfNodeClientCert(otherNode, parse(otherNode)), false, 'node-2 asking for node-1 is not a self renewal');
  assert.equal(isNodeClientCert(otherNode, parse(otherNode)), true, '... but is still a node client request (SAR decides)');
  const serving = csrObject('d', pem, withSigner('kubernetes.io/kubelet-serving'));
  assert.equal(isNodeClientCert(serving, parse(serving)), false);
  const wrongUsages = csrObject('e', pem, withUsages('digital signature', 'client auth', 'server auth'));
  assert.equal(isNodeClientCert(wrongUsages, parse(wrongUsages)), false);
  const notNode = csrObject('f', await requestPem({ commonName: 'admin', organization: ['system:masters'] }));
  assert.equal(isNodeClientCert(notNode, parse(notNode)), false);
});

async function setup(authorize: (r: SubjectAccessReview) => boolean, servingPolicy?: KubeletServingPolicy) {
  const clock = new FakeClock(new Date('2026-02-01T00:00:00Z'));
  const client = new FakeKubeClient();
  client.authorize = authorize;
  const informer = new Informer<CertificateSigningRequest>({ name: 'csr', listerWatcher: client.resource(RESOURCES.certificateSigningRequests), clock });
  const approver = new CSRApprovingController({ client, informer, clock, ...(servingPolicy ? { kubeletServing: servingPolicy } : {}) });
  const ac = new AbortController();
  void informer.run(ac.signal);
  await informer.waitForSync();
  const csrs = client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
  const add = async (csr: CertificateSigningRequest) => {
    await csrs.create(csr);
    await settle();
  };
  return { clock, client, informer, approver, ac, csrs, add };
}

const allowSubresource = (sub: string) => (r: SubjectAccessReview) => r.spec.resourceAttributes?.subresource === sub;

test('a bootstrap identity\'s node client request is approved after a SubjectAccessReview for nodeclient', async (t) => {
  const { approver, client, csrs, add, ac, clock } = await setup(allowSubresource('nodeclient'));
  t.after(() => ac.abort());
  await add(csrObject('node-csr-1', await requestPem(NODE_SUBJECT('node-1'))));
  const outcome = await approver.reconcile('node-csr-1');
  assert.equal(outcome.type, 'terminal');
  const review = client.reviews.at(-1)!;
  assert.equal(review.spec.user, 'system:bootstrap:abcdef');
  assert.deepEqual(review.spec.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
  assert.deepEqual(review.spec.resourceAttributes, { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource: 'nodeclient' });
  const csr = await csrs.get('node-csr-1');
  assert.deepEqual(csr.status!.conditions!.map((c) => [c.type, c.status, c.reason, c.message]), [
    ['Approved', 'True', 'AutoApproved', 'Auto approving kubelet client certificate after SubjectAccessReview.'],
  ]);
  assert.equal(csr.status!.conditions![0]!.lastUpdateTime, '2026-02-01T00:00:00Z');
  assert.ok(client.writes.includes('update certificatesigningrequests/node-csr-1/approval'), 'written through the approval subresource');
  void clock;
});

test('a node renewing its own client certificate is approved through selfnodeclient first', async (t) => {
  const { approver, client, csrs, add, ac } = await setup(allowSubresource('selfnodeclient'));
  t.after(() => ac.abort());
  await add(csrObject('renew', await requestPem(NODE_SUBJECT('node-1')), withRequester('system:node:node-1', NODE_GROUPS)));
  assert.equal((await approver.reconcile('renew')).type, 'terminal');
  assert.equal(client.reviews.length, 1);
  assert.equal(client.reviews[0]!.spec.resourceAttributes!.subresource, 'selfnodeclient');
  assert.equal((await csrs.get('renew')).status!.conditions![0]!.message, 'Auto approving self kubelet client certificate after SubjectAccessReview.');
});

test('when no SubjectAccessReview allows it, the request stays Pending (never denied) and is re-checked with backoff', async (t) => {
  const { approver, client, csrs, add, ac } = await setup(() => false);
  t.after(() => ac.abort());
  await add(csrObject('other-node', await requestPem(NODE_SUBJECT('node-1')), withRequester('system:node:node-2', NODE_GROUPS)));
  const outcome = await approver.reconcile('other-node');
  assert.equal(outcome.type, 'ignorable');
  assert.match((outcome as { reason: string }).reason, /recognized csr "other-node" as \[nodeclient\] but subject access review was not approved/);
  assert.deepEqual(client.reviews.map((r) => r.spec.resourceAttributes!.subresource), ['nodeclient']);
  assert.equal((await csrs.get('other-node')).status, undefined, 'no condition written');
  assert.ok(!client.writes.some((w) => w.includes('approval')));
});

test('requests that are not node client requests, or already decided or issued, are left alone without a review', async (t) => {
  const { approver, client, add, ac } = await setup(() => true);
  t.after(() => ac.abort());
  const pem = await requestPem(NODE_SUBJECT('n'));
  await add(csrObject('serving', await requestPem(NODE_SUBJECT('n'), { dnsNames: ['n'] }), withSigner('kubernetes.io/kubelet-serving'), withUsages('digital signature', 'server auth')));
  await add(csrObject('admin', await requestPem({ commonName: 'jane' }), withSigner('kubernetes.io/kube-apiserver-client'), withUsages('client auth')));
  await add(csrObject('approved', pem, approved()));
  await add(csrObject('denied', pem, denied()));
  await add(csrObject('issued', pem, approved(), issuedWith('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n')));
  assert.equal((await approver.reconcile('serving')).type, 'waiting');
  assert.equal((await approver.reconcile('admin')).type, 'waiting');
  assert.equal((await approver.reconcile('approved')).type, 'terminal');
  assert.equal((await approver.reconcile('denied')).type, 'terminal');
  assert.equal((await approver.reconcile('issued')).type, 'terminal');
  assert.equal((await approver.reconcile('gone')).type, 'terminal');
  assert.equal(client.reviews.length, 0);
  assert.equal(client.writes.filter((w) => w.startsWith('update')).length, 0);
});

test('a failed approval write is retried', async (t) => {
  const { approver, client, add, ac } = await setup(() => true);
  t.after(() => ac.abort());
  await add(csrObject('x', await requestPem(NODE_SUBJECT('n'))));
  client.failNextWrites.push(new Error('connection reset'));
  const outcome = await approver.reconcile('x');
  assert.equal(outcome.type, 'retryable');
  assert.equal((await approver.reconcile('x')).type, 'terminal');
});

test('the running controller approves from watch events alone', async (t) => {
  const { approver, csrs, add, ac } = await setup(allowSubresource('nodeclient'));
  t.after(() => ac.abort());
  void approver.run(ac.signal);
  await add(csrObject('live', await requestPem(NODE_SUBJECT('live'))));
  await settle(50);
  assert.equal((await csrs.get('live')).status?.conditions?.[0]?.type, 'Approved');
});

// ---- opt-in kubelet serving approval ----

const policy: KubeletServingPolicy = { allowedCidrs: ['10.0.0.0/16', 'fd00::/8'], dnsSuffixes: ['cluster.internal'] };
const servingUsages = withUsages('digital signature', 'key encipherment', 'server auth');
const asNode = (n: string) => withRequester(`system:node:${n}`, NODE_GROUPS);

test('serving policy: the node\'s own names and addresses inside the allow-list pass', async () => {
  const pem = await requestPem(NODE_SUBJECT('node-1'), { dnsNames: ['node-1', 'node-1.cluster.internal', 'node-1.zone-a.cluster.internal'], ipAddresses: ['10.0.3.4', 'fd00::4'] });
  const csr = csrObject('s', pem, withSigner('kubernetes.io/kubelet-serving'), servingUsages, asNode('node-1'));
  assert.equal(checkKubeletServingRequest(csr, parse(csr), policy), null);
});

test('serving policy: foreign names, addresses outside the CIDRs, another requester or a client usage are refused', async () => {
  const cases: [Parameters<typeof requestPem>[1], string, RegExp][] = [
    [{ dnsNames: ['node-2.cluster.internal'] }, 'node-1', /DNS name node-2.cluster.internal is not one of node node-1's names/],
    [{ dnsNames: ['node-1.evil.example'] }, 'node-1', /DNS name node-1.evil.example/],
    [{ dnsNames: ['kubernetes.default.svc'] }, 'node-1', /DNS name kubernetes.default.svc/],
    [{ ipAddresses: ['10.1.0.1'] }, 'node-1', /IP address 10.1.0.1 is not in an allowed CIDR/],
    [{ ipAddresses: ['2001:db8::1'] }, 'node-1', /IP address 2001:db8::1/],
    [{ dnsNames: ['node-1'] }, 'node-2', /username does not match/],
  ];
  for (const [alt, requester, why] of cases) {
    const csr = csrObject('s', await requestPem(NODE_SUBJECT('node-1'), alt), withSigner('kubernetes.io/kubelet-serving'), servingUsages, asNode(requester));
    assert.match(checkKubeletServingRequest(csr, parse(csr), policy) ?? 'approved', why);
  }
  const clientUsage = csrObject('s', await requestPem(NODE_SUBJECT('node-1'), { dnsNames: ['node-1'] }), withSigner('kubernetes.io/kubelet-serving'), withUsages('digital signature', 'server auth', 'client auth'), asNode('node-1'));
  assert.match(checkKubeletServingRequest(clientUsage, parse(clientUsage), policy)!, /usages did not match/);
  const notInNodes = csrObject('s', await requestPem(NODE_SUBJECT('node-1'), { dnsNames: ['node-1'] }), withSigner('kubernetes.io/kubelet-serving'), servingUsages, withRequester('system:node:node-1', ['system:authenticated']));
  assert.match(checkKubeletServingRequest(notInNodes, parse(notInNodes), policy)!, /not in the system:nodes group/);
  assert.throws(() => compileCidrs(['10.0.0.0/33']), /invalid CIDR "10.0.0.0\/33"/);
});

test('serving requests are approved only with the policy enabled, and never denied', async (t) => {
  const pem = await requestPem(NODE_SUBJECT('node-1'), { dnsNames: ['node-1'], ipAddresses: ['10.0.0.9'] });
  const bad = await requestPem(NODE_SUBJECT('node-1'), { dnsNames: ['node-1'], ipAddresses: ['192.168.1.1'] });
  const off = await setup(() => true);
  t.after(() => off.ac.abort());
  await off.add(csrObject('s', pem, withSigner('kubernetes.io/kubelet-serving'), servingUsages, asNode('node-1')));
  assert.equal((await off.approver.reconcile('s')).type, 'waiting');
  assert.equal((await off.csrs.get('s')).status, undefined, 'Kubernetes never auto-approves kubelet serving certificates');

  const on = await setup(() => false, policy);
  t.after(() => on.ac.abort());
  await on.add(csrObject('good', pem, withSigner('kubernetes.io/kubelet-serving'), servingUsages, asNode('node-1')));
  await on.add(csrObject('bad', bad, withSigner('kubernetes.io/kubelet-serving'), servingUsages, asNode('node-1')));
  assert.equal((await on.approver.reconcile('good')).type, 'terminal');
  assert.equal((await on.csrs.get('good')).status!.conditions![0]!.type, 'Approved');
  assert.equal((await on.approver.reconcile('bad')).type, 'waiting');
  assert.equal((await on.csrs.get('bad')).status, undefined, 'left Pending, not Denied');
});
