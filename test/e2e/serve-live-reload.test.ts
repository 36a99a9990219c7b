// serve re-reads its trust and certificates while it runs (kube-apiserver's dynamic certificate
// controllers): a second CA added to the client bundle is trusted at once, a new serving certificate is used
// for new handshakes while a kept-alive connection goes on, a new service-account key signs new tokens while
// the old one still verifies, and a bad new file (half-written bundle, key of another certificate) is refused
// with a log line while the last good material stays. Judged with the real curl, openssl and kubectl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import path from 'node:path';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { initClusterPki } from '../../src/cluster/init.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { run } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { openssl, opensslCa, opensslLeaf } from '../helpers/openssl.js';
import { CLIENT_EXT, kubectlWith, startServe } from '../api/helpers.js';
import {  } from '../agent/cluster.js';
import { until } from '../helpers/poll.js';

/** Replaces a file the way an operator's tooling should: write aside, rename over. */
async function replaceFile(file: string, data: string): Promise<void> {
  await writeFile(`${file}.new`, data, { mode: 0o600 });
  await rename(`${file}.new`, file);
}

async function curlStatus(url: string, args: string[]): Promise<string> {
  const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...args, url]);
  return r.stdout.trim();
}

async function servingIssuer(port: number, dir: string): Promise<string> {
  const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost'], { input: '', cwd: dir });
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(r.stdout)?.[0] ?? '';
  const der = await run('openssl', ['x509', '-noout', '-issuer'], { input: pem, cwd: dir });
  return der.stdout.trim();
}

