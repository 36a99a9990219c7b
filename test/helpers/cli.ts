// Runs the kubepki CLI as a separate process, the way a user runs `npx kubepki`: the bundle bin/kubepki.js runs
// (dist/bundle/, from scripts/bundle.js). Paths are relative to this compiled file, so tests work from any build
// output directory. A bundle older than the compiled sources would test stale code: that is refused.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The repository (the directory holding dist/). */
export const REPO_ROOT = path.dirname(DIST);
export const CLI_ENTRY = path.join(DIST, 'bundle', 'entry.cjs');

function assertBundleFresh(): void {
  const src = path.join(DIST, 'src');
  let bundled: number;
  try {
    bundled = statSync(CLI_ENTRY).mtimeMs;
  } catch {
    throw new Error(`${CLI_ENTRY} is missing: run \`node scripts/bundle.js\` after tsc (\`npm run build\` does both)`);
  }
  for (const file of readdirSync(src, { recursive: true }) as string[]) {
    if (file.endsWith('.js') && statSync(path.join(src, file)).mtimeMs > bundled) {
      throw new Error(`dist/src/${file} is newer than the bundle: run \`node scripts/bundle.js\` after tsc (\`npm run build\` does both)`);
    }
  }
}
assertBundleFresh();

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion and captures its output (kubepki, openssl, kubectl, cfssljson...). */
export function run(cmd: string, args: string[], options: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
    // A child that exits before reading all its input (a size bound, an early error) is a result, not a test crash.
    child.stdin.on('error', () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export function kubepki(args: string[], options: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI_ENTRY, ...args], options);
}
