import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initClusterPki, CERTIFICATE_BACKDATE_MS } from '../../src/cluster/init.js';
import { CA_LIST, KUBECONFIG_LIST, LEAF_LIST } from '../../src/cluster/certlist.js';
import { parseKubeconfig } from '../../src/cluster/kubeconfig.js';
import { FakeClock } from '../../src/util/clock.js';
import { KubepkiError } from '../../src/util/errors.js';
import {
  EXT_KEY_USAGE_OIDS,
  formatName,
  generateKeyPair,
  isSignedBy,
  issueCertificate,
  keyMatchesPublicKey,
  keyUsageNames,
  parseCertificatePem,
  parsePrivateKeyPem,
  parsePublicKeyPem,
  parseUsages,
  privateKeyToPem,
} from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshot, testConfig } from './fixtures.js';

const HOUR = 3_600_000;

async function freshPki(t: Parameters<typeof tempDir>[0], overrides = {}) {
  const root = await tempDir(t);
  const certDir = path.join(root, 'pki');
  const kubeconfigDir = root;
  const clock = new FakeClock(new Date('2026-03-01T12:00:00Z'));
  const config = testConfig(overrides);
  const summary = await initClusterPki({ certDir, kubeconfigDir, config, clock });
  return { root, certDir, kubeconfigDir, clock, config, summary };
}

const read = (p: string) => fs.readFile(p, 'utf8');

