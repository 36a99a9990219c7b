// `kubepki dashboard` as a child process for the browser tests: started with the given arguments, stopped after
// the test, and the address it prints (the access link) read from its stderr.
import { startCli, type CliProcess } from './process.js';

export async function startDashboard(t: { after: (fn: () => Promise<void>) => void }, args: string[]): Promise<{ url: string; proc: CliProcess }> {
  const proc = startCli(['dashboard', ...args]);
  t.after(async () => {
    await proc.stop();
  });
  const url = (await proc.waitForStderr(/listening on (http:\/\/\S+)/, { timeoutMs: 30_000, what: 'kubepki dashboard' }))[1]!;
  return { url, proc };
}
