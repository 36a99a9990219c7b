// `kubepki ca rotate [--phase prepare|switch|complete|all] [--dry-run]` and `kubepki ca rotate status`:
// the cluster CA rotation (src/cluster/ca-rotation/plan.ts, src/controllers/ca-rotation/steps.ts), run on a
// control-plane node with serve's --data-dir, talking to the API server with DIR/admin.conf. Parsing and
// printing only.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';

interface RotateFlags {
  dataDir?: string;
  kubeconfig?: string;
  phase: string;
  dryRun?: boolean;
  timeout: string;
  propagationWait: string;
}

interface StatusFlags {
  dataDir?: string;
  kubeconfig?: string;
  output?: string;
}

export function register(program: Command): void {
  const ca = program.command('ca').description('Cluster CA operations');
  const rotate = ca
    .command('rotate')
    .description('Rotate the cluster CA, the front-proxy CA and the service-account key with no restart and no failed request: prepare (trust old+new), switch (issue from the new), complete (drop the old)')
    .option('--data-dir <dir>', 'kubepki serve\'s data directory (the CA keys in DIR/pki)')
    .option('--kubeconfig <file>', 'admin kubeconfig (default DIR/admin.conf)')
    .option('--phase <phase>', 'prepare, switch, complete or all', 'all')
    .option('--dry-run', 'print the steps that would run and change nothing')
    .option('--timeout <duration>', 'how long a step waits for its effect (a reload, a publication)', '2m')
    .option('--propagation-wait <duration>', 'how long what the cluster publishes takes to reach its readers: switch serves the new CA that long after old+new was published (pods read kube-root-ca.crt through the kubelet, about 2m), complete checks for old-CA clients that long after the new signer was published (agents read it every --ca-sync-period, 5m)', '6m')
    .action(async (flags: RotateFlags) => {
      process.exitCode = await runRotate(flags);
    });
  rotate
    .command('status')
    .description('The rotation\'s phase, when each step ran, and who still authenticates with the old CA')
    .option('--data-dir <dir>', 'kubepki serve\'s data directory')
    .option('--kubeconfig <file>', 'admin kubeconfig (default DIR/admin.conf)')
    .option('-o, --output <format>', 'json')
    .action(async (flags: StatusFlags, cmd: Command) => {
      // --data-dir/--kubeconfig given after `status` are parsed by `rotate`, which has them too.
      const parent: Partial<RotateFlags> = cmd.parent?.opts<RotateFlags>() ?? {};
      process.exitCode = await runStatus({ ...(parent.dataDir ? { dataDir: parent.dataDir } : {}), ...(parent.kubeconfig ? { kubeconfig: parent.kubeconfig } : {}), ...flags });
    });
}

async function context(flags: { dataDir?: string; kubeconfig?: string }, timeoutMs?: number, propagationWaitMs?: number) {
  const path = await import('node:path');
  if (!flags.dataDir) throw new KubepkiError('InvalidArgument', '--data-dir is required: the data directory of kubepki serve (the CA keys are in DIR/pki)');
  const dataDir = path.resolve(flags.dataDir);
  const { checkDataDir } = await import('../controllers/ca-rotation/steps.js');
  await checkDataDir(dataDir);
  return {
    dataDir,
    kubeconfig: flags.kubeconfig ? path.resolve(flags.kubeconfig) : path.join(dataDir, 'admin.conf'),
    ...(timeoutMs !== undefined ? { waitTimeoutMs: timeoutMs } : {}),
    ...(propagationWaitMs !== undefined ? { propagationWaitMs } : {}),
    log: (line: string) => process.stderr.write(`kubepki ca rotate: ${line}\n`),
  };
}

async function runRotate(flags: RotateFlags): Promise<number> {
  const { PHASES } = await import('../cluster/ca-rotation/plan.js');
  const phase = flags.phase as (typeof PHASES)[number] | 'all';
  if (phase !== 'all' && !PHASES.includes(phase)) throw new KubepkiError('InvalidArgument', `--phase: "${flags.phase}" is not one of prepare, switch, complete, all`);
  const { parseGoDuration } = await import('../util/duration.js');
  const ctx = await context(flags, parseGoDuration(flags.timeout), parseGoDuration(flags.propagationWait));
  if (phase === 'prepare') {
    // The CA pairs a rotation starts from, checked before the cluster is asked anything (prepare leaves them
    // as they are; --phase all may resume a switch killed between ca.key and ca.crt, so it checks in generate).
    const [{ readBoundedFile }, { checkCurrentPki }] = await Promise.all([import('../util/bounded-file.js'), import('../cluster/ca-rotation/material.js')]);
    const read = (f: string) => readBoundedFile(`${ctx.dataDir}/pki/${f}`);
    checkCurrentPki({ ca: { certPem: await read('ca.crt'), keyPem: await read('ca.key') }, frontProxyCA: { certPem: await read('front-proxy-ca.crt'), keyPem: await read('front-proxy-ca.key') } }, new Date());
  }
  const { readState, runSteps } = await import('../controllers/ca-rotation/steps.js');
  // One run at a time in the cluster (lock.ts); what to do is decided under the lock.
  const lock = flags.dryRun ? undefined : await acquireLock(ctx);
  try {
    await rotateLocked({ ...ctx, ...(lock ? { assertLockHeld: () => lock.assertHeld() } : {}) }, phase, flags, { readState, runSteps });
  } finally {
    await lock?.release();
  }
  return 0;
}

