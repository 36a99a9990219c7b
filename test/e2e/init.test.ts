// `kubepki init` judged by the real tools: openssl verifies every certificate for its purpose against the right
// CA and compares key/certificate pairs; kubectl reads every kubeconfig.
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
let initOutput: { code: number; stdout: string; stderr: string };

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kubepki-e2e-init-'));
  certDir = path.join(root, 'pki');
  // Defaults (RSA-2048), as an operator runs it.
  initOutput = await kubepki([
    'init',
    '--cert-dir', certDir,
    '--kubeconfig-dir', root,
    '--node-name', 'master-1',
    '--apiserver-advertise-address', '192.168.10.11',
    '--apiserver-cert-extra-sans', 'k8s.example.com,192.168.10.100',
    '--control-plane-endpoint', 'k8s.example.com:6443',
  ]);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const pki = (name: string) => path.join(certDir, name);
const openssl = (...args: string[]) => run('openssl', args);

/** name → [certificate, CA, openssl purposes it must pass] */
const LEAVES: [string, string, ('sslserver' | 'sslclient')[]][] = [
  ['apiserver.crt', 'ca.crt', ['sslserver']],
  ['apiserver-kubelet-client.crt', 'ca.crt', ['sslclient']],
  ['front-proxy-client.crt', 'front-proxy-ca.crt', ['sslclient']],
  ['etcd/server.crt', 'etcd/ca.crt', ['sslserver', 'sslclient']],
  ['etcd/peer.crt', 'etcd/ca.crt', ['sslserver', 'sslclient']],
  ['etcd/healthcheck-client.crt', 'etcd/ca.crt', ['sslclient']],
  ['apiserver-etcd-client.crt', 'etcd/ca.crt', ['sslclient']],
];

test('init succeeds and reports what it generated, kubeadm style', () => {
  assert.equal(initOutput.code, 0, initOutput.stderr);
  assert.match(initOutput.stdout, /^\[certs\] Generating "ca" certificate and key$/m);
  assert.match(initOutput.stdout, /^\[certs\] apiserver serving cert is signed for DNS names \[k8s\.example\.com kubernetes kubernetes\.default kubernetes\.default\.svc kubernetes\.default\.svc\.cluster\.local master-1\] and IPs \[10\.96\.0\.1 192\.168\.10\.11 192\.168\.10\.100\]$/m);
  assert.match(initOutput.stdout, /^\[kubeconfig\] Writing "super-admin\.conf" kubeconfig file$/m);
});

test('openssl verifies every certificate for its purpose against its CA, and rejects it against another CA', async () => {
  for (const [cert, ca, purposes] of LEAVES) {
    for (const purpose of purposes) {
      const ok = await openssl('verify', '-purpose', purpose, '-CAfile', pki(ca), pki(cert));
      assert.equal(ok.code, 0, `${cert} ${purpose}: ${ok.stdout}${ok.stderr}`);
      assert.match(ok.stdout, /: OK/);
    }
    const wrongCa = ca === 'ca.crt' ? 'etcd/ca.crt' : 'ca.crt';
    const bad = await openssl('verify', '-CAfile', pki(wrongCa), pki(cert));
    assert.notEqual(bad.code, 0, `${cert} must not verify against ${wrongCa}`);
  }
  // A client certificate is not a server certificate (and vice versa).
  assert.notEqual((await openssl('verify', '-purpose', 'sslserver', '-CAfile', pki('ca.crt'), pki('apiserver-kubelet-client.crt'))).code, 0);
  assert.notEqual((await openssl('verify', '-purpose', 'sslclient', '-CAfile', pki('ca.crt'), pki('apiserver.crt'))).code, 0);
  for (const ca of ['ca.crt', 'front-proxy-ca.crt', 'etcd/ca.crt']) {
    const self = await openssl('verify', '-CAfile', pki(ca), pki(ca));
    assert.equal(self.code, 0, `${ca} is a self-signed root: ${self.stderr}`);
  }
});

