// A CA rotation to watch: serve, three agents and continuous traffic (kubectl with admin.conf, a
// service-account token client, a front-proxy client, the agents' own requests) while `kubepki ca rotate`
// runs prepare → switch → complete. Prints each phase's time, the rotate command's own lines, and the
// request counts and failures of every client.  npm run bench:ca-rotation [-- --agents N] [--replicas 2]
// With --replicas 2: two serve replicas on one etcd; the phases run through the first, then second, then first.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubepki } from '../test/helpers/cli.js';
import { PROPAGATION_WAIT, startRotationCluster } from '../test/e2e/ca-rotation-cluster.js';

async function main(): Promise<void> {
  const agentsArg = process.argv.indexOf('--agents');
  const agents = agentsArg > 0 ? Number(process.argv[agentsArg + 1]) : 3;
  const replicasArg = process.argv.indexOf('--replicas');
  const replicas = replicasArg > 0 && process.argv[replicasArg + 1] === '2' ? 2 : 1;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-bench-ca-rotation-'));
  const cleanups: (() => Promise<void>)[] = [];
  const t = { after: (fn: () => Promise<void>) => void cleanups.unshift(fn) };
  try {
    const t0 = Date.now();
    const c = await startRotationCluster(t, dir, { agents, replicas });
    process.stdout.write(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)}s: serve ${c.replicas.map((r) => r.serve.url).join(' and ')}, ${agents} agents, traffic running\n`);
    for (const [i, phase] of ['prepare', 'switch', 'complete'].entries()) {
      const p0 = Date.now();
      const via = c.replicas[i % c.replicas.length]!;
      const r = await kubepki(['ca', 'rotate', '--data-dir', via.dataDir, '--phase', phase, '--propagation-wait', PROPAGATION_WAIT], { timeoutMs: 300_000 });
      process.stdout.write(r.stderr.replace(/^/gm, '  '));
      if (r.code !== 0) throw new Error(`ca rotate --phase ${phase} failed`);
      const counts = c.counters.map((k) => `${k.name} ${k.ok} ok/${k.failed} failed`).join(', ');
      process.stdout.write(`${phase}${c.replicas.length > 1 ? ` (via ${via.name})` : ''}: ${((Date.now() - p0) / 1000).toFixed(1)}s; requests so far: ${counts}\n`);
    }
    await c.stopTraffic();
    const warnings = c.agentWarnings();
    process.stdout.write(`agents' failed requests (warnings): ${warnings.length}\n${warnings.join('\n')}\n`);
    const failed = c.counters.reduce((n, k) => n + k.failed, 0) + warnings.length;
    process.stdout.write(failed === 0 ? 'zero failed requests\n' : `${failed} FAILED requests: ${c.counters.flatMap((k) => k.errors).join(' | ')}\n`);
    process.exitCode = failed === 0 ? 0 : 1;
  } finally {
    for (const fn of cleanups) await fn().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