test('serve: client CA, serving certificate and service-account keys reload live; bad files are refused', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-live-');
  const dataDir = path.join(dir, 'data');
  const pki = path.join(dataDir, 'pki');
  const port = await freePort();
  const config = resolveClusterConfig({ bindPort: port, advertiseAddress: '127.0.0.1', apiServerCertSANs: ['127.0.0.1', 'localhost'], encryptionAlgorithm: 'ECDSA-P256' });
  await initClusterPki({ certDir: pki, kubeconfigDir: dataDir, config });
  // Events only: the periodic check is off, so each reload below is the file watch's doing.
  const serve = await startServe(t, ['--cert-reload-interval', '0', '--controllers', 'csrcleaner'], { dataDir, port });
  const url = serve.url;
  t.after(() => {
    if (process.env['KUBEPKI_TEST_DEBUG']) process.stderr.write(serve.stderr());
  });
  const kubectl = kubectlWith(serve.kubeconfig, path.join(dir, 'cache'));
  const oldCA = await readFile(path.join(pki, 'ca.crt'), 'utf8');

  // A second CA and a client of it: refused until the bundle holds both CAs.
  const other = await opensslCa(dir, 'other-ca', { subject: '/CN=other-ca', days: 30, keyUsage: 'critical,keyCertSign,cRLSign,digitalSignature' });
  const alice = await opensslLeaf(dir, 'alice', { subject: '/O=system:masters/CN=alice', ext: CLIENT_EXT, ca: { cert: other.certFile, key: other.keyFile }, days: 5 });
  const otherPem = await readFile(other.certFile, 'utf8');
  const bothFile = path.join(dir, 'both.crt');
  await writeFile(bothFile, oldCA + otherPem);
  const asAlice = ['--cacert', bothFile, '--cert', alice.certFile, '--key', alice.keyFile];
  assert.equal(await curlStatus(`${url}/api`, asAlice), '401', 'a client of an untrusted CA');

  await replaceFile(path.join(pki, 'ca.crt'), oldCA + otherPem);
  await until(async () => (await curlStatus(`${url}/api`, asAlice)) === '200' || undefined, 'the second CA is trusted');
  const first = await kubectl(['get', 'ns', 'default', '-o', 'name']);
  assert.equal(first.stdout.trim(), 'namespace/default', `the first CA is still trusted: ${first.stderr}`);

  // A half-written bundle: refused, both CAs stay trusted.
  await writeFile(path.join(pki, 'ca.crt'), oldCA + otherPem.slice(0, 200));
  await until(() => /refusing the new client CA bundle; the last good one stays in force/.test(serve.stderr()) || undefined, 'the refusal is logged');
  assert.equal(await curlStatus(`${url}/api`, asAlice), '200');
  assert.equal((await kubectl(['get', 'ns', 'default', '-o', 'name'])).code, 0);

  // The serving certificate: a kept-alive connection made before the swap goes on after it.
  const agent = new https.Agent({ keepAlive: true, ca: [oldCA, otherPem], cert: await readFile(alice.certFile), key: await readFile(alice.keyFile) });
  t.after(() => agent.destroy());
  const get = () =>
    new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
      const req = https.get(`${url}/version`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
  assert.equal((await get()).status, 200);
  assert.match(await servingIssuer(port, dir), /CN ?= ?kubernetes/);
  const originalServing = { cert: await readFile(path.join(pki, 'apiserver.crt'), 'utf8'), key: await readFile(path.join(pki, 'apiserver.key'), 'utf8') };
  const serving = await opensslLeaf(dir, 'serving', {
    subject: '/CN=kube-apiserver',
    ext: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    ca: { cert: other.certFile, key: other.keyFile },
    days: 5,
  });
  // A certificate whose key is elsewhere: refused, the old one still served.
  await replaceFile(path.join(pki, 'apiserver.crt'), await readFile(serving.certFile, 'utf8'));
  await until(() => /refusing the new serving certificate/.test(serve.stderr()) || undefined, 'the mismatched pair is refused');
  assert.match(await servingIssuer(port, dir), /CN ?= ?kubernetes/);
  await replaceFile(path.join(pki, 'apiserver.key'), await readFile(serving.keyFile, 'utf8'));
  await until(async () => /CN ?= ?other-ca/.test(await servingIssuer(port, dir)) || undefined, 'the new serving certificate is served');
  const again = await get();
  assert.deepEqual(again, { status: 200, reused: true }, 'the connection opened before the swap is still in use');
  assert.equal(await curlStatus(`${url}/api`, asAlice), '200', 'a new connection verifies the new serving certificate');
  // And back to the cluster's own serving certificate (the pair is written as two renames; the moment
  // between them is refused, not served).
  await replaceFile(path.join(pki, 'apiserver.key'), originalServing.key);
  await replaceFile(path.join(pki, 'apiserver.crt'), originalServing.cert);
  await until(async () => /CN ?= ?kubernetes/.test(await servingIssuer(port, dir)) || undefined, 'the cluster serving certificate is back');

  // Service-account keys: a token signed with the old key keeps working once a new key signs.
  await kubectl(['create', 'serviceaccount', 'robot', '-n', 'default']);
  const oldToken = (await kubectl(['create', 'token', 'robot', '-n', 'default'])).stdout.trim();
  const kid = (tok: string) => (JSON.parse(Buffer.from(tok.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
  const oldPub = await readFile(path.join(pki, 'sa.pub'), 'utf8');
  const newKey = path.join(dir, 'sa-new.key');
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', newKey], dir);
  const newPub = (await run('openssl', ['pkey', '-in', newKey, '-pubout'])).stdout;
  // Signing key first: no verification key matches it yet, so it is refused (tokens it signed would fail).
  await replaceFile(path.join(pki, 'sa.key'), await readFile(newKey, 'utf8'));
  await until(() => /refusing the new service-account keys/.test(serve.stderr()) || undefined, 'a signing key nothing verifies is refused');
  const stillOld = await kubectl(['create', 'token', 'robot', '-n', 'default']);
  assert.equal(stillOld.code, 0, stillOld.stderr);
  assert.equal(kid(stillOld.stdout.trim()), kid(oldToken), 'the old key still signs');
  await replaceFile(path.join(pki, 'sa.pub'), oldPub + newPub);
  const newToken = await until(async () => {
    const tok = (await kubectl(['create', 'token', 'robot', '-n', 'default'])).stdout.trim();
    return kid(tok) !== kid(oldToken) ? tok : undefined;
  }, 'the new key signs');
  const caArgs = ['--cacert', bothFile];
  for (const tok of [oldToken, newToken]) assert.equal(await curlStatus(`${url}/api`, [...caArgs, '-H', `Authorization: Bearer ${tok}`]), '200');
  // The old key leaves: its tokens stop verifying.
  await replaceFile(path.join(pki, 'sa.pub'), newPub);
  await until(async () => (await curlStatus(`${url}/api`, [...caArgs, '-H', `Authorization: Bearer ${oldToken}`])) === '401' || undefined, 'the old token is refused');
  assert.equal(await curlStatus(`${url}/api`, [...caArgs, '-H', `Authorization: Bearer ${newToken}`]), '200');
  assert.doesNotMatch(serve.stderr(), new RegExp(oldToken.slice(-20)), 'no token in the logs');
});
