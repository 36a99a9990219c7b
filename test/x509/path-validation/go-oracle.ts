// Go's own crypto/x509 verifier as a test oracle: test/fixtures/goverify built once per test run (offline,
// standard library only) and fed every case on stdin in one batch.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SOURCE = fileURLToPath(new URL('../../../../test/fixtures/goverify', import.meta.url));

export interface OracleCase {
  leaf: string;
  roots: string;
  intermediates: string;
  at: string;
  dnsName?: string;
  purpose?: 'server' | 'client' | 'any' | '';
}

export interface OracleResult {
  error?: string;
  chains?: string[][];
}

export interface GoOracle {
  verify(cases: OracleCase[]): Promise<OracleResult[]>;
  close(): Promise<void>;
}

export async function buildGoOracle(): Promise<GoOracle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-goverify-'));
  const env = { ...process.env, GOCACHE: path.join(dir, 'cache'), GOPATH: path.join(dir, 'gopath'), GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on', CGO_ENABLED: '0' };
  const bin = path.join(dir, 'goverify');
  await run('go', ['build', '-o', bin, '.'], { cwd: SOURCE, env });
  return {
    async verify(cases) {
      const child = execFile(bin, [], { maxBuffer: 64 * 1024 * 1024 });
      const out = new Promise<string>((resolve, reject) => {
        let text = '';
        let errText = '';
        child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`goverify exited ${code}: ${errText}`))));
      });
      child.stdin!.end(JSON.stringify(cases));
      return JSON.parse(await out) as OracleResult[];
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
