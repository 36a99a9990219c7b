// `kubepki ca rotate` refuses bad input with one clear line and writes nothing (no server needed for these).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

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
