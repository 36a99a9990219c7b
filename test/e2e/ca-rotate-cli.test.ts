// `kubepki ca rotate` refuses bad input with one clear line and writes nothing (no server needed for these).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { DAY, makeCa } from '../helpers/pki.js';
import { privateKeyToPem } from '../../src/x509/keys.js';

test('ca rotate: a directory that is not a kubepki cluster, an incomplete one, a bad --phase', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ca-rotate-cli-');
  const empty = await kubepki(['ca', 'rotate', '--data-dir', dir]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /is not a kubepki data directory \(no pki\/ca\.crt, no admin\.conf\)/);
  await mkdir(path.join(dir, 'pki'));
  await writeFile(path.join(dir, 'pki', 'ca.crt'), 'x');
  await writeFile(path.join(dir, 'admin.conf'), 'x');
  const partial = await kubepki(['ca', 'rotate', '--data-dir', dir, '--phase', 'prepare']);
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /not a complete kubepki data directory: missing pki\/ca\.key, .*needs the CA keys on disk/);
  const phase = await kubepki(['ca', 'rotate', '--data-dir', dir, '--phase', 'later']);
  assert.equal(phase.code, 1);
  assert.match(phase.stderr, /--phase: "later" is not one of prepare, switch, complete, all/);
  const status = await kubepki(['ca', 'rotate', 'status', '--data-dir', dir, '-o', 'yaml']);
  assert.equal(status.code, 1);
  assert.match(status.stderr, /-o: "yaml" is not supported/);
  assert.deepEqual((await readdir(path.join(dir, 'pki'))).sort(), ['ca.crt'], 'nothing written');
});

test('ca rotate --phase prepare: a CA key that does not match, an expired CA: refused before the cluster is asked, nothing written', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ca-rotate-cli-');
  const init = await kubepki(['init', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(init.code, 0, init.stderr);
  const pki = path.join(dir, 'pki');
  const snapshot = async () => Promise.all((await readdir(pki)).sort().map(async (f) => [f, f === 'etcd' ? '' : await readFile(path.join(pki, f), 'utf8')]));
  const other = await makeCa({ cn: 'kubernetes' });
  await writeFile(path.join(pki, 'ca.key'), privateKeyToPem(other.privateKey), { mode: 0o600 });
  const before = await snapshot();
  const mismatch = await kubepki(['ca', 'rotate', '--data-dir', dir, '--phase', 'prepare']);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /ca\.key does not belong to ca\.crt: refusing to rotate from a CA whose key is not the one on disk/);
  assert.deepEqual(await snapshot(), before, 'nothing written');

  const expired = await makeCa({ cn: 'kubernetes', notBefore: new Date(Date.now() - 20 * DAY), notAfter: new Date(Date.now() - DAY) });
  await writeFile(path.join(pki, 'ca.crt'), expired.certificate.pem);
  await writeFile(path.join(pki, 'ca.key'), privateKeyToPem(expired.privateKey), { mode: 0o600 });
  const before2 = await snapshot();
  const old = await kubepki(['ca', 'rotate', '--data-dir', dir, '--phase', 'prepare']);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /ca\.crt expired on \S+: a rotation needs the old CA valid/);
  assert.deepEqual(await snapshot(), before2, 'nothing written');
});
