// The one way to read a file a user names (a PEM, a kubeconfig, a config, stdin): its size is bounded, so
// `/dev/zero`, `/dev/urandom`, a FIFO fed forever or a multi-GB file give one clear error instead of reading
// until memory runs out. Pipes and /dev/stdin still work: a stream is read until EOF or the bound.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { KubepkiError } from './errors.js';

/** Far above any PEM bundle, kubeconfig or config kubepki reads (the system CA bundle is ~200 KB). */
export const MAX_INPUT_FILE_BYTES = 8 * 1024 * 1024;

const CHUNK = 64 * 1024;
const STDIN = '/dev/stdin';

function tooLarge(file: string, limit: number): KubepkiError {
  return new KubepkiError('FileInvalid', `cannot read ${file}: larger than ${limit / (1024 * 1024)} MiB (not a certificate, key or config file?)`);
}

/** The file's text (UTF-8); errno errors (ENOENT, EISDIR, EACCES) are thrown as they are, for the caller to word. */
export function readBoundedFileSync(file: string, limit = MAX_INPUT_FILE_BYTES): string {
  // fd 0 itself: opening /dev/stdin fails (ENXIO) when stdin is a socket, as a spawned child's stdin is.
  const fd = file === STDIN ? 0 : openSync(file, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw tooLarge(file, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(st.isFile() ? Math.min(Math.max(st.size - total, 0) + 1, CHUNK) : CHUNK);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
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
export async function readBoundedFile(file: string, limit = MAX_INPUT_FILE_BYTES): Promise<string> {
  if (file === STDIN) return readBoundedStream(process.stdin, file, limit);
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, read '${file}'`), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw tooLarge(file, limit);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
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