test('init writes every kubeadm file with the subjects, issuers, usages and SANs of the certificate table', async (t) => {
  const { certDir, kubeconfigDir, summary } = await freshPki(t);
  assert.equal(summary.written.length, 3 * 2 + 7 * 2 + 2 + 5);

  const certs = new Map<string, ReturnType<typeof parseCertificatePem>>();
  for (const ca of CA_LIST) certs.set(ca.name, parseCertificatePem(await read(path.join(certDir, `${ca.baseName}.crt`))));
  for (const leaf of LEAF_LIST) certs.set(leaf.name, parseCertificatePem(await read(path.join(certDir, `${leaf.baseName}.crt`))));

  const expected: Record<string, { subject: string; issuer: string; ku: string[]; eku: string[]; dns?: string[]; ips?: string[] }> = {
    ca: { subject: 'CN=kubernetes', issuer: 'CN=kubernetes', ku: ['digital signature', 'key encipherment', 'cert sign'], eku: [], dns: ['kubernetes'] },
    'front-proxy-ca': { subject: 'CN=front-proxy-ca', issuer: 'CN=front-proxy-ca', ku: ['digital signature', 'key encipherment', 'cert sign'], eku: [] },
    'etcd-ca': { subject: 'CN=etcd-ca', issuer: 'CN=etcd-ca', ku: ['digital signature', 'key encipherment', 'cert sign'], eku: [] },
    apiserver: {
      subject: 'CN=kube-apiserver',
      issuer: 'CN=kubernetes',
      ku: ['digital signature', 'key encipherment'],
      eku: ['server auth'],
      dns: ['cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      ips: ['10.96.0.1', '10.0.0.5'],
    },
    'apiserver-kubelet-client': { subject: 'O=kubeadm:cluster-admins, CN=kube-apiserver-kubelet-client', issuer: 'CN=kubernetes', ku: ['digital signature', 'key encipherment'], eku: ['client auth'], dns: [], ips: [] },
    'front-proxy-client': { subject: 'CN=front-proxy-client', issuer: 'CN=front-proxy-ca', ku: ['digital signature', 'key encipherment'], eku: ['client auth'], dns: [], ips: [] },
    'etcd-server': { subject: 'CN=cp-1', issuer: 'CN=etcd-ca', ku: ['digital signature', 'key encipherment'], eku: ['server auth', 'client auth'], dns: ['cp-1', 'localhost'], ips: ['10.0.0.5', '127.0.0.1', '::1'] },
    'etcd-peer': { subject: 'CN=cp-1', issuer: 'CN=etcd-ca', ku: ['digital signature', 'key encipherment'], eku: ['server auth', 'client auth'], dns: ['cp-1', 'localhost'], ips: ['10.0.0.5', '127.0.0.1', '::1'] },
    'etcd-healthcheck-client': { subject: 'CN=kube-etcd-healthcheck-client', issuer: 'CN=etcd-ca', ku: ['digital signature', 'key encipherment'], eku: ['client auth'], dns: [], ips: [] },
    'apiserver-etcd-client': { subject: 'CN=kube-apiserver-etcd-client', issuer: 'CN=etcd-ca', ku: ['digital signature', 'key encipherment'], eku: ['client auth'], dns: [], ips: [] },
  };
  for (const [name, want] of Object.entries(expected)) {
    const c = certs.get(name)!;
    assert.equal(formatName(c.subject), want.subject, `${name} subject`);
    assert.equal(formatName(c.issuer), want.issuer, `${name} issuer`);
    assert.deepEqual(keyUsageNames(c.keyUsage), want.ku, `${name} key usage`);
    assert.deepEqual(c.extKeyUsages, want.eku.map((e) => EXT_KEY_USAGE_OIDS[e as 'server auth']), `${name} EKU`);
    if (want.dns) assert.deepEqual(c.sans.dnsNames, want.dns, `${name} DNS SANs`);
    if (want.ips) assert.deepEqual(c.sans.ipAddresses, want.ips, `${name} IP SANs`);
    assert.equal(c.isCA, name.endsWith('ca'), `${name} basic constraints`);
    assert.match(c.subjectKeyId, /^[0-9a-f]{40}$/, `${name} SKI`);
    assert.match(c.authorityKeyId, /^[0-9a-f]{40}$/, `${name} AKI`);
    assert.ok(c.serialNumber.length >= 32, `${name} serial has 128+ bits`);
    const ca = certs.get(name.endsWith('ca') ? name : LEAF_LIST.find((l) => l.name === name)!.caName)!;
    assert.ok(isSignedBy(c, ca), `${name} is signed by its CA`);
    assert.equal(c.authorityKeyId, ca.subjectKeyId, `${name} AKI is its CA's SKI`);
  }
  // Every key is the key of its certificate, and private keys are 0600.
  for (const spec of [...CA_LIST, ...LEAF_LIST]) {
    const keyFile = path.join(certDir, `${spec.baseName}.key`);
    assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(await read(keyFile)), certs.get(spec.name)!.publicKey), `${spec.name} key`);
    assert.equal((await fs.stat(keyFile)).mode & 0o777, 0o600, `${keyFile} mode`);
    assert.equal((await fs.stat(path.join(certDir, `${spec.baseName}.crt`))).mode & 0o777, 0o644);
  }
  assert.equal((await fs.stat(path.join(certDir, 'etcd'))).mode & 0o777, 0o755);
  assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(await read(path.join(certDir, 'sa.key'))), parsePublicKeyPem(await read(path.join(certDir, 'sa.pub')))));

  const users: Record<string, { cn: string; o: string[]; server: string }> = {
    'admin.conf': { cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'], server: 'https://10.0.0.5:6443' },
    'super-admin.conf': { cn: 'kubernetes-super-admin', o: ['system:masters'], server: 'https://10.0.0.5:6443' },
    'kubelet.conf': { cn: 'system:node:cp-1', o: ['system:nodes'], server: 'https://10.0.0.5:6443' },
    'controller-manager.conf': { cn: 'system:kube-controller-manager', o: [], server: 'https://10.0.0.5:6443' },
    'scheduler.conf': { cn: 'system:kube-scheduler', o: [], server: 'https://10.0.0.5:6443' },
  };
  for (const spec of KUBECONFIG_LIST) {
    const file = path.join(kubeconfigDir, spec.name);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    const kc = parseKubeconfig(await read(file), file);
    const want = users[spec.name]!;
    assert.equal(kc.server, want.server);
    assert.equal(kc.userName, want.cn);
    assert.equal(kc.contextName, `${want.cn}@kubernetes`);
    assert.equal(kc.caPem, certs.get('ca')!.pem);
    const client = parseCertificatePem(kc.clientCertPem!);
    assert.equal(client.subject.commonName, want.cn);
    assert.deepEqual(client.subject.organization ?? [], want.o);
    assert.deepEqual(client.extKeyUsages, [EXT_KEY_USAGE_OIDS['client auth']]);
    assert.ok(isSignedBy(client, certs.get('ca')!));
    assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(kc.clientKeyPem!), client.publicKey));
  }
});

test('validity comes from the injected clock: backdated 5 minutes, 1 year for leaves, 10 years for CAs', async (t) => {
  const { certDir, clock } = await freshPki(t);
  const now = clock.now().getTime();
  const ca = parseCertificatePem(await read(path.join(certDir, 'ca.crt')));
  const apiserver = parseCertificatePem(await read(path.join(certDir, 'apiserver.crt')));
  assert.equal(ca.notBefore.getTime(), now - CERTIFICATE_BACKDATE_MS);
  assert.equal(ca.notAfter.getTime(), now + 87600 * HOUR);
  assert.equal(apiserver.notBefore.getTime(), now - CERTIFICATE_BACKDATE_MS);
  assert.equal(apiserver.notAfter.getTime(), now + 8760 * HOUR);
});

