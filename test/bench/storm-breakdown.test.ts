// bench:storm --breakdown buckets perf samples by the source file of their JS frames; serve runs from esbuild
// bundles, so a frame names a bundle line and must be mapped back to the module esbuild put there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { categorize } from '../../bench/storm-breakdown.js';

test('a JS frame of a bundled serve is bucketed by the source module the bundle line belongs to', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-breakdown-'));
  try {
    const bundle = path.join(dir, 'dist', 'bundle', 'cmd-serve.js');
    await mkdir(path.dirname(bundle), { recursive: true });
    await writeFile(bundle, ['// dist/src/api/managed-fields.js', 'function recordUpdate() {}', '', '// dist/src/auth/authz/rbac.js', 'function authorize() {}'].join('\n'));
    // perf script -F tid,ip,sym: one block per sample, the leaf frame first.
    const sample = (line: number, name: string) => `1234\n\t    7f00 JS:*${name} file://${bundle}:${line}:10\n\t    7f01 uv_run\n`;
    const script = [sample(2, 'recordUpdate'), sample(2, 'recordUpdate'), sample(5, 'authorize')].join('\n');
    const buckets = categorize(script, 1234);
    assert.equal(buckets.get('managedFields'), 2);
    assert.equal(buckets.get('authn + authz'), 1);
    assert.equal(buckets.get('other (event loop)'), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

