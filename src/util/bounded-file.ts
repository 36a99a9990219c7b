// The one way to read a file a user names (a PEM, a kubeconfig, a config, stdin): its size is bounded, so
// `/dev/zero`, `/dev/urandom`, a FIFO fed forever or a multi-GB file give one clear error instead of reading
// until memory runs out. Pipes and /dev/stdin still work: a stream is read until EOF or the bound.
//
// A named pipe no one writes to is bounded in time too. openssl and kubectl open it and wait for a writer
// for ever (`openssl x509 -in fifo` hangs); an operator who typed the wrong path gets nothing to see. Here a
// path is opened non-blocking, and a pipe that has given nothing within PIPE_WAIT_MS is an error that says
// so. A writer that is there, or comes within the wait (`<(cat cert.pem)`, `mkfifo p; cat x > p &`), is read
// to EOF as before. Stdin (fd 0) still blocks, as every Unix tool's does.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubepkiError } from './errors.js';

/** Far above any PEM bundle, kubeconfig or config kubepki reads (the system CA bundle is ~200 KB). */
export const MAX_INPUT_FILE_BYTES = 8 * 1024 * 1024;

/** How long a named pipe may give nothing before the read is an error (a device such as /dev/null ends at once). */
export const PIPE_WAIT_MS = 5_000;
const POLL_MS = 20;

export interface BoundedReadOptions {
  limit?: number;
  /** PIPE_WAIT_MS unless said (tests). */
  pipeWaitMs?: number;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function nothingWritten(file: string, waitMs: number): KubepkiError {
  return new KubepkiError('FileInvalid', `cannot read ${file}: it is a named pipe and nothing was written to it within ${waitMs / 1000}s`);
}

const isAgain = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'EAGAIN' || (err as NodeJS.ErrnoException)?.code === 'EWOULDBLOCK';

/** A synchronous sleep (Atomics.wait on a private buffer): the sync reader is for CLI start-up only. */
const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

const CHUNK = 64 * 1024;
const STDIN = '/dev/stdin';

function tooLarge(file: string, limit: number): KubepkiError {
  return new KubepkiError('FileInvalid', `cannot read ${file}: larger than ${limit / (1024 * 1024)} MiB (not a certificate, key or config file?)`);
}

/** The file's text (UTF-8); errno errors (ENOENT, EISDIR, EACCES) are thrown as they are, for the caller to word. */
export function readBoundedFileSync(file: string, options: BoundedReadOptions = {}): string {
  const { limit = MAX_INPUT_FILE_BYTES, pipeWaitMs = PIPE_WAIT_MS } = options;
  // fd 0 itself: opening /dev/stdin fails (ENXIO) when stdin is a socket, as a spawned child's stdin is.
  const fd = file === STDIN ? 0 : openSync(file, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw tooLarge(file, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    let deadline = Date.now() + pipeWaitMs; // moved on by each chunk: a slow writer is not cut
    for (;;) {
      const buf = Buffer.allocUnsafe(st.isFile() ? Math.min(Math.max(st.size - total, 0) + 1, CHUNK) : CHUNK);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        if (!isAgain(err)) throw err;
        n = -1; // a writer, no data yet
      }
      // A pipe with no writer yet reads as EOF: wait for one, unless something was read already.
      if (n < 0 || (n === 0 && total === 0 && st.isFIFO() && fd !== 0)) {
        if (Date.now() >= deadline) throw nothingWritten(file, pipeWaitMs);
        sleepSync(POLL_MS);
        continue;
      }
      if (n === 0) break;
      deadline = Date.now() + pipeWaitMs;
      total += n;
      if (total > limit) throw tooLarge(file, limit);
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** As readBoundedFileSync, off the event loop (a server re-reading files, a FIFO that is slow to write). */
export async function readBoundedFile(file: string, options: BoundedReadOptions = {}): Promise<string> {
  const { limit = MAX_INPUT_FILE_BYTES, pipeWaitMs = PIPE_WAIT_MS } = options;
  if (file === STDIN) return readBoundedStream(process.stdin, file, limit);
  const fh = await open(file, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw tooLarge(file, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    let deadline = Date.now() + pipeWaitMs; // moved on by each chunk: a slow writer is not cut
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, 0, CHUNK, null));
      } catch (err) {
        if (!isAgain(err)) throw err;
        bytesRead = -1;
      }
      if (bytesRead < 0 || (bytesRead === 0 && total === 0 && st.isFIFO())) {
        if (Date.now() >= deadline) throw nothingWritten(file, pipeWaitMs);
        await sleep(POLL_MS);
        continue;
      }
      if (bytesRead === 0) break;
      deadline = Date.now() + pipeWaitMs;
      total += bytesRead;
      if (total > limit) throw tooLarge(file, limit);
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** A stream (process.stdin) read to its end, bounded the same way. */
export async function readBoundedStream(stream: AsyncIterable<unknown>, what: string, limit = MAX_INPUT_FILE_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    total += b.length;
    if (total > limit) throw tooLarge(what, limit);
    chunks.push(b);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
