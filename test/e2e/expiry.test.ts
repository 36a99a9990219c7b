// Expiry you can alert on: serve's /metrics not-after gauge (PKI files, kubeconfigs, CA bundles, TLS Secrets
// in kube-system) and kube-apiserver's client-certificate histogram; CertificateExpirationWarning Events once
// per certificate and threshold, across restarts; check-expiration listing a node's kubelet certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { generateKeyPair, issueCertificate, parseCertificatesPem, parsePrivateKeyPem, parseUsages, privateKeyToPem, type Certificate } from '../../src/x509/index.js';
import { until } from '../helpers/poll.js';

const DAY = 86400_000;

async function issue(pki: string, caBase: string, cn: string, days: number, o: string[] = []): Promise<{ cert: Certificate; keyPem: string }> {
  const ca = { certificate: parseCertificatesPem(await readFile(path.join(pki, `${caBase}.crt`), 'utf8'))[0]!, privateKey: parsePrivateKeyPem(await readFile(path.join(pki, `${caBase}.key`), 'utf8')) };
  const kp = await generateKeyPair('ECDSA-P256');
  const cert = await issueCertificate({
    template: { subject: { commonName: cn, ...(o.length ? { organization: o } : {}) }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + days * DAY), ...parseUsages(['digital signature', 'key encipherment', 'client auth']) },
    publicKey: kp.publicKey,
    issuer: ca,
  });
  return { cert, keyPem: privateKeyToPem(kp.privateKey) };
}

function get(url: string, o: { ca: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca: o.ca, cert: o.cert, key: o.key, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const metricLine = (text: string, name: string, labels: Record<string, string>) =>
  text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));

