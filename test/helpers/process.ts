// A long-running kubepki command (`serve`, ...) as a separate process, the way a user runs it: its stderr
// collected, a wait for the line that says it is ready, and a stop that asks (SIGTERM) before it forces.
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_ENTRY } from './cli.js';

export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stderr so far (the logs). */
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. Safe to call more than once. */
  stop(): Promise<number | null>;
  /**
   * Resolves with the match once stderr matches `re`; rejects if the process exits first, or stops it and
   * rejects after `timeoutMs`. `what` names the process in those errors.
   */
  waitForStderr(re: RegExp, options: { timeoutMs: number; what: string }): Promise<RegExpExecArray>;
}

export function startCli(args: string[], options: { nodeArgs?: string[]; logLevel?: string; env?: Record<string, string> } = {}): CliProcess {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_ENTRY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBEPKI_LOG_LEVEL: options.logLevel ?? 'warn', ...options.env },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    })());
  const waitForStderr = async (re: RegExp, o: { timeoutMs: number; what: string }): Promise<RegExpExecArray> => {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      const m = re.exec(err);
      if (m) return m;
      if (child.exitCode !== null) throw new Error(`${o.what} exited with ${child.exitCode}: ${err}`);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${o.what} did not start: ${err}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, stderr: () => err, exited, stop, waitForStderr };
}
