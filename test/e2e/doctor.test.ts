// `kubepki doctor` on PKIs broken on purpose, one break per case: the finding, its text, the exit code, and —
// where a real component exists — that component (kubectl, curl, kubepki serve's authenticator) printing
// the very text doctor predicted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { kubepki, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { generateKeyPair, issueCertificate, parseCertificatesPem, parsePrivateKeyPem, parseUsages, privateKeyToPem, type Certificate } from '../../src/x509/index.js';
import { replaceClientCredentials } from '../../src/cluster/kubeconfig.js';
import type { Finding } from '../../src/cluster/doctor/checks.js';
import { buildGoOracle } from '../x509/path-validation/go-oracle.js';
import { until } from '../helpers/poll.js';

const DAY = 86400_000;

interface Doctor {
  code: number;
  findings: Finding[];
  text: string;
}

async function doctor(dir: string, extra: string[] = []): Promise<Doctor> {
  const args = ['doctor', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, ...extra];
  const json = await kubepki([...args, '-o', 'json']);
  const text = await kubepki(args);
  assert.equal(text.code, json.code, 'text and json exit codes agree');
  return { code: json.code, findings: (JSON.parse(json.stdout) as { findings: Finding[] }).findings, text: text.stdout };
}

const only = (d: Doctor, check: string): Finding => {
  const f = d.findings.filter((x) => x.check === check);
  assert.equal(f.length, 1, `one ${check} finding in:\n${d.text}`);
  return f[0]!;
};

/** Re-issues <base>.crt/.key under the CA <caBase> with the given template changes. */
async function reissue(pki: string, base: string, caBase: string, change: { cn?: string; o?: string[]; usages?: string[]; ips?: string[]; dns?: string[]; notBefore?: Date; notAfter?: Date }): Promise<{ cert: Certificate; certPem: string; keyPem: string }> {
  const ca = { certificate: parseCertificatesPem(await readFile(path.join(pki, `${caBase}.crt`), 'utf8'))[0]!, privateKey: parsePrivateKeyPem(await readFile(path.join(pki, `${caBase}.key`), 'utf8')) };
  const old = parseCertificatesPem(await readFile(path.join(pki, `${base}.crt`), 'utf8').catch(() => ca.certificate.pem))[0]!;
  const kp = await generateKeyPair('ECDSA-P256');
  const now = Date.now();
  const cert = await issueCertificate({
    template: {
      subject: { commonName: change.cn ?? old.subject.commonName, ...(change.o ?? old.subject.organization ? { organization: change.o ?? old.subject.organization } : {}) },
      sans: { dnsNames: change.dns ?? old.sans.dnsNames, ipAddresses: change.ips ?? old.sans.ipAddresses, emailAddresses: [], uris: [] },
      notBefore: change.notBefore ?? new Date(now - 60_000),
      notAfter: change.notAfter ?? new Date(now + 300 * DAY),
      ...parseUsages(change.usages ?? ['digital signature', 'key encipherment', 'client auth']),
    },
    publicKey: kp.publicKey,
    issuer: ca,
    allowOutlivingIssuer: true,
  });
  const keyPem = privateKeyToPem(kp.privateKey);
  await writeFile(path.join(pki, `${base}.crt`), cert.pem);
  await writeFile(path.join(pki, `${base}.key`), keyPem, { mode: 0o600 });
  return { cert, certPem: cert.pem, keyPem };
}

async function setKubeconfigClient(file: string, creds: { certPem: string; keyPem: string }): Promise<void> {
  await writeFile(file, replaceClientCredentials(await readFile(file, 'utf8'), file, creds));
}

