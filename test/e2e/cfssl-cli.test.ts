// The `kubepki cfssl` command line as cfssl users type it: Go-style flags in both spellings, "-" for stdin,
// genkey's outputs through the real cfssljson, and keys cfssl allows beyond kubeadm's (P-521).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { certExt, cfssljsonBare, openssl, publicKeyOf } from '../cfssl/helpers.js';

test('gencert reads csr.json from stdin with "-", takes -flag=value and -flag value alike, and cfssljson writes the files', async (t) => {
  const dir = await tempDir(t);
  const ca = await kubepki(['cfssl', 'gencert', '-initca=true', '-'], { cwd: dir, input: '{"CN":"p521-ca","key":{"algo":"ecdsa","size":521}}' });
  assert.equal(ca.code, 0, ca.stderr);
  assert.equal((await cfssljsonBare(ca.stdout, 'ca', dir)).code, 0);
  await writeFile(path.join(dir, 'cfg.json'), '{"signing":{"profiles":{"peer":{"expiry":"8760h","usages":["signing","key encipherment","server auth","client auth"]}}}}');
  const leaf = await kubepki(['cfssl', 'gencert', '-ca', 'ca.pem', '--ca-key=ca-key.pem', '-config', 'cfg.json', '-profile=peer', '-hostname', 'node1,10.0.0.5', '-'], {
    cwd: dir,
    input: '{"CN":"node1","key":{"algo":"ecdsa","size":521}}',
  });
  assert.equal(leaf.code, 0, leaf.stderr);
  assert.equal((await cfssljsonBare(leaf.stdout, 'node1', dir)).code, 0);
  assert.deepEqual((await readdir(dir)).sort(), ['ca-key.pem', 'ca.csr', 'ca.pem', 'cfg.json', 'node1-key.pem', 'node1.csr', 'node1.pem']);
  for (const purpose of ['sslserver', 'sslclient']) {
    const v = await openssl(['verify', '-purpose', purpose, '-CAfile', 'ca.pem', 'node1.pem'], dir);
    assert.equal(v.code, 0, v.stderr);
  }
  assert.match(await certExt('node1.pem', 'subjectAltName', dir), /DNS:node1, IP Address:10\.0\.0\.5/);
  const text = await openssl(['x509', '-in', 'node1.pem', '-noout', '-text'], dir);
  assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA512/);
  assert.match(text.stdout, /NIST CURVE: P-521/);
  assert.equal(await publicKeyOf('node1-key.pem', 'key', dir), await publicKeyOf('node1.pem', 'cert', dir));
});

test('genkey prints a key and CSR (genkey -initca also the CA) that cfssljson writes and openssl accepts', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'req.json'), '{"CN":"system:node:n1","hosts":["n1","10.0.0.7"],"names":[{"O":"system:nodes"}],"key":{"algo":"ecdsa","size":256}}');
  const gk = await kubepki(['cfssl', 'genkey', 'req.json'], { cwd: dir });
  assert.equal(gk.code, 0, gk.stderr);
  assert.deepEqual(Object.keys(JSON.parse(gk.stdout)), ['csr', 'key']);
  assert.equal((await cfssljsonBare(gk.stdout, 'n1', dir)).code, 0);
  const req = await openssl(['req', '-in', 'n1.csr', '-noout', '-verify', '-subject'], dir);
  assert.equal(req.code, 0, req.stderr);
  assert.match(req.stdout, /subject=O = system:nodes, CN = system:node:n1/);
  assert.equal(await publicKeyOf('n1-key.pem', 'key', dir), await publicKeyOf('n1.csr', 'csr', dir));

  const gkca = await kubepki(['cfssl', 'genkey', '-initca', 'req.json'], { cwd: dir });
  assert.equal(gkca.code, 0, gkca.stderr);
  assert.deepEqual(Object.keys(JSON.parse(gkca.stdout)), ['cert', 'csr', 'key']);
  assert.equal((await cfssljsonBare(gkca.stdout, 'ca', dir)).code, 0);
  assert.match(await certExt('ca.pem', 'basicConstraints', dir), /CA:TRUE/);
});

test('each cfssl subcommand explains itself with -h', async () => {
  for (const sub of ['gencert', 'sign', 'genkey', 'certinfo']) {
    const r = await kubepki(['cfssl', sub, '-h']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: kubepki cfssl ${sub}`));
  }
});
