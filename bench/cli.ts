// Benchmark: the cold start of each kubepki command against `node -e 0`, with hyperfine, in one run. Goal: every
// command's median wall time <= 1.5x node's. The CLI is run as a user runs it: `node bin/kubepki.js` (the bundle).
// `token create|list` talk to a `kubepki serve` started here (SQLite, in a temporary data directory).
//
//   npm run bench:cli            (BENCH_RUNS=30 for more runs per command, BENCH_ROUND_RUNS=30 for one round)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/kubepki.js');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 20);
const ROUND_RUNS = Number(process.env['BENCH_ROUND_RUNS'] ?? 2);
const GOAL = 1.5;
const NODE = process.execPath;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** Runs kubepki to completion; throws with its stderr if it fails. */
function kubepki(args: string[], cwd: string): string {
  return execFileSync(NODE, [BIN, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts `kubepki serve` and waits until `token list` through its admin.conf succeeds. */
async function startServer(dir: string): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const dataDir = path.join(dir, 'srv');
  const child = spawn(NODE, [BIN, 'serve', '--data-dir', dataDir, '--secure-port', String(await freePort())], { stdio: 'ignore' });
  const kubeconfig = path.join(dataDir, 'admin.conf');
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kubepki serve exited ${child.exitCode}`);
    if (existsSync(kubeconfig)) {
      try {
        kubepki(['token', 'list', '--kubeconfig', kubeconfig], dir);
        return { child, kubeconfig };
      } catch {
        // not serving yet
      }
    }
    if (Date.now() > deadline) throw new Error('kubepki serve did not become ready in 120 s');
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface HyperfineResult {
  command: string;
  times: number[];
  user: number;
  system: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-cli-'));
  let server: ChildProcess | undefined;
  try {
    kubepki(['init', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, '--node-name', 'master-1', '--encryption-algorithm', 'ECDSA-P256'], dir);
    await writeFile(path.join(dir, 'csr.json'), JSON.stringify({ CN: 'bench-ca', key: { algo: 'ecdsa', size: 256 } }));
    const started = await startServer(dir);
    server = started.child;
    const cli = (args: string) => `${NODE} ${BIN} ${args}`;
    const commands: [string, string][] = [
      ['node -e 0', `${NODE} -e 0`],
      ['kubepki --version', cli('--version')],
      ['kubepki --help', cli('--help')],
      ['kubepki certs inspect FILE', cli(`certs inspect ${path.join(dir, 'pki', 'apiserver.crt')}`)],
      ['kubepki certs check-expiration', cli(`certs check-expiration --cert-dir ${path.join(dir, 'pki')} --kubeconfig-dir ${dir}`)],
      ['kubepki cfssl gencert -initca (ECDSA)', cli(`cfssl gencert -initca ${path.join(dir, 'csr.json')}`)],
      ['kubepki token create', cli(`token create --kubeconfig ${started.kubeconfig}`)],
      ['kubepki token list', cli(`token list --kubeconfig ${started.kubeconfig}`)],
    ];
    const out = path.join(dir, 'hyperfine.json');
    const load = os.loadavg()[0]!.toFixed(2);
    // -N: no shell in between. hyperfine runs one command's runs after another's, so on a shared machine a burst
    // of load lands on whichever command runs then: the runs are made in rounds of ROUND_RUNS runs of every
    // command (the anchor included), and each command's figures pool its runs of all rounds.
    const results: HyperfineResult[] = [];
    for (let done = 0; done < RUNS; done += ROUND_RUNS) {
      const args = ['-N', '--style', 'none', '--warmup', done === 0 ? '3' : '1', '--runs', String(Math.min(ROUND_RUNS, RUNS - done)), '--export-json', out];
      for (const [name, command] of commands) args.push('--command-name', name, command);
      execFileSync('hyperfine', args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
      const round = (JSON.parse(await readFile(out, 'utf8')) as { results: HyperfineResult[] }).results;
      round.forEach((r, i) => {
        const pooled = results[i];
        if (!pooled) results[i] = { ...r, times: [...r.times] };
        else {
          // user and system are means over a round's runs: weighted by the runs.
          const n = pooled.times.length;
          const m = r.times.length;
          pooled.user = (pooled.user * n + r.user * m) / (n + m);
          pooled.system = (pooled.system * n + r.system * m) / (n + m);
          pooled.times.push(...r.times);
        }
      });
    }
    const nodeMs = median(results[0]!.times) * 1000;
    const nodeCpu = (results[0]!.user + results[0]!.system) * 1000;
    console.log(`kubepki CLI cold start vs node -e 0 (hyperfine, ${RUNS} runs each in rounds of ${ROUND_RUNS}, ${os.cpus().length} CPUs, load ${load} at start, ${os.loadavg()[0]!.toFixed(2)} at end)`);
    console.log(`  ${'node -e 0 (anchor)'.padEnd(40)} median ${nodeMs.toFixed(1).padStart(7)} ms   cpu ${((results[0]!.user + results[0]!.system) * 1000).toFixed(1).padStart(6)} ms (mean)`);
    let met = true;
    for (const r of results.slice(1)) {
      const ms = median(r.times) * 1000;
      const ratio = ms / nodeMs;
      if (ratio > GOAL) met = false;
      // The wall ratio is the goal's figure; the CPU ratio says the same with less noise on a loaded machine.
      const cpuRatio = ((r.user + r.system) * 1000) / nodeCpu;
      console.log(
        `  ${r.command.padEnd(40)} median ${ms.toFixed(1).padStart(7)} ms   cpu ${((r.user + r.system) * 1000).toFixed(1).padStart(6)} ms (mean)   ratio ${ratio.toFixed(2)}x  ${ratio <= GOAL ? 'ok' : `> ${GOAL}x`}   cpu ratio ${cpuRatio.toFixed(2)}x`,
      );
    }
    console.log(`goal: every command <= ${GOAL}x node -e 0: ${met ? 'met' : 'NOT met'}`);
  } finally {
    server?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
