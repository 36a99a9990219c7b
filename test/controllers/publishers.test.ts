import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactVerify } from 'jose';
import { parse as parseYaml } from 'yaml';
import { FakeClock } from '../../src/util/clock.js';
import { computeDetachedSignature, detachedSignatureIsValid } from '../../src/apis/cluster-info.js';
import { BootstrapSignerController, clusterInfoKubeconfig, signedClusterInfo, signingToken } from '../../src/controllers/publishers/bootstrap-signer.js';
import { desiredRootCAConfigMap, RootCAPublisherController, ROOT_CA_DESCRIPTION } from '../../src/controllers/publishers/root-ca-publisher.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import { bootstrapTokenToSecret } from '../../src/auth/bootstrap-token-secret.js';
import {FakeKubeClient, settle } from './fake-client.js';
import type { ConfigMap, Namespace, Secret } from '../../src/apis/objects.js';
import { until } from '../helpers/poll.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';
const T0 = new Date('2026-01-01T00:00:00Z');

/** Re-attaches the payload and verifies with an independent JWS implementation (jose). */
async function verifyDetached(detached: string, content: string, secret: string): Promise<{ alg: string; kid: string }> {
  const [header, payload, sig] = detached.split('.');
  assert.equal(payload, '', 'the payload is detached');
  const compact = `${header}.${Buffer.from(content).toString('base64url')}.${sig}`;
  const { payload: verified, protectedHeader } = await compactVerify(compact, new TextEncoder().encode(secret));
  assert.equal(new TextDecoder().decode(verified), content);
  return protectedHeader as { alg: string; kid: string };
}

