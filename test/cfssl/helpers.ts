// Shared by the cfssl tests: where the seed fixtures live, and the real cfssl tools used as judges.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../helpers/cli.js';

/** The repository root: the first parent of this (compiled) file holding package.json and test/fixtures. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test', 'fixtures')))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

/** The JSON files of seed 002, as the page shows them: etcd/ and kubernetes/. */
export const SEED002 = (): string => path.join(repoRoot(), 'test', 'fixtures', 'cfssl', 'seed002');

export const CFSSL = '/usr/bin/cfssl';
export const CFSSLJSON = '/usr/bin/cfssljson';

/** `... | cfssljson -bare NAME` in `cwd`. */
export function cfssljsonBare(json: string, name: string, cwd: string): Promise<RunResult> {
  return run(CFSSLJSON, ['-bare', name], { input: json, cwd });
}

export async function openssl(args: string[], cwd?: string): Promise<RunResult> {
  return run('openssl', args, cwd ? { cwd } : {});
}
