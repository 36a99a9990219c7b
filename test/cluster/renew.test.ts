import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initClusterPki } from '../../src/cluster/init.js';
import { renewCertificates, renewTargets } from '../../src/cluster/renew.js';
import { parseKubeconfig } from '../../src/cluster/kubeconfig.js';
import { RENEWABLE_NAMES } from '../../src/cluster/certlist.js';
import { FakeClock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import { isSignedBy, keyAlgorithmOf, keyMatchesPublicKey, parseCertificatePem, parsePrivateKeyPem } from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshot, testConfig } from './fixtures.js';

const HOUR = 3_600_000;
const read = (p: string) => fs.readFile(p, 'utf8');

async function pki(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  const certDir = path.join(root, 'pki');
  const kubeconfigDir = root;
  await initClusterPki({ certDir, kubeconfigDir, config: testConfig({ apiServerCertSANs: 'lb.example.com,10.0.0.99' }), clock: new FakeClock(new Date('2026-01-01T00:00:00Z')) });
  return { root, certDir, kubeconfigDir };
}

test('renewing apiserver keeps subject, SANs and usages; new key, serial and validity; signed by the CA; old files backed up', async (t) => {
  const { root, certDir, kubeconfigDir } = await pki(t);
  const certFile = path.join(certDir, 'apiserver.crt');
  const keyFile = path.join(certDir, 'apiserver.key');
  const oldCertPem = await read(certFile);
  const oldKeyPem = await read(keyFile);
  const old = parseCertificatePem(oldCertPem);
  const before = await snapshot(root);
  const clock = new FakeClock(new Date('2026-09-01T10:00:00Z'));

  const [result] = await renewCertificates({ certDir, kubeconfigDir, names: ['apiserver'], clock });
  assert.equal(result!.status, 'renewed');
  const renewed = parseCertificatePem(await read(certFile));
  assert.deepEqual(renewed.subject, old.subject);
  assert.deepEqual(renewed.sans, old.sans);
  assert.equal(renewed.keyUsage, old.keyUsage);
  assert.deepEqual(renewed.extKeyUsages, old.extKeyUsages);
  assert.notEqual(renewed.serialNumber, old.serialNumber);
  assert.equal(renewed.notBefore.getTime(), clock.now().getTime() - 5 * 60_000);
  assert.equal(renewed.notAfter.getTime(), clock.now().getTime() + 8760 * HOUR);
  const ca = parseCertificatePem(await read(path.join(certDir, 'ca.crt')));
  assert.ok(isSignedBy(renewed, ca));
  const newKey = parsePrivateKeyPem(await read(keyFile));
  assert.ok(keyMatchesPublicKey(newKey, renewed.publicKey));
  assert.ok(!keyMatchesPublicKey(newKey, old.publicKey), 'a new key');
  assert.equal(keyAlgorithmOf(newKey).name, 'ECDSA-P256', 'the algorithm of the replaced key');

  assert.deepEqual(result!.backups, [`${certFile}.20260901T100000.000Z.bak`, `${keyFile}.20260901T100000.000Z.bak`]);
  assert.equal(await read(result!.backups[0]!), oldCertPem);
  assert.equal(await read(result!.backups[1]!), oldKeyPem);
  assert.equal((await fs.stat(result!.backups[1]!)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600);

  const after = await snapshot(root);
  for (const [file, state] of Object.entries(before)) {
    if (file !== certFile && file !== keyFile) assert.deepEqual(after[file], state, `${file} untouched`);
  }
});

test('renewing a kubeconfig replaces only the embedded client certificate and key, keeping what the operator added', async (t) => {
  const { certDir, kubeconfigDir } = await pki(t);
  const file = path.join(kubeconfigDir, 'admin.conf');
  const original = await read(file);
  const edited = `# my admin kubeconfig\n${original.replace('preferences: {}', 'preferences:\n  colors: true')}`;
  await fs.writeFile(file, edited, { mode: 0o600 });
  const oldKc = parseKubeconfig(edited, file);
  const [result] = await renewCertificates({ certDir, kubeconfigDir, names: ['admin.conf'], clock: new FakeClock(new Date('2026-02-01T00:00:00Z')) });
  const text = await read(file);
  assert.match(text, /^# my admin kubeconfig/);
  assert.match(text, /colors: true/);
  const kc = parseKubeconfig(text, file);
  assert.equal(kc.server, oldKc.server);
  assert.equal(kc.caPem, oldKc.caPem);
  assert.notEqual(kc.clientCertPem, oldKc.clientCertPem);
  const cert = parseCertificatePem(kc.clientCertPem!);
  const old = parseCertificatePem(oldKc.clientCertPem!);
  assert.deepEqual(cert.subject, { commonName: 'kubernetes-admin', organization: ['kubeadm:cluster-admins'] });
  assert.deepEqual(cert.extKeyUsages, old.extKeyUsages);
  assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(kc.clientKeyPem!), cert.publicKey));
  assert.equal(await read(result!.backups[0]!), edited);
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
});

