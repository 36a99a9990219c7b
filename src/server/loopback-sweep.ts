// Loopback-socket directories left behind by servers that died without closing (kill -9, a crash, a power
// cut): each server's directory is named `kubepki-loopback-<pid>-<random>`, so at start every such
// directory of ours whose process is gone is removed. A directory of a live process is never touched, nor
// one of another user. Directories of the older form `kubepki-loopback-<random>` carry no pid: they are
// removed only when their socket refuses connections (nobody listens) and they are older than a minute
// (a server that just made one may not listen yet).
import net from 'node:net';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processExists } from '../util/process-exists.js';

export const LOOPBACK_DIR_PREFIX = 'kubepki-loopback-';
const WITH_PID = /^kubepki-loopback-(\d+)-[A-Za-z0-9]{6}$/;
const LEGACY = /^kubepki-loopback-[A-Za-z0-9]{6}$/;
const LEGACY_MIN_AGE_MS = 60_000;

/** The prefix a server's own directory is made with (mkdtemp appends six characters). */
export function loopbackDirPrefix(pid: number = process.pid): string {
  return `${LOOPBACK_DIR_PREFIX}${pid}-`;
}

function socketRefuses(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Removes the stale directories under `tmp`; returns their paths. Errors on one directory skip it. */
export async function removeStaleLoopbackDirs(options: { tmp: string; now?: () => number; exists?: (pid: number) => boolean }): Promise<string[]> {
  const exists = options.exists ?? processExists;
  const now = options.now ?? Date.now;
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = (await readdir(options.tmp)).filter((n) => n.startsWith(LOOPBACK_DIR_PREFIX));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const dir = join(options.tmp, name);
    try {
      const st = await lstat(dir);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      const withPid = WITH_PID.exec(name);
      if (withPid) {
        const pid = Number(withPid[1]);
        if (pid === process.pid || exists(pid)) continue;
      } else if (!LEGACY.test(name) || now() - st.mtimeMs < LEGACY_MIN_AGE_MS || !(await socketRefuses(join(dir, 'apiserver.sock')))) {
        continue;
      }
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch {
      // Gone meanwhile, or not ours to read: leave it.
    }
  }
  return removed;
}
