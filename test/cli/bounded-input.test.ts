// Files a user names on the command line are read with a bound (src/util/bounded-file.ts): /dev/zero, a FIFO
// fed forever, a sparse multi-GB file or endless stdin end in one clear error, never an endless read; real pipes
// and /dev/stdin still work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubepki, run } from '../helpers/cli.js';

let dir: string;
let certPem: string;
const TOO_LARGE = /larger than 8 MiB/;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-bounded-'));
  const r = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'k.pem'), '-subj', '/CN=bounded', '-out', path.join(dir, 'c.pem')]);
  assert.equal(r.code, 0, r.stderr);
  certPem = (await import('node:fs')).readFileSync(path.join(dir, 'c.pem'), 'utf8');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('certs inspect /dev/zero fails with one line instead of reading forever', async () => {
  const r = await kubepki(['certs', 'inspect', '/dev/zero'], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, TOO_LARGE);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /cannot read \/dev\/zero: cannot read/);
});

test('a 4 GiB (sparse) file is refused from its size, without reading it', async () => {
  const big = path.join(dir, 'big.pem');
  await writeFile(big, '');
  await truncate(big, 4 * 1024 ** 3);
  for (const args of [['certs', 'inspect', big], ['certs', 'verify', big], ['cfssl', 'certinfo', '--cert', big], ['token', 'list', '--kubeconfig', big]]) {
    const r = await kubepki(args, { timeoutMs: 20_000 });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, TOO_LARGE, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('a FIFO fed forever is cut at the bound', async () => {
  const fifo = path.join(dir, 'fifo');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  const writer = spawn('sh', ['-c', `exec cat /dev/zero > '${fifo}'`], { stdio: 'ignore' });
  try {
    const r = await kubepki(['certs', 'inspect', fifo], { timeoutMs: 20_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, TOO_LARGE);
  } finally {
    writer.kill();
  }
});

test('endless stdin ("-") is cut at the bound', async () => {
  const r = await kubepki(['cfssl', 'certinfo', '--cert', '-'], { input: Buffer.alloc(9 * 1024 * 1024), timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /cannot read stdin: larger than 8 MiB/);
});

test('pipes and /dev/stdin still work', async () => {
  const a = await kubepki(['certs', 'inspect', '/dev/stdin'], { input: certPem });
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /bounded/);
  const b = await kubepki(['cfssl', 'certinfo', '--cert', '-'], { input: certPem });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /bounded/);
});

// openssl and kubectl wait for a writer for ever; kubepki waits PIPE_WAIT_MS (5 s) and says why it stopped.
test('a FIFO no one writes to is refused after a bounded wait, in one line that says so', async () => {
  const fifo = path.join(dir, 'fifo-no-writer');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  for (const args of [['certs', 'inspect', fifo], ['cfssl', 'certinfo', '--cert', fifo]]) {
    const started = Date.now();
    const r = await kubepki(args, { timeoutMs: 30_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot read ${fifo}: it is a named pipe and nothing was written to it within 5s`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(Date.now() - started < 25_000);
  }
});

test('a FIFO whose writer comes within the wait is read to its end', async () => {
  const fifo = path.join(dir, 'fifo-late-writer');
  assert.equal((await run('mkfifo', [fifo])).code, 0);
  await writeFile(path.join(dir, 'late.pem'), certPem);
  const writer = spawn('sh', ['-c', `sleep 1; exec cat '${path.join(dir, 'late.pem')}' > '${fifo}'`], { stdio: 'ignore' });
  try {
    const r = await kubepki(['certs', 'inspect', fifo], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bounded/);
  } finally {
    writer.kill();
  }
});