test('every private key is the key of its certificate (openssl compares the public keys)', async () => {
  for (const base of ['ca', 'front-proxy-ca', 'etcd/ca', ...LEAVES.map(([c]) => c.replace(/\.crt$/, ''))]) {
    const fromCert = await openssl('x509', '-in', pki(`${base}.crt`), '-noout', '-pubkey');
    const fromKey = await openssl('pkey', '-in', pki(`${base}.key`), '-pubout');
    assert.equal(fromCert.code, 0);
    assert.equal(fromKey.code, 0);
    assert.equal(fromCert.stdout, fromKey.stdout, `${base}.key matches ${base}.crt`);
    const text = await openssl('pkey', '-in', pki(`${base}.key`), '-noout', '-text');
    assert.match(text.stdout, /Private-Key: \(2048 bit, 2 primes\)/, `${base} is RSA-2048 by default`);
  }
  const saPub = await openssl('pkey', '-in', pki('sa.key'), '-pubout');
  assert.equal(saPub.stdout, await fs.readFile(pki('sa.pub'), 'utf8'));
});

test('subjects, issuers, key usages, extended key usages and SANs read by openssl match the table', async () => {
  const expect: Record<string, { subject: string; issuer: string; ku: string; eku?: string; san?: string }> = {
    'ca.crt': { subject: 'CN = kubernetes', issuer: 'CN = kubernetes', ku: 'Digital Signature, Key Encipherment, Certificate Sign', san: 'DNS:kubernetes' },
    'front-proxy-ca.crt': { subject: 'CN = front-proxy-ca', issuer: 'CN = front-proxy-ca', ku: 'Digital Signature, Key Encipherment, Certificate Sign', san: 'DNS:front-proxy-ca' },
    'etcd/ca.crt': { subject: 'CN = etcd-ca', issuer: 'CN = etcd-ca', ku: 'Digital Signature, Key Encipherment, Certificate Sign', san: 'DNS:etcd-ca' },
    'apiserver.crt': {
      subject: 'CN = kube-apiserver',
      issuer: 'CN = kubernetes',
      ku: 'Digital Signature, Key Encipherment',
      eku: 'TLS Web Server Authentication',
      san: 'DNS:k8s.example.com, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, DNS:master-1, IP Address:10.96.0.1, IP Address:192.168.10.11, IP Address:192.168.10.100',
    },
    'apiserver-kubelet-client.crt': { subject: 'O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client', issuer: 'CN = kubernetes', ku: 'Digital Signature, Key Encipherment', eku: 'TLS Web Client Authentication' },
    'front-proxy-client.crt': { subject: 'CN = front-proxy-client', issuer: 'CN = front-proxy-ca', ku: 'Digital Signature, Key Encipherment', eku: 'TLS Web Client Authentication' },
    'etcd/server.crt': {
      subject: 'CN = master-1',
      issuer: 'CN = etcd-ca',
      ku: 'Digital Signature, Key Encipherment',
      eku: 'TLS Web Server Authentication, TLS Web Client Authentication',
      san: 'DNS:localhost, DNS:master-1, IP Address:192.168.10.11, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    },
    'etcd/peer.crt': {
      subject: 'CN = master-1',
      issuer: 'CN = etcd-ca',
      ku: 'Digital Signature, Key Encipherment',
      eku: 'TLS Web Server Authentication, TLS Web Client Authentication',
      san: 'DNS:localhost, DNS:master-1, IP Address:192.168.10.11, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    },
    'etcd/healthcheck-client.crt': { subject: 'CN = kube-etcd-healthcheck-client', issuer: 'CN = etcd-ca', ku: 'Digital Signature, Key Encipherment', eku: 'TLS Web Client Authentication' },
    'apiserver-etcd-client.crt': { subject: 'CN = kube-apiserver-etcd-client', issuer: 'CN = etcd-ca', ku: 'Digital Signature, Key Encipherment', eku: 'TLS Web Client Authentication' },
  };
  for (const [file, want] of Object.entries(expect)) {
    const r = await openssl('x509', '-in', pki(file), '-noout', '-subject', '-issuer', '-ext', 'keyUsage,extendedKeyUsage,subjectAltName,basicConstraints,subjectKeyIdentifier,authorityKeyIdentifier', '-nameopt', 'oneline');
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, new RegExp(`^subject=${escape(want.subject)}$`, 'm'), `${file} subject\n${out}`);
    assert.match(out, new RegExp(`^issuer=${escape(want.issuer)}$`, 'm'), `${file} issuer`);
    assert.match(out, new RegExp(`X509v3 Key Usage: critical\\n\\s+${escape(want.ku)}\\n`), `${file} key usage\n${out}`);
    if (want.eku) assert.match(out, new RegExp(`X509v3 Extended Key Usage: \\n\\s+${escape(want.eku)}\\n`), `${file} EKU\n${out}`);
    else assert.doesNotMatch(out, /Extended Key Usage/, `${file} has no EKU`);
    if (want.san) assert.match(out, new RegExp(`X509v3 Subject Alternative Name: \\n\\s+${escape(want.san)}\\n`), `${file} SANs\n${out}`);
    else assert.doesNotMatch(out, /Subject Alternative Name/, `${file} has no SANs`);
    assert.match(out, new RegExp(`Basic Constraints: critical\\n\\s+CA:${file.includes('ca.crt') ? 'TRUE' : 'FALSE'}`), `${file} basic constraints`);
    assert.match(out, /Subject Key Identifier: \n\s+[0-9A-F:]{59}\n/, `${file} SKI`);
    assert.match(out, /Authority Key Identifier: \n\s+(keyid:)?[0-9A-F:]{59}\n/, `${file} AKI`);
  }
});

test('kubectl reads every kubeconfig: server, user and embedded credentials; the client certificates verify as sslclient against ca.crt', async () => {
  const users: Record<string, { user: string; server: string; subject: string }> = {
    'admin.conf': { user: 'kubernetes-admin', server: 'https://k8s.example.com:6443', subject: 'O = kubeadm:cluster-admins, CN = kubernetes-admin' },
    'super-admin.conf': { user: 'kubernetes-super-admin', server: 'https://k8s.example.com:6443', subject: 'O = system:masters, CN = kubernetes-super-admin' },
    'kubelet.conf': { user: 'system:node:master-1', server: 'https://k8s.example.com:6443', subject: 'O = system:nodes, CN = system:node:master-1' },
    'controller-manager.conf': { user: 'system:kube-controller-manager', server: 'https://192.168.10.11:6443', subject: 'CN = system:kube-controller-manager' },
    'scheduler.conf': { user: 'system:kube-scheduler', server: 'https://192.168.10.11:6443', subject: 'CN = system:kube-scheduler' },
  };
  const caPem = await fs.readFile(pki('ca.crt'), 'utf8');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-kc-'));
  try {
    for (const [file, want] of Object.entries(users)) {
      const kcPath = path.join(root, file);
      const view = await run('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', kcPath]);
      assert.equal(view.code, 0, `${file}: ${view.stderr}`);
      const kc = JSON.parse(view.stdout);
      assert.equal(kc['current-context'], `${want.user}@kubernetes`);
      assert.equal(kc.clusters[0].name, 'kubernetes');
      assert.equal(kc.clusters[0].cluster.server, want.server, `${file} server`);
      assert.equal(Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(), caPem);
      assert.equal(kc.users[0].name, want.user);
      const certPem = Buffer.from(kc.users[0].user['client-certificate-data'], 'base64').toString();
      const keyPem = Buffer.from(kc.users[0].user['client-key-data'], 'base64').toString();
      const certFile = path.join(dir, `${file}.crt`);
      const keyFile = path.join(dir, `${file}.key`);
      await fs.writeFile(certFile, certPem);
      await fs.writeFile(keyFile, keyPem);
      const v = await openssl('verify', '-purpose', 'sslclient', '-CAfile', pki('ca.crt'), certFile);
      assert.equal(v.code, 0, `${file}: ${v.stdout}${v.stderr}`);
      const subj = await openssl('x509', '-in', certFile, '-noout', '-subject', '-nameopt', 'oneline');
      assert.equal(subj.stdout.trim(), `subject=${want.subject}`);
      assert.equal((await openssl('x509', '-in', certFile, '-noout', '-pubkey')).stdout, (await openssl('pkey', '-in', keyFile, '-pubout')).stdout, `${file} key matches`);
      // kubectl's own view of the context (what `kubectl --kubeconfig F` would use).
      const ctx = await run('kubectl', ['config', 'current-context', '--kubeconfig', kcPath]);
      assert.equal(ctx.stdout.trim(), `${want.user}@kubernetes`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second init changes nothing on disk', async () => {
  const before = await snapshot(root);
  const again = await kubepki(['init', '--cert-dir', certDir, '--kubeconfig-dir', root, '--node-name', 'master-1', '--apiserver-advertise-address', '192.168.10.11', '--apiserver-cert-extra-sans', 'k8s.example.com,192.168.10.100', '--control-plane-endpoint', 'k8s.example.com:6443']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /Nothing to write: every file already exists and is valid/);
  assert.deepEqual(await snapshot(root), before);
});

test('init reads a kubeadm config file; flags given on the command line override it', async (t) => {
  const dir = await tempDir(t);
  const cfg = path.join(dir, 'kubeadm.yaml');
  await fs.writeFile(
    cfg,
    `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 10.20.30.40}
nodeRegistration: {name: from-file}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
certificatesDir: ${path.join(dir, 'certs')}
encryptionAlgorithm: ECDSA-P256
networking: {serviceSubnet: 172.20.0.0/16, dnsDomain: example.internal}
`,
  );
  const r = await kubepki(['init', '--config', cfg, '--kubeconfig-dir', dir, '--node-name', 'from-flag']);
  assert.equal(r.code, 0, r.stderr);
  const out = await openssl('x509', '-in', path.join(dir, 'certs', 'apiserver.crt'), '-noout', '-ext', 'subjectAltName', '-text');
  assert.match(out.stdout, /DNS:from-flag/);
  assert.match(out.stdout, /DNS:kubernetes\.default\.svc\.example\.internal/);
  assert.match(out.stdout, /IP Address:172\.20\.0\.1, IP Address:10\.20\.30\.40/);
  assert.match(out.stdout, /Public Key Algorithm: id-ecPublicKey/);
});

test('bad input: one clear line on stderr, a non-zero exit, and nothing written', async (t) => {
  const dir = await tempDir(t);
  const badYaml = path.join(dir, 'bad.yaml');
  await fs.writeFile(badYaml, 'kind: ClusterPKIConfiguration\nnodeName: [oops\n');
  const cases: [string[], RegExp][] = [
    [['--bogus-flag'], /unknown option '--bogus-flag'/],
    [['--apiserver-advertise-address', '10.0.0.256'], /--apiserver-advertise-address: "10\.0\.0\.256" is not a valid IP address/],
    [['--service-cidr', '10.96.0.0/40'], /--service-cidr: "10\.96\.0\.0\/40" is not a valid CIDR/],
    [['--certificate-validity-period', '1 year'], /--certificate-validity-period: invalid duration "1 year"/],
    [['--encryption-algorithm', 'RSA-1024'], /--encryption-algorithm: unknown algorithm "RSA-1024"/],
    [['--apiserver-cert-extra-sans', 'good.example,bad name'], /--apiserver-cert-extra-sans: "bad name" is neither/],
    [['--config', path.join(dir, 'missing.yaml')], /cannot read .*missing\.yaml: no such file/],
    [['--config', badYaml], /bad\.yaml: not valid YAML/],
    [['--output', 'xml'], /--output: unknown format "xml"/],
    [['extra-argument'], /too many arguments/],
  ];
  for (const [args, message] of cases) {
    const target = path.join(dir, 'out');
    const r = await kubepki(['init', '--cert-dir', path.join(target, 'pki'), '--kubeconfig-dir', target, '--node-name', 'n1', '--apiserver-advertise-address', '10.0.0.1', ...args]);
    assert.notEqual(r.code, 0, `${args.join(' ')} must fail`);
    assert.match(r.stderr, message, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    await assert.rejects(fs.stat(target), { code: 'ENOENT' }, `nothing written for ${args.join(' ')}`);
  }
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