test('renew all renews the eleven kubeadm certificates and leaves kubelet.conf and the CAs alone', async (t) => {
  const { root, certDir, kubeconfigDir } = await pki(t);
  const before = await snapshot(root);
  const results = await renewCertificates({ certDir, kubeconfigDir, names: ['all'] });
  assert.deepEqual(results.map((r) => r.name), [...RENEWABLE_NAMES]);
  assert.equal(RENEWABLE_NAMES.length, 11);
  assert.ok(results.every((r) => r.status === 'renewed'));
  const after = await snapshot(root);
  for (const untouched of ['kubelet.conf', 'pki/ca.crt', 'pki/ca.key', 'pki/etcd/ca.key', 'pki/front-proxy-ca.crt', 'pki/sa.key', 'pki/sa.pub']) {
    const p = path.join(root, untouched);
    assert.deepEqual(after[p], before[p], untouched);
  }
  assert.notDeepEqual(after[path.join(certDir, 'etcd', 'peer.crt')], before[path.join(certDir, 'etcd', 'peer.crt')]);
});

test('without the CA key (external CA) renewal is refused and nothing is written', async (t) => {
  const { root, certDir, kubeconfigDir } = await pki(t);
  await fs.rm(path.join(certDir, 'etcd', 'ca.key'));
  for (const names of [['etcd-peer'], ['all']]) {
    const before = await snapshot(root);
    await assert.rejects(renewCertificates({ certDir, kubeconfigDir, names }), (err: unknown) => {
      assert.ok(err instanceof KubepkiError);
      assert.equal(err.code, 'CAKeyMissing');
      assert.match(err.message, /the etcd-ca key .*etcd\/ca\.key is absent \(external CA\)/);
      return true;
    });
    assert.deepEqual(await snapshot(root), before);
  }
});

test('renew refuses kubelet.conf, unknown names and "all" mixed with names', () => {
  assert.throws(() => renewTargets(['kubelet.conf']), /kubelet\.conf is not renewed .*the kubelet rotates its own client certificate/);
  assert.throws(() => renewTargets(['apiserverr']), /unknown certificate "apiserverr": use one of admin\.conf, apiserver,/);
  assert.throws(() => renewTargets(['all', 'apiserver']), /"all" cannot be combined/);
  assert.throws(() => renewTargets([]), /name a certificate to renew/);
});

test('a CA rotation (includeKubeletConf) re-issues kubelet.conf\'s embedded certificate, same subject, from the CA', async (t) => {
  const { certDir, kubeconfigDir } = await pki(t);
  const file = path.join(kubeconfigDir, 'kubelet.conf');
  const old = parseCertificatePem(parseKubeconfig(await read(file), file).clientCertPem!);
  const [result] = await renewCertificates({ certDir, kubeconfigDir, names: ['kubelet.conf'], includeKubeletConf: true, clock: new FakeClock(new Date('2026-09-01T10:00:00Z')) });
  assert.equal(result!.status, 'renewed');
  const kc = parseKubeconfig(await read(file), file);
  const renewed = parseCertificatePem(kc.clientCertPem!);
  assert.deepEqual(renewed.subject, old.subject);
  assert.notEqual(renewed.serialNumber, old.serialNumber);
  assert.ok(isSignedBy(renewed, parseCertificatePem(await read(path.join(certDir, 'ca.crt')))));
  assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(kc.clientKeyPem!), renewed.publicKey));
  assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
});

test('a missing certificate: an error when named, skipped (MISSING) by renew all', async (t) => {
  const { certDir, kubeconfigDir } = await pki(t);
  await fs.rm(path.join(certDir, 'front-proxy-client.crt'));
  await fs.rm(path.join(kubeconfigDir, 'scheduler.conf'));
  await assert.rejects(renewCertificates({ certDir, kubeconfigDir, names: ['front-proxy-client'] }), /cannot renew front-proxy-client: .*front-proxy-client\.crt does not exist/);
  const results = await renewCertificates({ certDir, kubeconfigDir, names: ['all'] });
  assert.deepEqual(results.filter((r) => r.status === 'missing').map((r) => r.name), ['front-proxy-client', 'scheduler.conf']);
  assert.equal(results.filter((r) => r.status === 'renewed').length, 9);
});

test('renewed validity is capped at the CA expiry, and the key algorithm can be changed', async (t) => {
  const { certDir, kubeconfigDir } = await pki(t);
  const ca = parseCertificatePem(await read(path.join(certDir, 'front-proxy-ca.crt')));
  await renewCertificates({ certDir, kubeconfigDir, names: ['front-proxy-client'], certificateValidityMs: 20 * 365 * 24 * HOUR, encryptionAlgorithm: 'ECDSA-P384' });
  const renewed = parseCertificatePem(await read(path.join(certDir, 'front-proxy-client.crt')));
  assert.equal(renewed.notAfter.getTime(), ca.notAfter.getTime());
  assert.equal(keyAlgorithmOf(renewed.publicKey).name, 'ECDSA-P384');
});

test('two renewals in the same millisecond keep both backups', async (t) => {
  const { certDir, kubeconfigDir } = await pki(t);
  const clock = new FakeClock(new Date('2026-05-05T05:05:05.005Z'));
  const first = await renewCertificates({ certDir, kubeconfigDir, names: ['scheduler.conf'], clock });
  const second = await renewCertificates({ certDir, kubeconfigDir, names: ['scheduler.conf'], clock });
  assert.notEqual(first[0]!.backups[0], second[0]!.backups[0]);
  assert.match(second[0]!.backups[0]!, /scheduler\.conf\.20260505T050505\.005Z-1\.bak$/);
});