async function acquireLock(ctx: { kubeconfig: string; log: (line: string) => void }) {
  const [{ acquireRotationLock }, { RestKubeClient }, { RESOURCES }] = await Promise.all([
    import('../controllers/ca-rotation/lock.js'),
    import('../client/rest.js'),
    import('../client/interface.js'),
  ]);
  const client = RestKubeClient.fromFile(ctx.kubeconfig, { userAgent: 'kubepki-ca-rotate' });
  return acquireRotationLock(client.resource(RESOURCES.leases), ctx.log);
}

type Steps = typeof import('../controllers/ca-rotation/steps.js');

async function rotateLocked(
  ctx: Parameters<Steps['runSteps']>[0],
  phase: Parameters<typeof import('../cluster/ca-rotation/plan.js').pendingSteps>[1],
  flags: RotateFlags,
  { readState, runSteps }: Pick<Steps, 'readState' | 'runSteps'>,
): Promise<void> {
  const { pendingSteps, describePlan, phaseOf } = await import('../cluster/ca-rotation/plan.js');
  const loaded = await readState(ctx);
  // A finished rotation is history: prepare (or all) starts a new one.
  const current = loaded && phaseOf(loaded.state) !== 'done' ? loaded.state : undefined;
  if (current && phase === 'prepare' && phaseOf(current) !== 'prepare') {
    throw new KubepkiError('Conflict', `a CA rotation is in progress (phase ${phaseOf(current)}, started ${current.startedAt}): continue it with --phase ${phaseOf(current)}, or see kubepki ca rotate status`);
  }
  if (!current && phase !== 'all' && phase !== 'prepare') throw new KubepkiError('InvalidArgument', `no CA rotation in progress: start one with --phase prepare (or all), not --phase ${phase}`);
  const steps = pendingSteps(current, phase);
  if (flags.dryRun) {
    process.stdout.write(describePlan(current, phase));
    return;
  }
  if (steps.length === 0) {
    process.stderr.write(`kubepki ca rotate: phase ${phase} is already finished\n`);
    return;
  }
  const t0 = Date.now();
  await runSteps(ctx, steps);
  process.stderr.write(`kubepki ca rotate: ${phase === 'all' ? 'rotation' : `phase ${phase}`} finished in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
}

async function runStatus(flags: StatusFlags): Promise<number> {
  if (flags.output !== undefined && flags.output !== 'json') throw new KubepkiError('InvalidArgument', `-o: "${flags.output}" is not supported (json)`);
  const ctx = await context(flags);
  const [{ STEPS, phaseOf }, { readState, usersOnOldCA, liveReplicas }, { parseCertificatesPem }] = await Promise.all([
    import('../cluster/ca-rotation/plan.js'),
    import('../controllers/ca-rotation/steps.js'),
    import('../x509/certificate.js'),
  ]);
  const loaded = await readState(ctx);
  const phase = phaseOf(loaded?.state);
  let onOldCA: { user: string; lastSeen: string }[] = [];
  if (loaded && loaded.state.steps['reissue'] && !loaded.state.completedAt) {
    const oldId = parseCertificatesPem(loaded.material.oldCA)[0]!.subjectKeyId ?? '';
    const since = Date.parse(loaded.state.steps['reissue'].finishedAt);
    onOldCA = (await usersOnOldCA(ctx, oldId, since)).map((u) => ({ user: u.user, lastSeen: u.lastSeen.toISOString() }));
  }
  const status = {
    phase,
    ...(loaded ? { startedAt: loaded.state.startedAt, ...(loaded.state.completedAt ? { completedAt: loaded.state.completedAt } : {}) } : {}),
    steps: STEPS.map((s) => ({ phase: s.phase, name: s.name, ...(loaded?.state.steps[s.name] ? { finishedAt: loaded.state.steps[s.name]!.finishedAt } : {}) })),
    onOldCA,
    // The API server replicas following the rotation (their leases) and the last step each applied.
    replicas: (await liveReplicas(ctx)).map((r) => ({ name: r.name, url: r.url, ...(r.applied && r.applied.startedAt === loaded?.state.startedAt ? { applied: r.applied.step } : {}) })),
  };
  if (flags.output === 'json') {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return 0;
  }
  // The phase of the next step to run: said so, else "PHASE: complete" after switch reads as a finished rotation.
  const when = loaded ? `started ${loaded.state.startedAt}${loaded.state.completedAt ? `, completed ${loaded.state.completedAt}` : ''}` : '';
  const header = phase === 'none' ? 'PHASE: none (no rotation in progress)' : phase === 'done' ? `PHASE: done (${when})` : `PHASE: ${phase} (next to run; ${when})`;
  const lines = [header, ''];
  lines.push('STEP                      FINISHED');
  for (const s of status.steps) lines.push(`${`${s.phase}/${s.name}`.padEnd(26)}${s.finishedAt ?? '-'}`);
  if (status.replicas.length > 0) {
    lines.push('', 'API SERVER REPLICAS (last step applied):');
    for (const r of status.replicas) lines.push(`  ${r.url} ${r.applied ?? '-'}`);
  }
  if (onOldCA.length > 0) {
    lines.push('', 'STILL ON THE OLD CA (client certificates seen since the switch):');
    for (const u of onOldCA) lines.push(`  ${u.user} (last seen ${u.lastSeen})`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
