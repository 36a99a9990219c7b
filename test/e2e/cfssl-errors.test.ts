// Bad input to `kubepki cfssl`: one clear line on stderr naming what is wrong, a non-zero exit, nothing on
// stdout (so `| cfssljson -bare NAME` writes nothing either).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { cfssljsonBare } from '../cfssl/helpers.js';

async function fixture(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  const files: Record<string, string> = {
    'ca-csr.json': '{"CN":"ca","key":{"algo":"ecdsa","size":256}}',
    'other-ca-csr.json': '{"CN":"other","key":{"algo":"ecdsa","size":256}}',
    'leaf-csr.json': '{"CN":"leaf","hosts":["leaf.example"],"key":{"algo":"ecdsa","size":256}}',
    'ca-config.json': '{"signing":{"default":{"expiry":"8760h"},"profiles":{"server":{"expiry":"876000h","usages":["signing","key encipherment","server auth"]}}}}',
    'bad.json': '{"CN": "x",\n  "hosts": [\n',
    'bad-expiry-config.json': '{"signing":{"profiles":{"server":{"expiry":"100 years","usages":["server auth"]}}}}',
    'bad-ca-expiry-csr.json': '{"CN":"ca","ca":{"expiry":"10y"}}',
    'weak-csr.json': '{"CN":"w","key":{"algo":"rsa","size":1024}}',
    'garbage.pem': 'this is not PEM\n',
    'truncated.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n',
  };
  for (const [f, body] of Object.entries(files)) await writeFile(path.join(dir, f), body);
  for (const name of ['ca', 'other-ca']) {
    const r = await kubepki(['cfssl', 'gencert', '-initca', `${name}-csr.json`], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await cfssljsonBare(r.stdout, name, dir)).code, 0);
  }
  const leaf = await kubepki(['cfssl', 'genkey', 'leaf-csr.json'], { cwd: dir });
  assert.equal((await cfssljsonBare(leaf.stdout, 'leaf', dir)).code, 0);
  return dir;
}

const SIGN = ['-ca=ca.pem', '-ca-key=ca-key.pem'];

