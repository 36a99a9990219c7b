// readBoundedFile / readBoundedFileSync on named pipes: a pipe no one writes to ends in a FileInvalid error
// after the configured wait (it blocked open(2) for ever), a pipe with a writer is read to EOF.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readBoundedFile, readBoundedFileSync } from '../../src/util/bounded-file.js';
import { KubepkiError } from '../../src/util/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-fifo-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const fifo = (name: string): string => {
  const p = path.join(dir, name);
  execFileSync('mkfifo', [p]);
  return p;
};
const nothingWritten = (err: unknown) => err instanceof KubepkiError && err.code === 'FileInvalid' && /named pipe and nothing was written to it within 0.2s/.test(err.message);

test('a named pipe with no writer: both readers give up after the wait with FileInvalid', async () => {
  const p = fifo('none');
  assert.throws(() => readBoundedFileSync(p, { pipeWaitMs: 200 }), nothingWritten);
  await assert.rejects(readBoundedFile(p, { pipeWaitMs: 200 }), nothingWritten);
});

test('a named pipe whose writer writes and closes is read whole, by both readers', async () => {
  for (const read of [(p: string) => Promise.resolve(readBoundedFileSync(p, { pipeWaitMs: 5000 })), (p: string) => readBoundedFile(p, { pipeWaitMs: 5000 })]) {
    const p = fifo(`w${Math.random().toString(36).slice(2)}`);
    const writer = spawn('sh', ['-c', `sleep 0.3; printf 'hello\\nworld\\n' > '${p}'`], { stdio: 'ignore' });
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    // The sync reader blocks this thread; the writer is another process, so it still writes.
    assert.equal(await read(p), 'hello\nworld\n');
    await exited;
  }
});

test('a device at its end (/dev/null) is empty at once, by both readers: only a named pipe waits for a writer', async () => {
  const started = Date.now();
  assert.equal(readBoundedFileSync('/dev/null', { pipeWaitMs: 60_000 }), '');
  assert.equal(await readBoundedFile('/dev/null', { pipeWaitMs: 60_000 }), '');
  assert.ok(Date.now() - started < 30_000, 'neither waited for the pipe wait');
});
