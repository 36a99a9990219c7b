// `kubepki serve` refuses bad invocations with one clear line, and two servers cannot share one SQLite file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { startServe } from '../api/helpers.js';

test('serve: bad flags are one clear error each', async () => {
  const cases: [string[], RegExp][] = [
    [[], /give --data-dir, or all of --tls-cert-file, --tls-private-key-file and --client-ca-file/],
    [['--data-dir', '/nonexistent-dir-x', '--secure-port', '99999'], /--secure-port: "99999" is not a valid port/],
    [['--data-dir', '/tmp/x', '--storage', 'mysql'], /--storage: "mysql" is not sqlite or etcd/],
    [['--data-dir', '/tmp/x', '--storage', 'etcd'], /--storage etcd needs --etcd-servers/],
    [['--tls-cert-file', '/nope.crt', '--tls-private-key-file', '/nope.key', '--client-ca-file', '/nope-ca.crt', '--storage', 'etcd', '--etcd-servers', 'http://127.0.0.1:1'], /--tls-cert-file: cannot read \/nope.crt/],
  ];
  for (const [args, re] of cases) {
    const r = await kubepki(['serve', ...args]);
    assert.equal(r.code, 1, `serve ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});

test('serve: a second server on the same data directory is refused (SQLite is single-process)', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-serve-cli-');
  const dataDir = path.join(dir, 'data');
  await startServe(t, [], { dataDir, port: await freePort() });
  const r = await kubepki(['serve', '--data-dir', dataDir, '--secure-port', String(await freePort())], { timeoutMs: 20_000 });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /database is locked \(is another kubepki process using this database file\?\)/);
});
