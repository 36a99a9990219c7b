// The one client's kubeconfig reading (src/client/kubeconfig.ts): contexts, relative paths, credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadClientConfig, parseClientConfig, resolveCredentials } from '../../src/client/kubeconfig.js';
import { tempDir } from '../helpers/tmp.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: token
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes
contexts:
- name: token
  context: { cluster: c, user: t }
- name: cert
  context: { cluster: c, user: x }
- name: anonymous
  context: { cluster: c }
- name: ghost
  context: { cluster: c, user: nobody }
users:
- name: t
  user: { tokenFile: token.txt }
- name: x
  user: { client-certificate: pki/client.crt, client-key-data: ${Buffer.from('KEY PEM').toString('base64')} }
`;

test('paths are relative to the kubeconfig, the current context or the one asked for is used, credentials are read when resolved', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'pki'));
  await writeFile(path.join(dir, 'pki', 'ca.crt'), 'CA PEM');
  await writeFile(path.join(dir, 'pki', 'client.crt'), 'CERT PEM');
  await writeFile(path.join(dir, 'token.txt'), 'abc.def\n');
  const file = path.join(dir, 'kubeconfig');
  await writeFile(file, KUBECONFIG);

  const token = loadClientConfig(file);
  assert.deepEqual(token.cluster, { server: 'https://127.0.0.1:6443', caPem: undefined, caFile: path.join(dir, 'pki', 'ca.crt'), tlsServerName: 'kubernetes', insecureSkipTLSVerify: false });
  assert.equal(token.user.tokenFile, path.join(dir, 'token.txt'));
  assert.equal(token.userName, 't', 'the context\'s user, by its kubeconfig name');
  assert.deepEqual(await resolveCredentials(token), { ca: 'CA PEM', cert: undefined, key: undefined, headers: { authorization: 'Bearer abc.def' } });
  // A rewritten token file is seen at the next resolution.
  await writeFile(path.join(dir, 'token.txt'), 'ghi.jkl');
  assert.equal((await resolveCredentials(token)).headers['authorization'], 'Bearer ghi.jkl');

  const cert = await resolveCredentials(loadClientConfig(file, { context: 'cert' }));
  assert.deepEqual(cert, { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM', headers: {} });
  assert.deepEqual(loadClientConfig(file, { context: 'anonymous' }).user, {
    certPem: undefined,
    certFile: undefined,
    keyPem: undefined,
    keyFile: undefined,
    token: undefined,
    tokenFile: undefined,
    username: undefined,
    password: undefined,
    exec: undefined,
  });
  assert.equal(loadClientConfig(file, { context: 'anonymous' }).userName, undefined);
  assert.throws(() => loadClientConfig(file, { context: 'ghost' }), { code: 'InvalidConfig', message: /no known user \("nobody"\)/ });
  assert.throws(() => loadClientConfig(file, { context: 'missing' }), { code: 'InvalidConfig', message: /context "missing" not found/ });
  assert.throws(() => loadClientConfig(path.join(dir, 'nope')), { code: 'FileMissing' });
});

test('a kubeconfig that is not YAML, names no server or uses an auth-provider is refused with one clear error', () => {
  const opts = { what: 'k', baseDir: '/' };
  assert.throws(() => parseClientConfig('{{{', opts), { code: 'FileInvalid', message: /^k: not a valid kubeconfig/ });
  const noServer = 'current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]\n';
  assert.throws(() => parseClientConfig(noServer, opts), { code: 'InvalidConfig', message: /no server/ });
  const authProvider = 'current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\nclusters: [{name: c, cluster: {server: "https://h"}}]\nusers: [{name: u, user: {auth-provider: {name: oidc}}}]\n';
  assert.throws(() => parseClientConfig(authProvider, opts), { code: 'InvalidConfig', message: /auth-provider/ });
});

test('basic auth and an exec credential plugin give the Authorization header', async (t) => {
  const dir = await tempDir(t);
  const plugin = path.join(dir, 'plugin.mjs');
  await writeFile(plugin, "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-' + process.env.GREETING } }));\n");
  const basic = await resolveCredentials({ cluster: { server: 'https://h' }, user: { username: 'ann', password: 'pw' } });
  assert.equal(basic.headers['authorization'], `Basic ${Buffer.from('ann:pw').toString('base64')}`);
  const exec = await resolveCredentials({ cluster: { server: 'https://h' }, user: { exec: { command: process.execPath, args: [plugin], env: [{ name: 'GREETING', value: 'plugin' }] } } });
  assert.equal(exec.headers['authorization'], 'Bearer from-plugin');
});