test('the detached JWS is HS256 keyed by the token secret with kid = token id, and verifies independently', async () => {
  const content = clusterInfoKubeconfig('https://10.0.0.1:6443', CA_PEM);
  const sig = computeDetachedSignature(content, 'abcdef', '0123456789abcdef');
  assert.match(sig, /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
  const header = await verifyDetached(sig, content, '0123456789abcdef');
  assert.deepEqual(header, { alg: 'HS256', kid: 'abcdef' });
  assert.equal(Buffer.from(sig.split('.')[0]!, 'base64url').toString(), '{"alg":"HS256","kid":"abcdef"}', 'go-jose\'s exact header bytes');
  await assert.rejects(verifyDetached(sig, content, 'wrongsecret00000'));
  assert.equal(detachedSignatureIsValid(sig, content, 'abcdef', '0123456789abcdef'), true);
  assert.equal(detachedSignatureIsValid(sig, content + ' ', 'abcdef', '0123456789abcdef'), false);
});

test('cluster-info\'s kubeconfig is kubeadm\'s: one unnamed cluster with server and CA', () => {
  const doc = parseYaml(clusterInfoKubeconfig('https://10.0.0.1:6443', CA_PEM)) as Record<string, unknown>;
  assert.deepEqual(doc, {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': Buffer.from(CA_PEM).toString('base64'), server: 'https://10.0.0.1:6443' }, name: '' }],
    contexts: null,
    'current-context': '',
    kind: 'Config',
    preferences: {},
    users: null,
  });
});

const token = (id: string, opts: { ttlMs?: number; usages?: string[] } = {}): Secret =>
  bootstrapTokenToSecret({ token: `${id}.${id}${id}abcd`, usages: opts.usages ?? ['signing', 'authentication'], groups: [], ...(opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {}) }, T0) as Secret;

test('only unexpired tokens marked usage-bootstrap-signing, with a matching name, sign', () => {
  assert.deepEqual(signingToken(token('aaaaaa'), T0), { id: 'aaaaaa', secret: 'aaaaaaaaaaaaabcd' });
  assert.equal(signingToken(token('aaaaaa', { usages: ['authentication'] }), T0), null);
  assert.equal(signingToken(token('aaaaaa', { ttlMs: 1000 }), new Date(T0.getTime() + 1000)), null);
  const renamed = token('aaaaaa');
  renamed.metadata.name = 'bootstrap-token-bbbbbb';
  assert.equal(signingToken(renamed, T0), null);
  const opaque = token('aaaaaa');
  opaque.type = 'Opaque';
  assert.equal(signingToken(opaque, T0), null);
});

test('signatures are added, kept when current, and removed for tokens that no longer sign', () => {
  const content = clusterInfoKubeconfig('https://k:6443', CA_PEM);
  const cm: ConfigMap = { metadata: { name: 'cluster-info', namespace: 'kube-public' }, data: { kubeconfig: content } };
  const a = { id: 'aaaaaa', secret: 'aaaaaaaaaaaaabcd' };
  const b = { id: 'bbbbbb', secret: 'bbbbbbbbbbbbabcd' };
  const signed = signedClusterInfo(cm, [a, b])!;
  assert.deepEqual(Object.keys(signed.data!).sort(), ['jws-kubeconfig-aaaaaa', 'jws-kubeconfig-bbbbbb', 'kubeconfig']);
  assert.equal(signedClusterInfo(signed, [a, b]), null, 'nothing to write when current');
  const onlyA = signedClusterInfo(signed, [a])!;
  assert.deepEqual(Object.keys(onlyA.data!).sort(), ['jws-kubeconfig-aaaaaa', 'kubeconfig']);
  assert.equal(cm.data!['jws-kubeconfig-aaaaaa'], undefined, 'the input is not modified');
  assert.equal(signedClusterInfo({ metadata: {}, data: {} }, [a]), null, 'no kubeconfig key: nothing to sign');
});

test('the bootstrap signer creates cluster-info when missing, signs it, and re-signs as tokens come and go', async (t) => {
  const clock = new FakeClock(T0);
  const client = new FakeKubeClient();
  const cmInformer = new Informer<ConfigMap>({ name: 'cm', listerWatcher: client.resource(RESOURCES.configMaps), clock, namespace: 'kube-public' });
  const secretInformer = new Informer<Secret>({ name: 's', listerWatcher: client.resource(RESOURCES.secrets), clock, namespace: 'kube-system' });
  const signer = new BootstrapSignerController({ client, configMapInformer: cmInformer, secretInformer, clock, clusterInfo: { server: 'https://10.0.0.1:6443', caPem: CA_PEM } });
  const secrets = client.resource<Secret>(RESOURCES.secrets);
  await secrets.create(token('aaaaaa'));
  await secrets.create(token('cccccc', { ttlMs: 60_000 }));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void cmInformer.run(ac.signal);
  void secretInformer.run(ac.signal);
  await Promise.all([cmInformer.waitForSync(), secretInformer.waitForSync()]);
  void signer.run(ac.signal);
  const info = () => cmInformer.get('kube-public/cluster-info');
  await until(() => info()?.data?.['jws-kubeconfig-cccccc'] !== undefined, 'signed cluster-info');
  const content = info()!.data!['kubeconfig']!;
  assert.equal(content, clusterInfoKubeconfig('https://10.0.0.1:6443', CA_PEM));
  await verifyDetached(info()!.data!['jws-kubeconfig-aaaaaa']!, content, 'aaaaaaaaaaaaabcd');
  // A new token signs; an expiring token's signature goes when it expires; a deleted token's at once.
  await secrets.create(token('bbbbbb'));
  await until(() => info()?.data?.['jws-kubeconfig-bbbbbb'] !== undefined, 'new token signs');
  clock.advance(60_000);
  await until(() => info()?.data?.['jws-kubeconfig-cccccc'] === undefined, 'expired token unsigned');
  await secrets.delete('bootstrap-token-aaaaaa', { namespace: 'kube-system' });
  await until(() => info()?.data?.['jws-kubeconfig-aaaaaa'] === undefined, 'deleted token unsigned');
  assert.deepEqual(Object.keys(info()!.data!).sort(), ['jws-kubeconfig-bbbbbb', 'kubeconfig']);
});

// ---- root CA publisher ----

test('kube-root-ca.crt: created with ca.crt and the description, repaired when changed, untouched when right', () => {
  const fresh = desiredRootCAConfigMap('ns1', CA_PEM, undefined)!;
  assert.deepEqual(fresh.data, { 'ca.crt': CA_PEM });
  assert.equal(fresh.metadata.annotations!['kubernetes.io/description'], ROOT_CA_DESCRIPTION);
  assert.equal(desiredRootCAConfigMap('ns1', CA_PEM, fresh), null);
  const tampered: ConfigMap = { ...fresh, data: { 'ca.crt': 'evil', extra: 'x' } };
  assert.deepEqual(desiredRootCAConfigMap('ns1', CA_PEM, tampered)!.data, { 'ca.crt': CA_PEM });
  const noAnnotation: ConfigMap = { metadata: { name: 'kube-root-ca.crt', namespace: 'ns1' }, data: { 'ca.crt': CA_PEM } };
  assert.equal(desiredRootCAConfigMap('ns1', CA_PEM, noAnnotation)!.metadata.annotations!['kubernetes.io/description'], ROOT_CA_DESCRIPTION);
});

test('the publisher puts kube-root-ca.crt in every namespace, new ones too, and puts it back when deleted or edited', async (t) => {
  const clock = new FakeClock(T0);
  const client = new FakeKubeClient();
  const namespaces = client.resource<Namespace>(RESOURCES.namespaces);
  const cms = client.resource<ConfigMap>(RESOURCES.configMaps);
  for (const n of ['default', 'kube-system']) await namespaces.create({ metadata: { name: n }, status: { phase: 'Active' } });
  await namespaces.create({ metadata: { name: 'dying' }, status: { phase: 'Terminating' } });
  const nsInformer = new Informer<Namespace>({ name: 'ns', listerWatcher: namespaces, clock });
  const cmInformer = new Informer<ConfigMap>({ name: 'cm', listerWatcher: cms, clock, fieldSelector: 'metadata.name=kube-root-ca.crt' });
  const publisher = new RootCAPublisherController({ client, namespaceInformer: nsInformer, configMapInformer: cmInformer, rootCA: CA_PEM, clock });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void nsInformer.run(ac.signal);
  void cmInformer.run(ac.signal);
  await Promise.all([nsInformer.waitForSync(), cmInformer.waitForSync()]);
  void publisher.run(ac.signal);
  const has = (ns: string) => cmInformer.get(`${ns}/kube-root-ca.crt`)?.data?.['ca.crt'] === CA_PEM;
  await until(() => has('default') && has('kube-system'), 'published');
  assert.equal(cmInformer.get('dying/kube-root-ca.crt'), undefined, 'not into a terminating namespace');
  await namespaces.create({ metadata: { name: 'team-a' }, status: { phase: 'Active' } });
  await until(() => has('team-a'), 'new namespace');
  await cms.delete('kube-root-ca.crt', { namespace: 'default' });
  await settle();
  await until(() => has('default'), 'recreated');
  const edited = await cms.get('kube-root-ca.crt', 'team-a');
  await cms.update({ ...edited, data: { 'ca.crt': 'tampered' } });
  await until(() => has('team-a'), 'repaired');
});
