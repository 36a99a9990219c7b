// The one way to read a file a user names (a PEM, a kubeconfig, a config, stdin): its size is bounded, so
// `/dev/zero`, `/dev/urandom`, a FIFO fed forever or a multi-GB file give one clear error instead of reading
// until memory runs out. Pipes and /dev/stdin still work: a stream is read until EOF or the bound.
//
// A named pipe no one writes to is bounded in time too. openssl and kubectl open it and wait for a writer
// for ever (`openssl x509 -in fifo` hangs); an operator who typed the wrong path gets nothing to see. Here a
// path is opened non-blocking, and a pipe that has given nothing within PIPE_WAIT_MS is an error that says
// so. A writer that is there, or comes within the wait (`<(cat cert.pem)`, `mkfifo p; cat x > p &`), is read
// to EOF as before. Stdin (fd 0) still blocks, as every Unix tool's does.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
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

/**
 * What both readers do with an opened file and each read from it: the size bound, a named pipe's wait for its
 * writer, the chunks read. The readers themselves only open, read, sleep and close.
 */
class BoundedRead {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  private deadline: number; // moved on by each chunk: a slow writer is not cut

  constructor(
    private readonly file: string,
    private readonly st: Stats,
    private readonly options: { limit: number; pipeWaitMs: number; waitsForWriter: boolean },
  ) {
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (st.isFile() && st.size > options.limit) throw tooLarge(file, options.limit);
    this.deadline = Date.now() + options.pipeWaitMs;
  }

  /** A buffer for the next read: a regular file's remaining size and one byte (to see its end), else a chunk. */
  buffer(): Buffer {
    return Buffer.allocUnsafe(this.st.isFile() ? Math.min(Math.max(this.st.size - this.total, 0) + 1, CHUNK) : CHUNK);
  }

  /**
   * Takes what a read gave (`n` bytes of `buf`; -1 for EAGAIN, a writer with no data yet): 'wait' to poll again
   * shortly, 'more' to read on, 'end' at the end of the file. Throws past the size bound or the pipe's wait.
   */
  take(buf: Buffer, n: number): 'wait' | 'more' | 'end' {
    // A pipe with no writer yet reads as EOF: wait for one, unless something was read already.
    if (n < 0 || (n === 0 && this.total === 0 && this.options.waitsForWriter)) {
      if (Date.now() >= this.deadline) throw nothingWritten(this.file, this.options.pipeWaitMs);
      return 'wait';
    }
    if (n === 0) return 'end';
    this.deadline = Date.now() + this.options.pipeWaitMs;
    this.total += n;
    if (this.total > this.options.limit) throw tooLarge(this.file, this.options.limit);
    this.chunks.push(n === buf.length ? buf : buf.subarray(0, n));
    return 'more';
  }

  text(): string {
    return Buffer.concat(this.chunks, this.total).toString('utf8');
  }
}

/** A read's byte count, or -1 when a non-blocking read found no data yet (EAGAIN). */
function againAsMinusOne(err: unknown): number {
  if (!isAgain(err)) throw err;
  return -1;
}

/** The file's text (UTF-8); errno errors (ENOENT, EISDIR, EACCES) are thrown as they are, for the caller to word. */
export function readBoundedFileSync(file: string, options: BoundedReadOptions = {}): string {
  const { limit = MAX_INPUT_FILE_BYTES, pipeWaitMs = PIPE_WAIT_MS } = options;
  // fd 0 itself: opening /dev/stdin fails (ENXIO) when stdin is a socket, as a spawned child's stdin is.
  const fd = file === STDIN ? 0 : openSync(file, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    const read = new BoundedRead(file, st, { limit, pipeWaitMs, waitsForWriter: st.isFIFO() && fd !== 0 });
    for (;;) {
      const buf = read.buffer();
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        n = againAsMinusOne(err);
      }
      const next = read.take(buf, n);
      if (next === 'end') return read.text();
      if (next === 'wait') sleepSync(POLL_MS);
    }
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
    const read = new BoundedRead(file, st, { limit, pipeWaitMs, waitsForWriter: st.isFIFO() });
    for (;;) {
      const buf = read.buffer();
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, null));
      } catch (err) {
        n = againAsMinusOne(err);
      }
      const next = read.take(buf, n);
      if (next === 'end') return read.text();
      if (next === 'wait') await sleep(POLL_MS);
    }
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