test('a leaf validity longer than the CA\'s is capped at the CA\'s expiry', async (t) => {
  const { certDir } = await freshPki(t, { caCertificateValidityPeriod: '100h', certificateValidityPeriod: '200h' });
  const ca = parseCertificatePem(await read(path.join(certDir, 'ca.crt')));
  const leaf = parseCertificatePem(await read(path.join(certDir, 'apiserver-kubelet-client.crt')));
  assert.equal(leaf.notAfter.getTime(), ca.notAfter.getTime());
});

test('running init twice changes nothing: no file is rewritten, byte for byte', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  const before = await snapshot(root);
  const again = await initClusterPki({ certDir, kubeconfigDir, config, clock: new FakeClock(new Date('2026-06-01T00:00:00Z')) });
  assert.deepEqual(again.written, []);
  assert.equal(again.kept.length, 27);
  assert.deepEqual(await snapshot(root), before);
  assert.ok(again.entries.every((e) => e.action === 'kept'));
});

test('an existing CA signs the missing leaves and kubeconfigs; everything else is kept', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  await fs.rm(path.join(certDir, 'apiserver.crt'));
  await fs.rm(path.join(certDir, 'apiserver.key'));
  await fs.rm(path.join(kubeconfigDir, 'admin.conf'));
  await fs.rm(path.join(certDir, 'sa.pub'));
  const before = await snapshot(root);
  const summary = await initClusterPki({ certDir, kubeconfigDir, config });
  assert.deepEqual(summary.written.sort(), [path.join(kubeconfigDir, 'admin.conf'), path.join(certDir, 'apiserver.crt'), path.join(certDir, 'apiserver.key'), path.join(certDir, 'sa.pub')].sort());
  const after = await snapshot(root);
  for (const [file, state] of Object.entries(before)) assert.deepEqual(after[file], state, `${file} kept`);
  const ca = parseCertificatePem(await read(path.join(certDir, 'ca.crt')));
  assert.ok(isSignedBy(parseCertificatePem(await read(path.join(certDir, 'apiserver.crt'))), ca));
  const kc = parseKubeconfig(await read(path.join(kubeconfigDir, 'admin.conf')), 'admin.conf');
  assert.ok(isSignedBy(parseCertificatePem(kc.clientCertPem!), ca));
  // sa.pub is derived from the kept sa.key.
  assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(await read(path.join(certDir, 'sa.key'))), parsePublicKeyPem(await read(path.join(certDir, 'sa.pub')))));
});

async function expectRefusal(root: string, run: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = await snapshot(root);
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof KubepkiError, String(err));
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
  assert.deepEqual(await snapshot(root), before, 'nothing on disk changed');
}

test('a truncated certificate is refused with its path, and nothing is written', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  const file = path.join(certDir, 'etcd', 'server.crt');
  const pem = await read(file);
  await fs.writeFile(file, pem.slice(0, pem.length / 2));
  await fs.rm(path.join(certDir, 'front-proxy-client.crt'));
  await fs.rm(path.join(certDir, 'front-proxy-client.key'));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), new RegExp(`${file.replace(/[.]/g, '\\.')}: .*truncated`));
});

test('a key that does not match its certificate is refused, naming both files', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  await fs.copyFile(path.join(certDir, 'apiserver-kubelet-client.key'), path.join(certDir, 'apiserver.key'));
  await fs.rm(path.join(kubeconfigDir, 'scheduler.conf'));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), /pki\/apiserver\.key does not match .*pki\/apiserver\.crt/);
});

test('a CA key that does not match the CA certificate is refused', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  await fs.copyFile(path.join(certDir, 'front-proxy-ca.key'), path.join(certDir, 'etcd', 'ca.key'));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), /etcd\/ca\.key does not match .*etcd\/ca\.crt/);
});

test('a leaf signed by another CA is refused, naming the file and its expected CA', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  const otherKey = await generateKeyPair('ECDSA-P256');
  const now = new Date();
  const other = await issueCertificate({
    template: { subject: { commonName: 'kubernetes' }, notBefore: now, notAfter: new Date(now.getTime() + 10 * HOUR), isCA: true, ...parseUsages(['digital signature', 'key encipherment', 'cert sign']) },
    publicKey: otherKey.publicKey,
    issuer: { selfSigned: otherKey },
  });
  const leafKey = await generateKeyPair('ECDSA-P256');
  const leaf = await issueCertificate({
    template: { subject: { commonName: 'front-proxy-client' }, notBefore: now, notAfter: new Date(now.getTime() + HOUR), ...parseUsages(['digital signature', 'key encipherment', 'client auth']) },
    publicKey: leafKey.publicKey,
    issuer: { certificate: other, privateKey: otherKey.privateKey },
  });
  await fs.writeFile(path.join(certDir, 'front-proxy-client.crt'), leaf.pem);
  await fs.writeFile(path.join(certDir, 'front-proxy-client.key'), privateKeyToPem(leafKey.privateKey));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), /front-proxy-client\.crt is not signed by .*front-proxy-ca\.crt/);
});

