// The node trust store side of custom CA trust: one file per certificate in a kubepki-owned subfolder,
// removals, the update command, the bundle, and a failing command that leaves the previous set in place.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CustomCaTrustStore } from '../../src/agent/custom-ca-trust.js';
import { customCasFromSecretData } from '../../src/cluster/custom-ca-trust.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCa } from '../helpers/pki.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('applies a set, removes what is no longer listed, runs the update command, keeps the bundle; a failing command restores the previous set', async (t) => {
  const dir = await tempDir(t, 'kubepki-ccat-');
  const trust = path.join(dir, 'trust');
  await mkdir(trust);
  await writeFile(path.join(trust, 'operator.crt'), 'not ours'); // outside the subfolder: never touched
  const log = path.join(dir, 'log');
  const fail = path.join(dir, 'fail');
  // The update command records what it saw; it fails while the file `fail` exists.
  const updateCommand = `ls "$KUBEPKI_CUSTOM_CA_TRUST_DIR" | tr '\\n' ' ' >> ${log}; echo >> ${log}; if [ -e ${fail} ]; then echo "no space left" >&2; exit 3; fi`;
  const bundleFile = path.join(dir, 'bundle.pem');
  const store = new CustomCaTrustStore({ dir: trust, updateCommand, bundleFile });
  const [a, b, c] = await Promise.all([makeCa({ cn: 'a' }), makeCa({ cn: 'b' }), makeCa({ cn: 'c' })]);
  const now = new Date();
  const set1 = customCasFromSecretData({ 'ca1.crt': b64(a.certificate.pem), 'ca2.crt': b64(b.certificate.pem + c.certificate.pem) }, now).certificates;
  const r1 = await store.apply(set1);
  assert.deepEqual(r1.files, ['ca1.crt', 'ca2-2.crt', 'ca2.crt']);
  assert.deepEqual((await readdir(path.join(trust, 'kubepki'))).sort(), ['ca1.crt', 'ca2-2.crt', 'ca2.crt']);
  assert.equal(await readFile(bundleFile, 'utf8'), a.certificate.pem + b.certificate.pem + c.certificate.pem);

  const set2 = customCasFromSecretData({ 'ca1.crt': b64(a.certificate.pem) }, now).certificates;
  await writeFile(fail, '');
  await assert.rejects(store.apply(set2), /the update command ".*" exited with status 3: no space left/);
  assert.deepEqual((await readdir(path.join(trust, 'kubepki'))).sort(), ['ca1.crt', 'ca2-2.crt', 'ca2.crt'], 'the previous set is back');
  assert.equal(await readFile(bundleFile, 'utf8'), a.certificate.pem + b.certificate.pem + c.certificate.pem, 'the bundle is unchanged');

  const { rm } = await import('node:fs/promises');
  await rm(fail);
  const r2 = await store.apply(set2);
  assert.deepEqual(r2.files, ['ca1.crt']);
  assert.deepEqual(await readdir(path.join(trust, 'kubepki')), ['ca1.crt']);
  assert.equal(await readFile(bundleFile, 'utf8'), a.certificate.pem);
  await store.apply([]);
  assert.deepEqual(await readdir(path.join(trust, 'kubepki')), []);
  assert.equal(await readFile(bundleFile, 'utf8'), '');
  assert.equal(await readFile(path.join(trust, 'operator.crt'), 'utf8'), 'not ours');
  const runs = (await readFile(log, 'utf8')).replace(/\n$/, '').split('\n');
  // set1; set2 failing; the restore of set1; set2; empty
  assert.deepEqual(runs.map((l) => l.trim()), ['ca1.crt ca2-2.crt ca2.crt', 'ca1.crt', 'ca1.crt ca2-2.crt ca2.crt', 'ca1.crt', '']);
});
