// `kubepki certs check-expiration | renew | inspect` through the CLI, judged with openssl and kubectl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubepki, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { snapshot } from '../cluster/fixtures.js';

let root: string;
let certDir: string;

const dirs = () => ['--cert-dir', certDir, '--kubeconfig-dir', root];
const pki = (name: string) => path.join(certDir, name);
const openssl = (...args: string[]) => run('openssl', args);

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kubepki-e2e-certs-'));
  certDir = path.join(root, 'pki');
  const r = await kubepki(['init', ...dirs(), '--node-name', 'cp-0', '--apiserver-advertise-address', '10.1.0.10', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

test('check-expiration prints kubeadm\'s two tables', async () => {
  const r = await kubepki(['certs', 'check-expiration', ...dirs()]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED');
  assert.match(lines[1]!, /^admin\.conf {17}[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC {3}364d {12}ca {22}no {6}$/);
  assert.deepEqual(lines.slice(1, 12).map((l) => l.split(/\s+/)[0]), ['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf']);
  assert.equal(lines[12], '');
  assert.equal(lines[13], 'CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED');
  assert.match(lines[14]!, /^ca {22}[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC {3}9y {14}no {6}$/);
  assert.deepEqual(lines.slice(14, 17).map((l) => l.split(/\s+/)[0]), ['ca', 'etcd-ca', 'front-proxy-ca']);
  assert.doesNotMatch(r.stdout, /kubelet\.conf/);
});

test('check-expiration -o json is kubeadm\'s CertificateExpirationInfo, with dates openssl agrees on', async () => {
  const r = await kubepki(['certs', 'check-expiration', ...dirs(), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.kind, 'CertificateExpirationInfo');
  assert.equal(doc.apiVersion, 'output.kubeadm.k8s.io/v1alpha3');
  assert.equal(doc.certificates.length, 11);
  assert.equal(doc.certificateAuthorities.length, 3);
  const apiserver = doc.certificates.find((c: { name: string }) => c.name === 'apiserver');
  assert.deepEqual(Object.keys(apiserver), ['name', 'expirationDate', 'residualTime', 'externallyManaged', 'caName', 'missing']);
  const enddate = (await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-enddate')).stdout.trim().replace('notAfter=', '');
  assert.equal(new Date(apiserver.expirationDate).getTime(), new Date(enddate).getTime());
  assert.ok(apiserver.residualTime > 364 * 86400 && apiserver.residualTime <= 365 * 86400);
  assert.equal(doc.certificateAuthorities[0].caName, undefined);
  const yaml = await kubepki(['certs', 'check-expiration', ...dirs(), '-o', 'yaml']);
  assert.match(yaml.stdout, /^kind: CertificateExpirationInfo$/m);
});

test('renew apiserver: a new certificate openssl verifies against ca.crt, same SANs, new serial; the old one kept as a backup', async () => {
  const sansBefore = (await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject')).stdout;
  const serialBefore = (await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-serial')).stdout;
  const oldPem = await fs.readFile(pki('apiserver.crt'), 'utf8');
  const r = await kubepki(['certs', 'renew', 'apiserver', ...dirs(), '--certificate-validity-period', '720h']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^certificate for serving the Kubernetes API renewed$/m);
  const backup = /^\s+(\S+apiserver\.crt\.\S+\.bak)$/m.exec(r.stdout)![1]!;
  assert.equal(await fs.readFile(backup, 'utf8'), oldPem);
  assert.equal((await openssl('verify', '-purpose', 'sslserver', '-CAfile', pki('ca.crt'), pki('apiserver.crt'))).code, 0);
  assert.equal((await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-subject')).stdout, sansBefore);
  assert.notEqual((await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-serial')).stdout, serialBefore);
  assert.equal((await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-pubkey')).stdout, (await openssl('pkey', '-in', pki('apiserver.key'), '-pubout')).stdout);
  const end = new Date((await openssl('x509', '-in', pki('apiserver.crt'), '-noout', '-enddate')).stdout.trim().replace('notAfter=', ''));
  assert.ok(Math.abs(end.getTime() - (Date.now() + 720 * 3600_000)) < 120_000, 'validity from --certificate-validity-period');
});

test('renew all: kubectl still reads the renewed kubeconfigs and their certificates verify; kubelet.conf is untouched', async () => {
  const kubeletBefore = await fs.readFile(path.join(root, 'kubelet.conf'), 'utf8');
  const r = await kubepki(['certs', 'renew', 'all', ...dirs()]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter((l) => l.endsWith(' renewed')).length, 11);
  assert.match(r.stdout, /Done renewing certificates\. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd/);
  assert.equal(await fs.readFile(path.join(root, 'kubelet.conf'), 'utf8'), kubeletBefore);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-renew-'));
  try {
    for (const file of ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
      const view = await run('kubectl', ['config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.client-certificate-data}', '--kubeconfig', path.join(root, file)]);
      assert.equal(view.code, 0, view.stderr);
      const certFile = path.join(dir, `${file}.crt`);
      await fs.writeFile(certFile, Buffer.from(view.stdout, 'base64'));
      assert.equal((await openssl('verify', '-purpose', 'sslclient', '-CAfile', pki('ca.crt'), certFile)).code, 0, file);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  for (const [cert, ca] of [['etcd/peer.crt', 'etcd/ca.crt'], ['front-proxy-client.crt', 'front-proxy-ca.crt']]) {
    assert.equal((await openssl('verify', '-CAfile', pki(ca), pki(cert))).code, 0, cert);
  }
});

test('renew refuses kubelet.conf, unknown names and an external CA, with one line and nothing written', async (t) => {
  const external = await tempDir(t);
  const extPki = path.join(external, 'pki');
  await fs.cp(certDir, extPki, { recursive: true });
  await fs.rm(path.join(extPki, 'ca.key'));
  for (const [args, message] of [
    [['renew', 'kubelet.conf', ...dirs()], /kubelet\.conf is not renewed/],
    [['renew', 'etcd', ...dirs()], /unknown certificate "etcd": use one of/],
    [['renew', ...dirs()], /missing required argument 'name'/],
    [['renew', 'apiserver', '--cert-dir', extPki, '--kubeconfig-dir', root], /cannot renew apiserver: the ca key .*ca\.key is absent \(external CA\)/],
    [['renew', 'all', '--cert-dir', extPki, '--kubeconfig-dir', root], /is absent \(external CA\)/],
    [['renew', 'apiserver', ...dirs(), '--certificate-validity-period', 'forever'], /--certificate-validity-period: invalid duration "forever"/],
  ] as [string[], RegExp][]) {
    const before = await snapshot(root, external);
    const r = await kubepki(['certs', ...args]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.deepEqual(await snapshot(root, external), before, `nothing written: ${args.join(' ')}`);
  }
});

test('inspect shows a certificate as openssl does, and -o json describes it', async () => {
  const r = await kubepki(['certs', 'inspect', pki('etcd/server.crt')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\s+Subject: CN=cp-0$/m);
  assert.match(r.stdout, /^\s+Issuer: CN=etcd-ca$/m);
  assert.match(r.stdout, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(r.stdout, /DNS:cp-0, DNS:localhost, IP Address:10\.1\.0\.10, IP Address:127\.0\.0\.1, IP Address:::1/);
  const fp = (await openssl('x509', '-in', pki('etcd/server.crt'), '-noout', '-fingerprint', '-sha256')).stdout.trim().split('=')[1];
  assert.match(r.stdout, new RegExp(`SHA256 Fingerprint: ${fp}`));
  const serial = (await openssl('x509', '-in', pki('etcd/server.crt'), '-noout', '-serial')).stdout.trim().split('=')[1]!.toLowerCase();
  const json = JSON.parse((await kubepki(['certs', 'inspect', pki('etcd/server.crt'), '-o', 'json'])).stdout);
  assert.equal(json.kind, 'Certificate');
  assert.equal(BigInt(`0x${json.certificates[0].serialNumber}`), BigInt(`0x${serial}`));
  assert.equal(json.certificates[0].serialNumberDecimal, BigInt(`0x${serial}`).toString());
  assert.deepEqual(json.certificates[0].sans.ipAddresses, ['10.1.0.10', '127.0.0.1', '::1']);
  assert.deepEqual(json.certificates[0].extKeyUsage, ['server auth', 'client auth']);
  assert.equal(json.certificates[0].publicKey, 'ECDSA-P256');
});

test('inspect reads a kubeconfig, a CSR made by openssl and a key (never printing key material)', async (t) => {
  const kc = await kubepki(['certs', 'inspect', path.join(root, 'kubelet.conf'), '-o', 'json']);
  assert.equal(kc.code, 0, kc.stderr);
  const doc = JSON.parse(kc.stdout);
  assert.equal(doc.kind, 'Kubeconfig');
  assert.equal(doc.currentContext, 'system:node:cp-0@kubernetes');
  assert.equal(doc.clusters[0].certificateAuthority[0].subject, 'CN=kubernetes');
  assert.equal(doc.users[0].clientCertificate[0].subject, 'O=system:nodes, CN=system:node:cp-0');
  assert.equal(doc.users[0].clientKey, 'ECDSA-P256');
  assert.doesNotMatch(kc.stdout, /PRIVATE KEY/);

  const dir = await tempDir(t);
  const csr = path.join(dir, 'node.csr');
  const gen = await openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'node.key'), '-subj', '/O=system:nodes/CN=system:node:worker-1', '-addext', 'subjectAltName=DNS:worker-1,IP:10.1.0.21', '-out', csr);
  assert.equal(gen.code, 0, gen.stderr);
  const c = await kubepki(['certs', 'inspect', csr]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, /^Certificate Request:\n\s+Subject: O=system:nodes, CN=system:node:worker-1$/m);
  assert.match(c.stdout, /DNS:worker-1, IP Address:10\.1\.0\.21/);

  const k = await kubepki(['certs', 'inspect', pki('sa.key')]);
  assert.equal(k.code, 0, k.stderr);
  assert.match(k.stdout, /^Private Key: ECDSA-P256$/m);
  assert.doesNotMatch(k.stdout, /BEGIN/);
});

test('inspect describes every certificate of a bundle, and check-expiration takes the directory from --config', async (t) => {
  const dir = await tempDir(t);
  const bundle = path.join(dir, 'bundle.crt');
  await fs.writeFile(bundle, (await fs.readFile(pki('ca.crt'), 'utf8')) + (await fs.readFile(pki('front-proxy-ca.crt'), 'utf8')));
  const text = await kubepki(['certs', 'inspect', bundle]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# 1 of 2$/m);
  assert.match(text.stdout, /^# 2 of 2$/m);
  const json = JSON.parse((await kubepki(['certs', 'inspect', bundle, '-o', 'json'])).stdout);
  assert.deepEqual(json.certificates.map((c: { subject: string }) => c.subject), ['CN=kubernetes', 'CN=front-proxy-ca']);

  const cfg = path.join(dir, 'kubeadm.yaml');
  await fs.writeFile(cfg, `apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: ${certDir}\n`);
  const r = await kubepki(['certs', 'check-expiration', '--config', cfg, '--kubeconfig-dir', root, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).certificates.every((c: { missing: boolean }) => !c.missing));
});

test('inspect of a missing, corrupt or unrecognised file: one clear line naming it', async (t) => {
  const dir = await tempDir(t);
  const truncated = path.join(dir, 'cut.crt');
  const pem = await fs.readFile(pki('ca.crt'), 'utf8');
  await fs.writeFile(truncated, pem.slice(0, 200));
  const garbage = path.join(dir, 'notes.txt');
  await fs.writeFile(garbage, 'hello world\n');
  const badB64 = path.join(dir, 'bad.crt');
  await fs.writeFile(badB64, '-----BEGIN CERTIFICATE-----\n@@@@\n-----END CERTIFICATE-----\n');
  for (const [file, message] of [
    [path.join(dir, 'nope.crt'), /cannot read .*nope\.crt: no such file/],
    [truncated, /cut\.crt: .*truncated/],
    [garbage, /notes\.txt: not a PEM certificate, CSR or key, nor a kubeconfig/],
    [badB64, /bad\.crt: PEM block CERTIFICATE has invalid base64 content/],
  ] as [string, RegExp][]) {
    const r = await kubepki(['certs', 'inspect', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
