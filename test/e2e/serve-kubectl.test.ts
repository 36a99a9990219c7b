// `kubepki serve --data-dir` driven by the real kubectl, including the seed's "manage TLS certificates in a
// cluster" walk-through (000_851e2a77a1184719.txt, part 3): a CSR made by openssl for my-svc.my-namespace,
// signer example.com/serving, approval, an external signer (openssl) uploading status.certificate through
// `kubectl replace --raw .../status`, and the download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { until } from '../helpers/poll.js';

test('kubectl drives kubepki serve: the seed walk-through and the everyday commands', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-serve-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(t, [], { dataDir, port: await freePort() });
  const kubectl = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  await t.test('serve --data-dir made the PKI and an admin.conf pointing at itself', async () => {
    const conf = await readFile(serve.kubeconfig, 'utf8');
    assert.match(conf, new RegExp(`server: ${serve.url.replace(/[.]/g, '\\.')}`));
    assert.match(await readFile(path.join(dataDir, 'pki', 'ca.crt'), 'utf8'), /BEGIN CERTIFICATE/);
  });

  await t.test('version and api-resources (aggregated discovery)', async () => {
    assert.match(await ok(['version']), /Server Version: v1\.32\.0/);
    const res = await ok(['api-resources']);
    assert.match(res, /certificatesigningrequests\s+csr\s+certificates\.k8s\.io\/v1\s+false\s+CertificateSigningRequest/);
    assert.match(res, /namespaces\s+ns\s+v1\s+false\s+Namespace/);
    assert.match(res, /leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease/);
  });

  await t.test('cluster-info and get all -A work (the default/kubernetes Service, ClusterIP from the default service CIDR)', async () => {
    assert.match(await ok(['cluster-info']), /Kubernetes control plane.* is running at .*https:\/\/127\.0\.0\.1:/);
    assert.match(await ok(['get', 'all', '-A']), /\ndefault\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP\s/);
  });

  // Step 1 of the walk-through: a key and a CSR for the service and pod names and IPs.
  const csrFile = path.join(dir, 'server.csr');
  const keyFile = path.join(dir, 'server-key.pem');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  await openssl(
    [
      'req', '-new', '-key', keyFile, '-subj', '/CN=my-pod.my-namespace.pod.cluster.local', '-out', csrFile,
      '-addext', 'subjectAltName=DNS:my-svc.my-namespace.svc.cluster.local,DNS:my-pod.my-namespace.pod.cluster.local,IP:192.0.2.24,IP:10.0.34.2',
    ],
    dir,
  );
  const requestB64 = (await readFile(csrFile)).toString('base64');
  const manifest = async (name: string, extra = '') => `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${requestB64}
  signerName: example.com/serving
  usages:
  - digital signature
  - key encipherment
  - server auth
${extra}`;

  await t.test('kubectl apply -f - creates the CSR; get csr shows kubectl\'s columns, Pending', async () => {
    assert.match(await ok(['apply', '-f', '-'], await manifest('my-svc.my-namespace')), /certificatesigningrequest.certificates.k8s.io\/my-svc.my-namespace created/);
    const out = await ok(['get', 'csr']);
    const [header, row] = out.trim().split('\n');
    assert.deepEqual(header!.split(/\s+/), ['NAME', 'AGE', 'SIGNERNAME', 'REQUESTOR', 'REQUESTEDDURATION', 'CONDITION']);
    assert.deepEqual(row!.split(/\s+/).filter((_, i) => i !== 1), ['my-svc.my-namespace', 'example.com/serving', 'kubernetes-admin', '<none>', 'Pending']);
  });

  await t.test('describe csr shows the requester, signer, subject and SANs', async () => {
    const out = await ok(['describe', 'csr', 'my-svc.my-namespace']);
    assert.match(out, /Requesting User:\s+kubernetes-admin/);
    assert.match(out, /Signer:\s+example\.com\/serving/);
    assert.match(out, /Status:\s+Pending/);
    assert.match(out, /Common Name:\s+my-pod\.my-namespace\.pod\.cluster\.local/);
    assert.match(out, /DNS Names:\s+my-svc\.my-namespace\.svc\.cluster\.local\s+my-pod\.my-namespace\.pod\.cluster\.local/);
    assert.match(out, /IP Addresses:\s+192\.0\.2\.24\s+10\.0\.34\.2/);
  });

  await t.test('kubectl get -w streams the approval', async () => {
    const child = spawn('kubectl', ['--kubeconfig', serve.kubeconfig, '--cache-dir', path.join(dir, 'kcache'), 'get', 'csr', 'my-svc.my-namespace', '-w'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    t.after(() => void child.kill());
    const waitFor = (re: RegExp) =>
      until(() => re.test(out), `kubectl get -w to print ${re}`, { intervalMs: 50 }).catch((err: Error) => {
        throw new Error(`${err.message}; it printed: ${out}`);
      });
    await waitFor(/Pending/);
    assert.match(await ok(['certificate', 'approve', 'my-svc.my-namespace']), /certificatesigningrequest.certificates.k8s.io\/my-svc.my-namespace approved/);
    await waitFor(/my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+kubernetes-admin\s+<none>\s+Approved/);
    child.kill();
  });

  await t.test('the external signer issues with openssl and uploads through replace --raw .../status', async () => {
    // The signer's CA (the walk-through's "My Example Signer").
    await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(dir, 'ca-key.pem')], dir);
    await openssl(['req', '-x509', '-new', '-key', path.join(dir, 'ca-key.pem'), '-subj', '/CN=My Example Signer', '-days', '365', '-out', path.join(dir, 'ca.pem')], dir);
    const request = Buffer.from(await ok(['get', 'csr', 'my-svc.my-namespace', '-o', 'jsonpath={.spec.request}']), 'base64');
    await writeFile(path.join(dir, 'fetched.csr'), request);
    await writeFile(path.join(dir, 'signing.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:my-svc.my-namespace.svc.cluster.local,DNS:my-pod.my-namespace.pod.cluster.local,IP:192.0.2.24,IP:10.0.34.2\n');
    await openssl(['x509', '-req', '-in', 'fetched.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '365', '-out', 'ca-signed-server.pem', '-extfile', 'signing.ext'], dir);
    const csr = JSON.parse(await ok(['get', 'csr', 'my-svc.my-namespace', '-o', 'json']));
    csr.status.certificate = (await readFile(path.join(dir, 'ca-signed-server.pem'))).toString('base64');
    await ok(['replace', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests/my-svc.my-namespace/status', '-f', '-'], JSON.stringify(csr));
    assert.match(await ok(['get', 'csr']), /my-svc\.my-namespace\s+\S+\s+example\.com\/serving\s+kubernetes-admin\s+<none>\s+Approved,Issued/);
  });

  await t.test('the requester downloads the certificate, stores it in a TLS secret and the CA in a ConfigMap', async () => {
    const pem = Buffer.from(await ok(['get', 'csr', 'my-svc.my-namespace', '-o', 'jsonpath={.status.certificate}']), 'base64').toString();
    await writeFile(path.join(dir, 'server.crt'), pem);
    await openssl(['x509', '-in', 'server.crt', '-noout'], dir); // parses as a certificate
    assert.equal(pem, await readFile(path.join(dir, 'ca-signed-server.pem'), 'utf8'));
    assert.match(await ok(['create', 'secret', 'tls', 'server', '--cert', path.join(dir, 'server.crt'), '--key', keyFile]), /secret\/server created/);
    assert.match(await ok(['create', 'configmap', 'example-serving-ca', '--from-file', `ca.crt=${path.join(dir, 'ca.pem')}`]), /configmap\/example-serving-ca created/);
    assert.equal(await ok(['get', 'secret', 'server', '-o', 'jsonpath={.type}']), 'kubernetes.io/tls');
    assert.match(await ok(['get', 'configmap', 'example-serving-ca', '-o', 'yaml']), /ca\.crt: \|\n\s+-----BEGIN CERTIFICATE-----/);
  });

  await t.test('deny: a second request is denied and shows Denied', async () => {
    await ok(['create', '-f', '-'], await manifest('to-deny'));
    assert.match(await ok(['certificate', 'deny', 'to-deny']), /certificatesigningrequest.certificates.k8s.io\/to-deny denied/);
    assert.match(await ok(['get', 'csr', 'to-deny', '-o', 'jsonpath={.status.conditions[0].type}']), /^Denied$/);
    const again = await kubectl(['certificate', 'approve', 'to-deny']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /is already Denied|mutually exclusive/);
  });

  await t.test('create -f with an unknown field is refused by server-side validation', async () => {
    const r = await kubectl(['create', '-f', '-'], await manifest('strict', '  foo: bar\n'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /strict decoding error: unknown field "spec\.foo"/);
    assert.equal((await kubectl(['get', 'csr', 'strict'])).code, 1, 'nothing was created');
  });

  await t.test('apply again with a label, patch (merge, json) and -o yaml/json/jsonpath', async () => {
    await ok(['apply', '-f', '-'], (await manifest('my-svc.my-namespace')).replace('  name: my-svc.my-namespace', '  name: my-svc.my-namespace\n  labels:\n    team: web'));
    assert.match(await ok(['get', 'csr', '-l', 'team=web', '-o', 'name']), /certificatesigningrequest.certificates.k8s.io\/my-svc.my-namespace/);
    await ok(['patch', 'csr', 'to-deny', '--type', 'merge', '-p', '{"metadata":{"labels":{"phase":"one"}}}']);
    await ok(['patch', 'csr', 'to-deny', '--type', 'json', '-p', '[{"op":"replace","path":"/metadata/labels/phase","value":"two"}]']);
    await ok(['patch', 'csr', 'to-deny', '-p', '{"metadata":{"annotations":{"a":"b"}}}']);
    const obj = JSON.parse(await ok(['get', 'csr', 'to-deny', '-o', 'json']));
    assert.equal(obj.metadata.labels.phase, 'two');
    assert.equal(obj.metadata.annotations.a, 'b');
    assert.match(await ok(['get', 'csr', 'to-deny', '-o', 'yaml']), /signerName: example\.com\/serving/);
    assert.equal(await ok(['get', 'csr', '-o', 'jsonpath={.items[*].metadata.name}']), 'my-svc.my-namespace to-deny');
  });

  await t.test('auth can-i, auth whoami and get --raw', async () => {
    assert.equal((await ok(['auth', 'can-i', 'approve', 'certificatesigningrequests.certificates.k8s.io'])).trim(), 'yes');
    const who = await ok(['auth', 'whoami', '-o', 'json']);
    assert.equal(JSON.parse(who).status.userInfo.username, 'kubernetes-admin');
    assert.equal(await ok(['get', '--raw', '/healthz']), 'ok');
    const raw = JSON.parse(await ok(['get', '--raw', '/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=1']));
    assert.equal(raw.items.length, 1);
    assert.ok(raw.metadata.continue, 'paged list has a continue token');
  });

  await t.test('delete removes the CSR (kubectl waits for it to be gone)', async () => {
    assert.match(await ok(['delete', 'csr', 'to-deny']), /certificatesigningrequest.certificates.k8s.io "to-deny" deleted/);
    const r = await kubectl(['get', 'csr', 'to-deny']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error from server \(NotFound\): certificatesigningrequests.certificates.k8s.io "to-deny" not found/);
  });

  await t.test('the server stops cleanly on SIGTERM', async () => {
    assert.equal(await serve.stop(), 0);
  });
});