const CASES: { what: string; args: string[]; stderr: RegExp; code?: number; stdin?: string }[] = [
  { what: 'bad JSON in csr.json', args: ['gencert', '-initca', 'bad.json'], stderr: /^error: bad\.json: invalid JSON: unexpected end of input \(expected a value\)$/ },
  { what: 'bad JSON on stdin', args: ['gencert', '-initca', '-'], stdin: '{"CN":', stderr: /^error: stdin: invalid JSON: unexpected end of input/ },
  { what: 'missing csr.json', args: ['gencert', '-initca', 'nope.json'], stderr: /^error: cannot read CSR request nope\.json: no such file$/ },
  { what: 'bad JSON in ca-config.json', args: ['gencert', ...SIGN, '-config=bad.json', 'leaf-csr.json'], stderr: /^error: bad\.json: invalid JSON: / },
  { what: 'missing ca-config.json', args: ['gencert', ...SIGN, '-config=missing.json', 'leaf-csr.json'], stderr: /^error: cannot read config missing\.json: no such file$/ },
  { what: 'unknown profile', args: ['gencert', ...SIGN, '-config=ca-config.json', '-profile=peer', 'leaf-csr.json'], stderr: /^error: ca-config\.json: unknown profile "peer" \(profiles: server\)$/ },
  { what: 'bad expiry in a profile', args: ['gencert', ...SIGN, '-config=bad-expiry-config.json', '-profile=server', 'leaf-csr.json'], stderr: /^error: bad-expiry-config\.json: profile "server": "expiry": invalid duration "100 years"/ },
  { what: 'bad ca.expiry in csr.json', args: ['gencert', '-initca', 'bad-ca-expiry-csr.json'], stderr: /^error: bad-ca-expiry-csr\.json: "ca\.expiry": invalid duration "10y"/ },
  { what: 'a weak RSA key request', args: ['gencert', '-initca', 'weak-csr.json'], stderr: /^error: weak-csr\.json: "key": RSA key size 1024 is too weak/ },
  { what: 'a CA certificate that is not PEM', args: ['gencert', '-ca=garbage.pem', '-ca-key=ca-key.pem', 'leaf-csr.json'], stderr: /^error: garbage\.pem: no PEM data found$/ },
  { what: 'a truncated CA certificate', args: ['gencert', '-ca=truncated.pem', '-ca-key=ca-key.pem', 'leaf-csr.json'], stderr: /^error: truncated\.pem: .*truncated/ },
  { what: 'a certificate given as the CA key', args: ['gencert', '-ca=ca.pem', '-ca-key=ca.pem', 'leaf-csr.json'], stderr: /^error: ca\.pem: no private key found/ },
  { what: 'the key of another CA', args: ['gencert', '-ca=ca.pem', '-ca-key=other-ca-key.pem', 'leaf-csr.json'], stderr: /^error: other-ca-key\.pem: this private key does not belong to the CA certificate ca\.pem$/ },
  { what: 'a missing CA key file', args: ['gencert', '-ca=ca.pem', '-ca-key=gone.pem', 'leaf-csr.json'], stderr: /^error: cannot read CA key gone\.pem: no such file$/ },
  { what: 'gencert without -initca or a CA', args: ['gencert', 'leaf-csr.json'], stderr: /^error: gencert needs -initca, or a CA to sign with/ },
  { what: 'a leaf certificate as the CA', args: ['gencert', '-ca=leaf.csr', '-ca-key=leaf-key.pem', 'leaf-csr.json'], stderr: /^error: leaf\.csr: no CERTIFICATE block found$/ },
  { what: 'sign without a CA key', args: ['sign', '-ca=ca.pem', 'leaf.csr'], stderr: /^error: sign needs the CA private key: -ca-key=ca-key\.pem$/ },
  { what: 'sign given a certificate instead of a CSR', args: ['sign', ...SIGN, 'ca.pem'], stderr: /^error: ca\.pem: expected one CERTIFICATE REQUEST PEM block, found 0$/ },
  { what: 'sign with an unknown profile', args: ['sign', ...SIGN, '-config=ca-config.json', '-profile=client', 'leaf.csr'], stderr: /^error: ca-config\.json: unknown profile "client"/ },
  { what: 'certinfo of a missing file', args: ['certinfo', '-cert', 'nope.pem'], stderr: /^error: cannot read certificate nope\.pem: no such file$/ },
  { what: 'certinfo of a non-PEM file', args: ['certinfo', '-cert=garbage.pem'], stderr: /^error: garbage\.pem: no PEM data found$/ },
  { what: 'certinfo without -cert', args: ['certinfo'], stderr: /^error: certinfo: give the certificate with -cert FILE$/ },
  { what: 'an unknown flag', args: ['gencert', '-remote=cfssl.example:8888', 'leaf-csr.json'], stderr: /^error: unknown option '-remote=cfssl\.example:8888'$/, code: 2 },
  { what: 'a missing CSR argument', args: ['sign', ...SIGN], stderr: /^error: missing required argument 'csr'$/, code: 2 },
];

test('bad input gives one clear line on stderr, a non-zero exit and nothing on stdout', async (t) => {
  const dir = await fixture(t);
  const before = (await readdir(dir)).sort();
  const results = await Promise.all(CASES.map((c) => kubepki(['cfssl', ...c.args], { cwd: dir, ...(c.stdin === undefined ? {} : { input: c.stdin }) })));
  CASES.forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.stdout, '', `${c.what}: stdout must stay empty`);
    assert.equal(r.code, c.code ?? 1, `${c.what}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, /^[^\n]+\n$/, `${c.what}: exactly one line, got ${JSON.stringify(r.stderr)}`);
    assert.match(r.stderr.trimEnd(), c.stderr, c.what);
  });
  // And `| cfssljson -bare x` then writes nothing.
  const piped = await cfssljsonBare(results[0]!.stdout, 'x', dir);
  assert.notEqual(piped.code, 0);
  assert.deepEqual((await readdir(dir)).sort(), before);
});

test('a profile setting kubepki cannot honour is a warning on stderr, and the certificate is still printed', async (t) => {
  const dir = await fixture(t);
  await writeFile(path.join(dir, 'ocsp-config.json'), '{"signing":{"profiles":{"s":{"expiry":"1h","ocsp_url":"http://ocsp.example","usages":["server auth","no such usage"]}}}}');
  const r = await kubepki(['cfssl', 'gencert', ...SIGN, '-config=ocsp-config.json', '-profile=s', 'leaf-csr.json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    'warning: ocsp-config.json: profile "s": unknown usage "no such usage" ignored',
    'warning: ocsp-config.json: profile "s": "ocsp_url" is not supported by kubepki and is ignored',
  ]);
  assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ['cert', 'csr', 'key']);
  assert.match(await readFile(path.join(dir, 'ca.pem'), 'utf8'), /BEGIN CERTIFICATE/);
});