async function setKubeconfigCa(file: string, caPem: string): Promise<void> {
  const doc = YAML.parse(await readFile(file, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
  doc.clusters[0]!.cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
  await writeFile(file, YAML.stringify(doc));
}

test('kubepki doctor finds each broken link, with the text the real component prints', async (t) => {
  const root = await tempDir(t, 'kubepki-doctor-');
  const template = path.join(root, 'template');
  const init = await kubepki(['init', '--cert-dir', path.join(template, 'pki'), '--kubeconfig-dir', template, '--node-name', 'cp-0', '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(init.code, 0, init.stderr);
  let n = 0;
  const fresh = async () => {
    const dir = path.join(root, `case-${n++}`);
    await cp(template, dir, { recursive: true });
    return { dir, pki: path.join(dir, 'pki') };
  };
  const serveOn = async (dir: string) => startServe(t, ['--log-level', 'info'], { dataDir: dir, port: await freePort() });
  const kubectl = (dir: string, kubeconfig: string, server: string) => kubectlWith(kubeconfig, path.join(dir, 'kcache'))(['--server', server, 'get', '--raw', '/version']);
  // serve logs JSON lines: the text appears JSON-escaped.
  const logged = async (serve: { stderr: () => string }, text: string) => {
    const escaped = JSON.stringify(text).slice(1, -1);
    await until(() => serve.stderr().includes(escaped), `serve to log ${JSON.stringify(text)}`, { intervalMs: 50 }).catch(() => undefined);
    assert.ok(serve.stderr().includes(escaped), `serve logged ${JSON.stringify(text)}:\n${serve.stderr().slice(-2000)}`);
  };

  await t.test('a healthy PKI: no findings, exit 0', async () => {
    const d = await doctor(template);
    assert.deepEqual(d.findings, []);
    assert.equal(d.code, 0);
    assert.match(d.text, /no problems found/);
  });

  await t.test('serving certificate without the IP a client dials (kubectl prints the same)', async () => {
    const { dir, pki } = await fresh();
    await reissue(pki, 'apiserver', 'ca', { usages: ['digital signature', 'key encipherment', 'server auth'], ips: [], dns: ['kubernetes', 'cp-0'] });
    const d = await doctor(dir);
    const f = only(d, 'serving-certificate-name');
    assert.equal(f.message, "x509: cannot validate certificate for 127.0.0.1 because it doesn't contain any IP SANs");
    assert.match(f.fix, /--apiserver-cert-extra-sans 127\.0\.0\.1/);
    assert.equal(d.code, 2);
    const serve = await serveOn(dir);
    const r = await kubectl(dir, path.join(dir, 'admin.conf'), serve.url);
    assert.notEqual(r.code, 0);
    assert.ok(r.stderr.includes(`tls: failed to verify certificate: ${f.message}`), r.stderr);
  });

  await t.test('client certificate without client auth, and one from an unknown authority (serve logs the same)', async () => {
    const { dir, pki } = await fresh();
    const serverOnly = await reissue(pki, 'scratch-a', 'ca', { cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'], usages: ['digital signature', 'key encipherment', 'server auth'] });
    await setKubeconfigClient(path.join(dir, 'admin.conf'), serverOnly);
    const d = await doctor(dir);
    const f = only(d, 'client-certificate');
    assert.match(f.message, /^verifying certificate SN=\d+, SKID=[0-9A-F:]+, AKID=[0-9A-F:]+ failed: x509: certificate specifies an incompatible key usage$/);
    assert.equal(f.file, path.join(dir, 'admin.conf'));
    assert.match(f.fix, /kubepki certs renew admin\.conf/);
    assert.equal(d.code, 2);
    const serve = await serveOn(dir);
    const r = await kubectl(dir, path.join(dir, 'admin.conf'), serve.url);
    assert.match(r.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    await logged(serve, f.message);

    // The same client signed by another CA.
    const other = await fresh();
    await kubepki(['init', '--cert-dir', path.join(other.dir, 'other-pki'), '--kubeconfig-dir', path.join(other.dir, 'other'), '--node-name', 'x', '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
    const foreign = await reissue(path.join(other.dir, 'other-pki'), 'scratch-b', 'ca', { cn: 'kubernetes-admin', o: ['kubeadm:cluster-admins'] });
    await setKubeconfigClient(path.join(dir, 'admin.conf'), foreign);
    const d2 = await doctor(dir);
    const f2 = only(d2, 'client-certificate');
    // Both CAs are named CN=kubernetes, so Go names the candidate it tried: kube-apiserver (Go's verifier)
    // logs that hint; Go itself, run here, prints exactly doctor's text, and so does kubepki serve's
    // authenticator (the same validatePath).
    assert.match(f2.message, /failed: x509: certificate signed by unknown authority \(possibly because of "x509: ECDSA verification failure" while trying to verify candidate authority certificate "kubernetes"\)$/);
    const oracle = await buildGoOracle();
    t.after(() => oracle.close());
    const [go] = await oracle.verify([{ leaf: foreign.certPem, roots: await readFile(path.join(pki, 'ca.crt'), 'utf8'), intermediates: '', at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), purpose: 'client' }]);
    assert.equal(f2.message.replace(/^verifying certificate .* failed: /, ''), go!.error);
    const r2 = await kubectl(dir, path.join(dir, 'admin.conf'), serve.url);
    assert.match(r2.stderr, /error: You must be logged in to the server \(Unauthorized\)/);
    await logged(serve, f2.message);
  });

  await t.test('CN/O mapping to the wrong user and group', async () => {
    const { dir, pki } = await fresh();
    const wrong = await reissue(pki, 'scratch', 'ca', { cn: 'admin', o: ['system:nodes'] });
    await setKubeconfigClient(path.join(dir, 'admin.conf'), wrong);
    const d = await doctor(dir);
    const f = only(d, 'identity');
    assert.equal(f.message, 'authenticates as user "admin" in groups [system:nodes], not user "kubernetes-admin" in groups [kubeadm:cluster-admins]');
    assert.equal(d.code, 2);
    // Live: the server agrees on who the client is (SelfSubjectReview), so doctor reports no live mismatch.
    const serve = await serveOn(dir);
    const live = await doctor(dir, ['--server', serve.url]);
    assert.equal(live.findings.filter((x) => x.check.startsWith('live-')).length, 0, live.text);
    const who = await kubectlWith(path.join(dir, 'admin.conf'), path.join(dir, 'kcache'))(['--server', serve.url, 'auth', 'whoami']);
    assert.match(who.stdout, /Username\s+admin\n/);
  });

  await t.test('front-proxy client whose CN is not in --requestheader-allowed-names (serve logs the same)', async () => {
    const { dir, pki } = await fresh();
    const proxy = await reissue(pki, 'front-proxy-client', 'front-proxy-ca', { cn: 'kube-front-client' });
    const d = await doctor(dir);
    const f = only(d, 'requestheader-allowed-names');
    assert.equal(f.message, 'x509: subject with cn=kube-front-client is not in the allowed list');
    assert.equal(d.code, 2);
    const serve = await serveOn(dir);
    const curl = await run('curl', ['-s', '--cacert', path.join(pki, 'ca.crt'), '--cert', path.join(pki, 'front-proxy-client.crt'), '--key', path.join(pki, 'front-proxy-client.key'), '-H', 'X-Remote-User: alice', `${serve.url}/api`]);
    assert.match(curl.stdout, /"code": ?401/);
    await logged(serve, f.message);
    assert.equal(proxy.cert.subject.commonName, 'kube-front-client');
  });

  await t.test('kubeconfig whose CA does not verify the server (kubectl prints the same)', async () => {
    const { dir, pki } = await fresh();
    await setKubeconfigCa(path.join(dir, 'admin.conf'), await readFile(path.join(pki, 'front-proxy-ca.crt'), 'utf8'));
    const d = await doctor(dir);
    const f = only(d, 'kubeconfig-ca');
    assert.equal(f.message, 'x509: certificate signed by unknown authority');
    const serve = await serveOn(dir);
    const r = await kubectl(dir, path.join(dir, 'admin.conf'), serve.url);
    assert.ok(r.stderr.includes(`tls: failed to verify certificate: ${f.message}`), r.stderr);
    const live = await doctor(dir, ['--server', serve.url]);
    assert.equal(live.findings.find((x) => x.check === 'live-server-certificate' && x.file.endsWith('admin.conf'))?.message, f.message);
  });

  await t.test('a key that does not match its certificate (kubectl prints the same)', async () => {
    const { dir, pki } = await fresh();
    const other = await generateKeyPair('ECDSA-P256');
    await writeFile(path.join(pki, 'apiserver-kubelet-client.key'), privateKeyToPem(other.privateKey));
    const admin = path.join(dir, 'admin.conf');
    const cert = Buffer.from((YAML.parse(await readFile(admin, 'utf8')) as { users: { user: Record<string, string> }[] }).users[0]!.user['client-certificate-data']!, 'base64').toString();
    await setKubeconfigClient(admin, { certPem: cert, keyPem: privateKeyToPem(other.privateKey) });
    const d = await doctor(dir);
    const mism = d.findings.filter((x) => x.check === 'key-mismatch');
    assert.deepEqual(mism.map((x) => x.file).sort(), [admin, path.join(pki, 'apiserver-kubelet-client.key')].sort());
    assert.ok(mism.every((x) => x.message === 'tls: private key does not match public key'));
    const r = await kubectlWith(admin, path.join(dir, 'kcache'))(['get', '--raw', '/version']);
    assert.ok(r.stderr.includes(mism[0]!.message), r.stderr);
  });

  await t.test('expired and not-yet-valid certificates (Go texts)', async () => {
    const { dir, pki } = await fresh();
    const expired = await reissue(pki, 'front-proxy-client', 'front-proxy-ca', { notBefore: new Date(Date.now() - 40 * DAY), notAfter: new Date(Date.now() - DAY) });
    const future = await reissue(pki, 'etcd/healthcheck-client', 'etcd/ca', { cn: 'kube-etcd-healthcheck-client', notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 40 * DAY) });
    const d = await doctor(dir);
    const byFile = (f: string) => d.findings.find((x) => x.file === f && x.check === 'client-certificate');
    const iso = (x: Date) => x.toISOString().replace(/\.\d{3}Z$/, 'Z');
    assert.match(byFile(path.join(pki, 'front-proxy-client.crt'))!.message, new RegExp(`^x509: certificate has expired or is not yet valid: current time \\S+ is after ${iso(expired.cert.notAfter)}$`));
    assert.match(byFile(path.join(pki, 'etcd/healthcheck-client.crt'))!.message, new RegExp(`^x509: certificate has expired or is not yet valid: current time \\S+ is before ${iso(future.cert.notBefore)}$`));
    assert.equal(d.code, 2);
  });

  await t.test('kubelet-client-current.pem dangling, then expired', async () => {
    const { dir, pki } = await fresh();
    const kubelet = path.join(dir, 'kubelet-pki');
    await mkdir(kubelet);
    await symlink(path.join(kubelet, 'kubelet-client-2026-01-01-00-00-00.pem'), path.join(kubelet, 'kubelet-client-current.pem'));
    const d = await doctor(dir, ['--kubelet-cert-dir', kubelet]);
    const f = only(d, 'kubelet-certificate-dangling');
    assert.equal(f.message, `open ${path.join(kubelet, 'kubelet-client-current.pem')}: no such file or directory`);
    assert.match(f.fix, /re-bootstraps/);
    const old = await reissue(pki, 'scratch', 'ca', { cn: 'system:node:cp-0', o: ['system:nodes'], notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 2 * DAY) });
    await writeFile(path.join(kubelet, 'kubelet-client-2026-01-01-00-00-00.pem'), old.certPem + old.keyPem);
    const d2 = await doctor(dir, ['--kubelet-cert-dir', kubelet]);
    assert.match(only(d2, 'kubelet-client-certificate').message, /^verifying certificate SN=\d+.* failed: x509: certificate has expired or is not yet valid: current time \S+ is after /);
    assert.equal(d2.code, 2);
  });

  await t.test('request-header CA equal to the client CA: a warning, exit 1', async () => {
    const { dir, pki } = await fresh();
    for (const ext of ['crt', 'key']) await cp(path.join(pki, `ca.${ext}`), path.join(pki, `front-proxy-ca.${ext}`));
    await reissue(pki, 'front-proxy-client', 'front-proxy-ca', { cn: 'front-proxy-client' });
    const d = await doctor(dir);
    const f = only(d, 'requestheader-ca-is-client-ca');
    assert.equal(f.severity, 'warning');
    assert.equal(d.code, 1, d.text);
  });

  await t.test('a CA expiring before its leaves: a warning naming the error that will come', async () => {
    const { dir, pki } = await fresh();
    const ca = parseCertificatesPem(await readFile(path.join(pki, 'front-proxy-ca.crt'), 'utf8'))[0]!;
    await reissue(pki, 'front-proxy-client', 'front-proxy-ca', { cn: 'front-proxy-client', notAfter: new Date(ca.notAfter.getTime() + 30 * DAY) });
    const d = await doctor(dir);
    const f = only(d, 'ca-expires-before-leaf');
    assert.ok(f.message.includes(`x509: certificate has expired or is not yet valid: current time ${new Date(ca.notAfter.getTime() + 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')} is after ${ca.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')}`), f.message);
    assert.equal(d.code, 1);
  });

  await t.test('a half-finished CA rotation: bundle of two CAs, leaves still from the old one', async () => {
    const { dir, pki } = await fresh();
    const oldCa = await readFile(path.join(pki, 'front-proxy-ca.crt'), 'utf8');
    // A new front-proxy CA whose key replaces the old one; the old certificate stays in the bundle.
    const kp = await generateKeyPair('ECDSA-P256');
    const now = Date.now();
    const newCa = await issueCertificate({
      template: { subject: { commonName: 'front-proxy-ca' }, notBefore: new Date(now - 60_000), notAfter: new Date(now + 3650 * DAY), isCA: true, ...parseUsages(['digital signature', 'key encipherment', 'cert sign']), omitAuthorityKeyId: true },
      publicKey: kp.publicKey,
      issuer: { selfSigned: kp },
    });
    await writeFile(path.join(pki, 'front-proxy-ca.crt'), newCa.pem + oldCa);
    await writeFile(path.join(pki, 'front-proxy-ca.key'), privateKeyToPem(kp.privateKey));
    const d = await doctor(dir);
    assert.match(only(d, 'ca-rotation-in-progress').message, /is a bundle of 2 CAs: a CA rotation has not finished/);
    const leftover = only(d, 'ca-rotation-leftover');
    assert.equal(leftover.file, path.join(pki, 'front-proxy-client.crt'));
    assert.match(leftover.fix, /kubepki certs renew front-proxy-client/);
    assert.equal(d.code, 1);
  });
});
