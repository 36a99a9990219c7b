// Shared by the cluster tests: a fixed cluster description and a snapshot of a directory tree (content, mode and
// mtime of every file) to prove that a refused operation wrote nothing.
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { resolveClusterConfig, type ClusterConfig, type ClusterConfigInput } from '../../src/cluster/config.js';

export function testConfig(overrides: ClusterConfigInput = {}): ClusterConfig {
  return resolveClusterConfig(
    { nodeName: 'cp-1', advertiseAddress: '10.0.0.5', encryptionAlgorithm: 'ECDSA-P256', ...overrides },
    { host: { hostname: 'unused', addresses: ['127.0.0.1'] } },
  );
}

export interface FileState {
  sha256: string;
  mode: number;
  mtimeMs: number;
}

export async function snapshot(...dirs: string[]): Promise<Record<string, FileState>> {
  const out: Record<string, FileState> = {};
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fs.stat(p);
        out[p] = { sha256: createHash('sha256').update(await fs.readFile(p)).digest('hex'), mode: st.mode & 0o777, mtimeMs: st.mtimeMs };
      }
    }
  };
  for (const d of dirs) await walk(d);
  return out;
}