test('serve exports certificate expiry, the client-certificate histogram, and expiration Events once each', async (t) => {
  const dir = await tempDir(t, 'kubepki-expiry-');
  const dataDir = path.join(dir, 'data');
  const pki = path.join(dataDir, 'pki');
  const init = await kubepki(['init', '--cert-dir', pki, '--kubeconfig-dir', dataDir, '--node-name', 'cp-0', '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(init.code, 0, init.stderr);
  // front-proxy-client expires in 5 days: past the 30- and 7-day thresholds.
  const proxy = await issue(pki, 'front-proxy-ca', 'front-proxy-client', 5);
  await writeFile(path.join(pki, 'front-proxy-client.crt'), proxy.cert.pem);
  await writeFile(path.join(pki, 'front-proxy-client.key'), proxy.keyPem);
  const port = await freePort();
  let serve = await startServe(t, ['--log-level', 'info'], { dataDir, port });
  const ca = await readFile(path.join(pki, 'ca.crt'), 'utf8');
  const kubectl = kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'));
  const scrape = async () => {
    const r = await kubectl(['--server', serve.url, 'get', '--raw', '/metrics']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const expiryEvents = async () => {
    const r = await kubectl(['--server', serve.url, 'get', 'events', '-n', 'kube-system', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { items: { metadata: { name: string; creationTimestamp: string; resourceVersion: string }; reason: string; type: string; message: string; count: number }[] }).items.filter((e) => e.reason === 'CertificateExpirationWarning');
  };
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => until(probe, what, { timeoutMs: 60_000, intervalMs: 100 });

  await t.test('the not-after gauge covers PKI files, kubeconfigs, CA bundles and TLS Secrets', async () => {
    const secret = await issue(pki, 'ca', 'webhook.kube-system.svc', 90);
    await writeFile(path.join(dir, 'tls.crt'), secret.cert.pem);
    await writeFile(path.join(dir, 'tls.key'), secret.keyPem);
    const created = await kubectl(['--server', serve.url, 'create', 'secret', 'tls', 'webhook-tls', '-n', 'kube-system', '--cert', path.join(dir, 'tls.crt'), '--key', path.join(dir, 'tls.key')]);
    assert.equal(created.code, 0, created.stderr);
    const metrics = await scrape();
    const ts = (c: Certificate) => String(Math.floor(c.notAfter.getTime() / 1000));
    const line = metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: `file:${path.join(pki, 'front-proxy-client.crt')}`, subject: 'CN=front-proxy-client' });
    assert.ok(line?.endsWith(` ${ts(proxy.cert)}`), line);
    const caCert = parseCertificatesPem(ca)[0]!;
    assert.ok(metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: `file:${path.join(pki, 'ca.crt')}`, subject: 'CN=kubernetes' })?.endsWith(` ${ts(caCert)}`));
    assert.ok(metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: `kubeconfig:${path.join(dataDir, 'admin.conf')}`, subject: 'O=kubeadm:cluster-admins, CN=kubernetes-admin' }));
    assert.ok(metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: `kubeconfig-ca:${path.join(dataDir, 'admin.conf')}` }));
    assert.ok(metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: 'secret:kube-system/webhook-tls', subject: 'CN=webhook.kube-system.svc' })?.endsWith(` ${ts(secret.cert)}`));
    assert.ok(metricLine(metrics, 'kubepki_certificate_expiration_timestamp_seconds', { source: `file:${path.join(pki, 'etcd', 'ca.crt')}`, subject: 'CN=etcd-ca' }));
  });

  await t.test("apiserver_client_certificate_expiration_seconds observes each client certificate's remaining life", async () => {
    const client = await issue(pki, 'ca', 'short-lived-user', 3);
    const before = await scrape();
    const count = (text: string, le: string) => Number(metricLine(text, 'apiserver_client_certificate_expiration_seconds_bucket', { le })?.split(' ')[1] ?? 'NaN');
    await get(`${serve.url}/version`, { ca, cert: client.cert.pem, key: client.keyPem });
    const after = await scrape();
    // 3 days left: counted from the 4-day bucket up, not in the 2-day one (kube's buckets).
    assert.equal(count(after, '345600') - count(before, '345600'), 1);
    assert.equal(count(after, '172800') - count(before, '172800'), 0);
    assert.match(after, /# TYPE apiserver_client_certificate_expiration_seconds histogram/);
  });

  await t.test('a CertificateExpirationWarning Event at the nearest threshold, once, even across restarts', async () => {
    const first = await waitFor('the 7-day event', async () => {
      const evs = await expiryEvents();
      return evs.length > 0 ? evs : undefined;
    });
    assert.equal(first.length, 1, JSON.stringify(first));
    assert.match(first[0]!.metadata.name, /^kubepki-certificate-expiration\.[0-9a-f]{16}\.7d$/);
    assert.equal(first[0]!.type, 'Warning');
    assert.match(first[0]!.message, /front-proxy-client\.crt \(CN=front-proxy-client, serial [0-9a-f]+\) expires .* in less than 7 days/);
    // Another certificate crosses the 30-day line while serve is down; after the restart its event proves
    // the check ran, and the first event is still the only one for front-proxy-client.
    const etcdClient = await issue(pki, 'etcd/ca', 'kube-apiserver-etcd-client', 20);
    await writeFile(path.join(pki, 'apiserver-etcd-client.crt'), etcdClient.cert.pem);
    await writeFile(path.join(pki, 'apiserver-etcd-client.key'), etcdClient.keyPem);
    await serve.stop();
    serve = await startServe(t, ['--log-level', 'info'], { dataDir, port });
    const second = await waitFor('the 30-day event', async () => {
      const evs = await expiryEvents();
      return evs.some((e) => e.metadata.name.endsWith('.30d')) ? evs : undefined;
    });
    assert.equal(second.length, 2, JSON.stringify(second.map((e) => e.metadata.name)));
    const again = second.find((e) => e.metadata.name === first[0]!.metadata.name)!;
    assert.deepEqual([again.metadata.resourceVersion, again.count], [first[0]!.metadata.resourceVersion, 1]);
    assert.match(second.find((e) => e.metadata.name.endsWith('.30d'))!.message, /apiserver-etcd-client\.crt .* in less than 30 days/);
  });
});

test("certs check-expiration lists a node's kubelet client and serving certificates", async (t) => {
  const dir = await tempDir(t, 'kubepki-expiry-kubelet-');
  const pki = path.join(dir, 'pki');
  assert.equal((await kubepki(['init', '--cert-dir', pki, '--kubeconfig-dir', dir, '--node-name', 'n1', '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256'])).code, 0);
  const kubelet = path.join(dir, 'kubelet-pki');
  await mkdir(kubelet);
  const client = await issue(pki, 'ca', 'system:node:n1', 12, ['system:nodes']);
  await writeFile(path.join(kubelet, 'kubelet-client-current.pem'), client.cert.pem + client.keyPem);
  const r = await kubepki(['certs', 'check-expiration', '--cert-dir', pki, '--kubeconfig-dir', dir, '--kubelet-cert-dir', kubelet, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { certificates: { name: string; expirationDate: string; caName: string; residualTime: number }[] };
  const entry = doc.certificates.find((c) => c.name === 'kubelet-client-current.pem');
  assert.equal(entry?.expirationDate, client.cert.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  assert.equal(entry?.caName, 'ca');
  assert.ok(!doc.certificates.some((c) => c.name === 'kubelet-server-current.pem'), 'no serving certificate on this node');
  const table = await kubepki(['certs', 'check-expiration', '--cert-dir', pki, '--kubeconfig-dir', dir, '--kubelet-cert-dir', kubelet]);
  assert.match(table.stdout, /^kubelet-client-current\.pem\s+\w{3} \d\d, \d{4} \d\d:\d\d UTC\s+11d\s+ca\s+no/m);
});
