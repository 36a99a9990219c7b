// Kubeconfigs with hostile content get one clear line naming the problem, never an OpenSSL code alone or a
// transport error about a protocol; key material is never echoed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-hostile-kc-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const KEY_DATA = Buffer.from('-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET\n').toString('base64');

function kubeconfig(server: string, user: Record<string, string>): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    '  cluster:',
    `    server: ${JSON.stringify(server)}`,
    'users:',
    '- name: u',
    '  user:',
    ...Object.entries(user).map(([k, v]) => `    ${k}: ${v}`),
    'contexts:',
    '- name: x',
    '  context: {cluster: c, user: u}',
    'current-context: x',
    '',
  ].join('\n');
}

test('a server that is not an http(s) URL is named as such', async () => {
  for (const server of ['file:///etc/passwd', 'gopher://x', '127.0.0.1:6443']) {
    const file = path.join(dir, 'scheme.yaml');
    await writeFile(file, kubeconfig(server, { token: 'abcdef.0123456789abcdef' }));
    const r = await kubepki(['token', 'list', '--kubeconfig', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the cluster's server ${JSON.stringify(server).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not an http\\(s\\) URL`), r.stderr);
    assert.doesNotMatch(r.stderr, /0123456789abcdef/);
  }
});

test('client key data that is not a key is said to be the kubeconfig credentials, without the key', async () => {
  const file = path.join(dir, 'badkey.yaml');
  await writeFile(file, kubeconfig('https://127.0.0.1:1', { 'client-certificate-data': Buffer.from('not a cert').toString('base64'), 'client-key-data': KEY_DATA }));
  const r = await kubepki(['token', 'list', '--kubeconfig', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the kubeconfig's client certificate, client key or certificate authority could not be loaded/, r.stderr);
  assert.doesNotMatch(r.stderr, /SECRETSECRET|MIGHAgEA/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