test('a kubeconfig embedding another CA is refused', async (t) => {
  const a = await freshPki(t);
  const b = await freshPki(t);
  await fs.copyFile(path.join(b.kubeconfigDir, 'kubelet.conf'), path.join(a.kubeconfigDir, 'kubelet.conf'));
  await expectRefusal(a.root, () => initClusterPki({ certDir: a.certDir, kubeconfigDir: a.kubeconfigDir, config: a.config }), /kubelet\.conf exists already but has got the wrong CA cert/);
});

test('an existing certificate lacking a SAN the configuration needs is refused', async (t) => {
  const { certDir, kubeconfigDir, root } = await freshPki(t);
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config: testConfig({ apiServerCertSANs: 'lb.example.com' }) }), /apiserver\.crt is not valid for this configuration: it lacks SAN DNS:lb\.example\.com/);
});

test('a key without its certificate, or a certificate without its key, is refused', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  await fs.rm(path.join(certDir, 'etcd', 'peer.crt'));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), /etcd\/peer\.key exists but .*etcd\/peer\.crt does not/);
  const second = await freshPki(t);
  await fs.rm(path.join(second.certDir, 'ca.crt'));
  await expectRefusal(second.root, () => initClusterPki({ certDir: second.certDir, kubeconfigDir: second.kubeconfigDir, config: second.config }), /ca\.key exists but .*ca\.crt does not/);
});

test('external CA mode: without ca.key, complete files are accepted and a missing one is refused', async (t) => {
  const { certDir, kubeconfigDir, config, root } = await freshPki(t);
  await fs.rm(path.join(certDir, 'ca.key'));
  const ok = await initClusterPki({ certDir, kubeconfigDir, config });
  assert.deepEqual(ok.written, []);
  assert.equal(ok.entries.find((e) => e.name === 'ca')!.action, 'external');
  await fs.rm(path.join(kubeconfigDir, 'controller-manager.conf'));
  await expectRefusal(root, () => initClusterPki({ certDir, kubeconfigDir, config }), /controller-manager\.conf is missing and cannot be created: the CA key .*ca\.key is absent \(external CA mode\)/);
});

test('a failure while writing leaves the disk as it was (nothing half-created)', async (t) => {
  const root = await tempDir(t);
  const kubeconfigDir = path.join(root, 'not-a-dir');
  await fs.writeFile(kubeconfigDir, 'a file where the kubeconfig directory should be');
  await assert.rejects(initClusterPki({ certDir: path.join(root, 'pki'), kubeconfigDir, config: testConfig() }), /cannot write files/);
  const left = await snapshot(root);
  assert.deepEqual(Object.keys(left), [kubeconfigDir]);
});

test('the control-plane endpoint is the admin/kubelet server and an apiserver SAN; controller-manager and scheduler use the local endpoint', async (t) => {
  const { certDir, kubeconfigDir } = await freshPki(t, { controlPlaneEndpoint: 'cp.example.com:8443', clusterName: 'prod' });
  const apiserver = parseCertificatePem(await read(path.join(certDir, 'apiserver.crt')));
  assert.ok(apiserver.sans.dnsNames.includes('cp.example.com'));
  for (const [name, server] of [['admin.conf', 'https://cp.example.com:8443'], ['super-admin.conf', 'https://cp.example.com:8443'], ['kubelet.conf', 'https://cp.example.com:8443'], ['controller-manager.conf', 'https://10.0.0.5:6443'], ['scheduler.conf', 'https://10.0.0.5:6443']] as const) {
    const kc = parseKubeconfig(await read(path.join(kubeconfigDir, name)), name);
    assert.equal(kc.server, server, name);
    assert.equal(kc.clusterName, 'prod');
  }
});

test('RSA keys are written as PKCS#1 and ECDSA keys as SEC1, as kubeadm writes them', async (t) => {
  const ec = await freshPki(t, { encryptionAlgorithm: 'ECDSA-P384' });
  assert.match(await read(path.join(ec.certDir, 'apiserver.key')), /^-----BEGIN EC PRIVATE KEY-----/);
  assert.match(await read(path.join(ec.certDir, 'sa.pub')), /^-----BEGIN PUBLIC KEY-----/);
  const rsa = await freshPki(t, { encryptionAlgorithm: 'RSA-2048' });
  const keyPem = await read(path.join(rsa.certDir, 'ca.key'));
  assert.match(keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(parsePrivateKeyPem(keyPem).asymmetricKeyDetails?.modulusLength, 2048);
});
