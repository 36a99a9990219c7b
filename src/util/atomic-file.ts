// The one file writer: every write goes to a temp file in the same directory, is fsynced, then renamed over
// the target, so a reader never sees a half-written certificate or key and a failed write leaves the old
// file in place. Keys are created 0600 from the first byte (the mode is set at open, not after).
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubepkiError } from './errors.js';

export interface WriteFileOptions {
  /** File mode; 0o600 for private keys and kubeconfigs with credentials, 0o644 otherwise. */
  mode: number;
  /** Create missing parent directories (0755). */
  mkdirs?: boolean;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: WriteFileOptions): Promise<void> {
  const dir = path.dirname(file);
  if (options.mkdirs) await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, options.mode);
    await handle.writeFile(data);
    await handle.chmod(options.mode); // umask may have narrowed the open mode; make it exact
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, file);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new KubepkiError('FileWrite', `cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** A set of files written all-or-nothing: each is staged to a temp file first, then all are renamed. */
export interface StagedFile {
  path: string;
  data: string | Uint8Array;
  mode: number;
}

/**
 * Writes several files so that a failure while staging leaves the disk untouched. Renames are individually
 * atomic; staging all first means the only window is between renames, which cannot fail for lack of space.
 */
export async function writeFilesAtomic(files: StagedFile[]): Promise<void> {
  const staged: { tmp: string; target: string }[] = [];
  try {
    for (const f of files) {
      const dir = path.dirname(f.path);
      await fs.mkdir(dir, { recursive: true, mode: 0o755 });
      const tmp = path.join(dir, `.${path.basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      const h = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, f.mode);
      staged.push({ tmp, target: f.path });
      try {
        await h.writeFile(f.data);
        await h.chmod(f.mode);
        await h.sync();
      } finally {
        await h.close();
      }
    }
  } catch (err) {
    await Promise.all(staged.map((s) => fs.rm(s.tmp, { force: true }).catch(() => undefined)));
    throw new KubepkiError('FileWrite', `cannot write files: ${(err as Error).message}`, { cause: err });
  }
  for (const s of staged) await fs.rename(s.tmp, s.target);
}
