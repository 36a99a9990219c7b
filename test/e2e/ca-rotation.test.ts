// `kubepki ca rotate` against a running cluster (serve, three agents) under continuous traffic: prepare →
// switch → complete one phase at a time, then a second rotation with `--phase all` killed (SIGKILL) in the
// middle of each phase and run again. Zero failed requests from every client; at the end everything verifies
// against the new CA alone (openssl), the old CA's client certificate gets 401, cluster-info's JWS verifies
// (jose as the judge) and the agents' kubeconfigs hold only the new CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { kubepki, run } from '../helpers/cli.js';
import { startCli } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';
import { opensslLeaf } from '../helpers/openssl.js';
import { CLIENT_EXT } from '../api/helpers.js';
import { assertNoFailures, assertOnlyNewCA, PROPAGATION_WAIT, startRotationCluster, type RotationCluster } from './ca-rotation-cluster.js';
import { parseGoDuration } from '../../src/util/duration.js';


async function rotate(c: RotationCluster, args: string[]): Promise<string> {
  const r = await kubepki(['ca', 'rotate', '--data-dir', c.dataDir, '--timeout', '180s', '--propagation-wait', PROPAGATION_WAIT, ...args], { timeoutMs: 400_000 });
  assert.equal(r.code, 0, `ca rotate ${args.join(' ')}: ${r.stderr}`);
  if (process.env['KUBEPKI_TEST_DEBUG']) process.stderr.write(`${new Date().toISOString()} ca rotate ${args.join(' ')}:\n${r.stderr}`);
  return r.stderr;
}

/** Starts `ca rotate --phase all`, SIGKILLs it once `re` is printed, and returns what it printed. */
async function rotateKilledAfter(c: RotationCluster, re: RegExp): Promise<string> {
  const p = startCli(['ca', 'rotate', '--data-dir', c.dataDir, '--timeout', '180s', '--propagation-wait', PROPAGATION_WAIT, '--phase', 'all']);
  await p.waitForStderr(re, { timeoutMs: 400_000, what: 'ca rotate' });
  p.child.kill('SIGKILL');
  await p.exited;
  if (process.env['KUBEPKI_TEST_DEBUG']) process.stderr.write(`${new Date().toISOString()} killed:\n${p.stderr()}`);
  return p.stderr();
}

async function status(c: RotationCluster): Promise<{ phase: string; steps: { name: string; finishedAt?: string }[]; onOldCA: { user: string }[] }> {
  const r = await kubepki(['ca', 'rotate', 'status', '--data-dir', c.dataDir, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

test('ca rotate: prepare → switch → complete, then a run killed in every phase, with zero failed requests', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ca-rotation-');
  const c = await startRotationCluster(t, dir);
  t.after(() => c.stopTraffic());
  t.after(() => {
    if (!process.env['KUBEPKI_TEST_DEBUG']) return;
    process.stderr.write(c.serve.stderr().split('\n').filter((l) => /CA rotation|rotation/.test(l)).map((l) => l.slice(0, 300)).join('\n') + '\n');
    for (const a of c.agents) process.stderr.write(a.process.log().split('\n').filter((l) => /rotat|signs|CA|warn|error/i.test(l)).map((l) => `${a.name} ${l.slice(0, 250)}`).join('\n') + '\n');
  });
  const pki = path.join(c.dataDir, 'pki');
  // A client of the first CA, used once before the rotation: it must get 401 after complete.
  const oldClient = await opensslLeaf(dir, 'old-client', { subject: '/CN=old-client', ext: CLIENT_EXT, ca: { cert: path.join(pki, 'ca.crt'), key: path.join(pki, 'ca.key') }, days: 5 });
  const before = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(pki, 'ca.crt'), '--cert', oldClient.certFile, '--key', oldClient.keyFile, `${c.serve.url}/api`]);
  assert.equal(before.stdout, '200');

  const durations: Record<string, number> = {};
  const timed = async (name: string, fn: () => Promise<unknown>) => {
    const t0 = Date.now();
    await fn();
    durations[name] = (Date.now() - t0) / 1000;
    if (process.env['KUBEPKI_TEST_DEBUG']) process.stderr.write(`${new Date().toISOString()} ${name}: ${durations[name]}s\n`);
  };
  const dry = await kubepki(['ca', 'rotate', '--data-dir', c.dataDir, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^1\. \[prepare\] generate: /m);
  assert.equal((await readdir(pki)).filter((f) => f.includes('rotation')).length, 0, 'a dry run writes nothing');

  await timed('prepare', () => rotate(c, ['--phase', 'prepare']));
  assert.equal((await status(c)).phase, 'switch');
  const text = await kubepki(['ca', 'rotate', 'status', '--data-dir', c.dataDir]);
  assert.match(text.stdout, /^PHASE: switch \(next to run; started \S+\)\n/, 'the text names the phase to run next as such');
  const again = await kubepki(['ca', 'rotate', '--data-dir', c.dataDir, '--phase', 'complete']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cannot run --phase complete: phase switch is not finished/);
  await timed('switch', () => rotate(c, ['--phase', 'switch']));
  await timed('complete', () => rotate(c, ['--phase', 'complete']));
  const done = await status(c);
  assert.equal(done.phase, 'done');
  assert.ok(done.steps.every((s) => s.finishedAt));
  // --propagation-wait: the new CA was not served before old+new had been published for that long.
  const finished = (name: string) => Date.parse(done.steps.find((s) => s.name === name)!.finishedAt!);
  assert.ok(finished('signing-ca') - finished('publish') >= parseGoDuration(PROPAGATION_WAIT), 'switch waited --propagation-wait after publish');
  assert.ok(finished('drain-check') - finished('reissue') >= parseGoDuration(PROPAGATION_WAIT), 'complete waited --propagation-wait after the new signer was published');
  await assertOnlyNewCA(c, dir, oldClient);
  assertNoFailures(c);
  const firstCounts = c.counters.map((k) => `${k.name}=${k.ok}`).join(' ');

  // Second rotation: --phase all, SIGKILLed inside each phase, then run again until it finishes.
  const oldClient2 = await opensslLeaf(dir, 'old-client-2', { subject: '/CN=old-client-2', ext: CLIENT_EXT, ca: { cert: path.join(pki, 'ca.crt'), key: path.join(pki, 'ca.key') }, days: 5 });
  await timed('killed-run', async () => {
    await rotateKilledAfter(c, /prepare\/trust-files: done/);
    assert.equal((await status(c)).phase, 'prepare');
    await rotateKilledAfter(c, /switch\/signing-ca: done/);
    assert.equal((await status(c)).phase, 'switch');
    await rotateKilledAfter(c, /complete\/drain-check: done/);
    await rotate(c, ['--phase', 'all']);
  });
  assert.equal((await status(c)).phase, 'done');
  await assertOnlyNewCA(c, dir, oldClient2);
  await c.stopTraffic();
  assertNoFailures(c);
  const backups = (await readdir(pki)).filter((f) => f.startsWith('ca-rotation-backup-'));
  assert.equal(backups.length, 2, 'each old CA key kept in a dated backup');
  process.stderr.write(
    `ca-rotation: phases ${Object.entries(durations).map(([k, v]) => `${k}=${v.toFixed(1)}s`).join(' ')}; ` +
      `requests after rotation 1: ${firstCounts}; total: ${c.counters.map((k) => `${k.name}=${k.ok}`).join(' ')}\n`,
  );
});
