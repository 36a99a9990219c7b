// Helpers for the agent's end-to-end tests: a bootstrap token and bootstrap kubeconfig made with the real
// tools (kubepki token create, kubectl config), and `kubepki agent` run as a separate process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CLI_ENTRY, kubepki, run } from '../helpers/cli.js';

export async function createBootstrapToken(adminConf: string, extra: string[] = []): Promise<string> {
  const r = await kubepki(['token', 'create', '--kubeconfig', adminConf, ...extra]);
  assert.equal(r.code, 0, `kubepki token create failed: ${r.stderr}`);
  const token = r.stdout.trim().split('\n').at(-1)!.trim();
  assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  return token;
}

/** A bootstrap kubeconfig as seed 004 makes it: kubectl config set-cluster / set-credentials --token / set-context. */
export async function writeBootstrapKubeconfig(file: string, options: { server: string; caFile: string; token: string; embed?: boolean }): Promise<void> {
  for (const args of [
    ['config', 'set-cluster', 'kubernetes', `--server=${options.server}`, `--certificate-authority=${options.caFile}`, ...(options.embed === false ? [] : ['--embed-certs=true'])],
    ['config', 'set-credentials', 'kubelet-bootstrap', `--token=${options.token}`],
    ['config', 'set-context', 'default', '--cluster=kubernetes', '--user=kubelet-bootstrap'],
    ['config', 'use-context', 'default'],
  ]) {
    const r = await run('kubectl', [...args, `--kubeconfig=${file}`]);
    assert.equal(r.code, 0, r.stderr);
  }
}

export interface AgentProcess {
  child: ChildProcess;
  /** Everything the agent logged so far (JSON lines). */
  log(): string;
  /** Resolves when a log line matches. */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

export function startAgentProcess(t: { after: (fn: () => Promise<void>) => void }, args: string[], options: { cwd?: string } = {}): AgentProcess {
  const child = spawn(process.execPath, [CLI_ENTRY, 'agent', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBEPKI_LOG_LEVEL: 'info' },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    })());
  t.after(async () => {
    await stop();
  });
  return {
    child,
    log: () => out,
    exited,
    stop,
    waitForLog: async (re, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (child.exitCode !== null) throw new Error(`kubepki agent exited with ${child.exitCode} before logging ${re}: ${out}`);
        if (Date.now() > end) throw new Error(`kubepki agent did not log ${re} within ${timeoutMs} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

export const pemPath = (certDir: string, pair: 'kubelet-client' | 'kubelet-server' = 'kubelet-client') => path.join(certDir, `${pair}-current.pem`);
