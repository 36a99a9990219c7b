// Two `kubepki serve` replicas on one real etcd, each with its own data directory (two control-plane nodes),
// under continuous traffic against BOTH (kubectl with each node's admin.conf, service-account tokens,
// front-proxy requests, an agent on each): prepare through replica A — while a second `ca rotate` through
// replica B is refused by the rotation lock, naming its holder — switch through B, complete through A. Each
// replica follows the rotation through the shared storage and re-issues its own serving certificate for its
// own names. Zero failed requests on both; at the end each replica's certificates verify against the new CA
// alone and the old CA's client certificate gets 401 from each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kubepki, run } from '../helpers/cli.js';
import { startCli } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';
import { openssl, opensslLeaf } from '../helpers/openssl.js';
import { CLIENT_EXT } from '../api/helpers.js';
import { until } from '../helpers/poll.js';
import { readFile } from 'node:fs/promises';
import { assertNoFailures, assertOnlyNewCA, PROPAGATION_WAIT, startRotationCluster, type Replica } from './ca-rotation-cluster.js';

async function rotateVia(rep: Replica, args: string[]): Promise<string> {
  const r = await kubepki(['ca', 'rotate', '--data-dir', rep.dataDir, '--timeout', '120s', '--propagation-wait', PROPAGATION_WAIT, ...args], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, `ca rotate via ${rep.name} ${args.join(' ')}: ${r.stderr}`);
  if (process.env['KUBEPKI_TEST_DEBUG']) process.stderr.write(r.stderr);
  return r.stderr;
}

async function status(rep: Replica): Promise<{ phase: string; startedAt?: string; steps: { name: string; finishedAt?: string }[]; replicas: { url: string; applied?: string }[] }> {
  const r = await kubepki(['ca', 'rotate', 'status', '--data-dir', rep.dataDir, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as never;
}

const sans = (certFile: string) => openssl(['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName'], path.dirname(certFile));

test('ca rotate with two serve replicas on one etcd: a rotation through either reaches both, one run at a time, zero failed requests', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-ca-rotation-replicas-');
  const t0 = Date.now();
  const c = await startRotationCluster(t, dir, { replicas: 2, agents: 2 });
  t.after(() => c.stopTraffic());
  const startup = (Date.now() - t0) / 1000;
  const [a, b] = c.replicas as [Replica, Replica];
  const pkiA = path.join(a.dataDir, 'pki');
  // A client of the first CA: accepted by both now, refused by both after complete.
  const oldClient = await opensslLeaf(dir, 'old-client', { subject: '/CN=old-client', ext: CLIENT_EXT, ca: { cert: path.join(pkiA, 'ca.crt'), key: path.join(pkiA, 'ca.key') }, days: 5 });
  for (const rep of c.replicas) {
    const before = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', path.join(pkiA, 'ca.crt'), '--cert', oldClient.certFile, '--key', oldClient.keyFile, `${rep.serve.url}/api`]);
    assert.equal(before.stdout, '200', `${rep.name} accepts the old CA's client before the rotation`);
  }
  // Both replicas keep their lease, naming the URL they serve on.
  const leases = await run('kubectl', ['--kubeconfig', path.join(a.dataDir, 'admin.conf'), 'get', 'leases', '-n', 'kube-system', '-l', 'apiserver.kubernetes.io/identity=kubepki-apiserver', '-o', 'jsonpath={.items[*].metadata.annotations.kubepki\\.io/apiserver-url}']);
  assert.deepEqual(leases.stdout.split(' ').sort(), [a.serve.url, b.serve.url].sort(), leases.stderr);
  // A legacy service-account token Secret: its ca.crt follows the cluster CA bundle.
  const kubectlA = (args: string[], input?: string) => run('kubectl', ['--kubeconfig', path.join(a.dataDir, 'admin.conf'), ...args], { timeoutMs: 30_000, ...(input !== undefined ? { input } : {}) });
  const created = await kubectlA(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'robot-legacy', namespace: 'default', annotations: { 'kubernetes.io/service-account.name': 'robot' } } }));
  assert.equal(created.code, 0, created.stderr);
  const legacyCA = async () => {
    const r = await kubectlA(['get', 'secret', 'robot-legacy', '-n', 'default', '-o', 'jsonpath={.data.ca\\.crt}']);
    return Buffer.from(r.stdout, 'base64').toString();
  };
  await until(async () => (await legacyCA()) === (await readFile(path.join(pkiA, 'ca.crt'), 'utf8')), 'the legacy token Secret is filled with the first CA', { intervalMs: 200 });
  const ownSansBefore = await Promise.all(c.replicas.map((r) => sans(path.join(r.dataDir, 'pki', 'apiserver.crt'))));

  const durations: Record<string, number> = {};
  // prepare through A; meanwhile a second run through B is refused by the lock, naming A's run, and changes nothing.
  let t1 = Date.now();
  const first = startCli(['ca', 'rotate', '--data-dir', a.dataDir, '--timeout', '120s', '--phase', 'prepare']);
  await first.waitForStderr(/prepare\/generate: done/, { timeoutMs: 120_000, what: 'ca rotate via A' });
  const startedAt = (await status(b)).startedAt;
  const second = await kubepki(['ca', 'rotate', '--data-dir', b.dataDir, '--timeout', '120s', '--phase', 'prepare']);
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`another kubepki ca rotate is running: the lock kube-system/kubepki-ca-rotation is held by \\S+ pid ${first.child.pid} .*nothing was changed`));
  assert.doesNotMatch(second.stderr, /: done in/, 'the refused run did no step');
  assert.equal(await first.exited, 0, first.stderr());
  durations['prepare'] = (Date.now() - t1) / 1000;
  const afterPrepare = await status(b);
  assert.equal(afterPrepare.phase, 'switch');
  assert.equal(afterPrepare.startedAt, startedAt, 'the refused run started nothing');

  // switch through B, complete through A.
  t1 = Date.now();
  await rotateVia(b, ['--phase', 'switch']);
  durations['switch'] = (Date.now() - t1) / 1000;
  t1 = Date.now();
  await rotateVia(a, ['--phase', 'complete']);
  durations['complete'] = (Date.now() - t1) / 1000;
  const done = await status(a);
  assert.equal(done.phase, 'done');
  assert.deepEqual(done.replicas.map((r) => `${r.url} ${r.applied}`).sort(), [`${a.serve.url} verify`, `${b.serve.url} verify`].sort(), 'both replicas applied every step');

  await assertOnlyNewCA(c, dir, oldClient);
  const newCA = await readFile(path.join(pkiA, 'ca.crt'), 'utf8');
  await until(async () => (await legacyCA()) === newCA, 'the legacy token Secret\'s ca.crt holds the new CA alone', { timeoutMs: 60_000, intervalMs: 200 });
  // Each replica's serving certificate was re-issued for its own names (and not the other's).
  for (const [i, rep] of c.replicas.entries()) {
    const now = await sans(path.join(rep.dataDir, 'pki', 'apiserver.crt'));
    assert.equal(now, ownSansBefore[i], `${rep.name}'s serving certificate keeps its names`);
    assert.match(now, new RegExp(`DNS:${rep.dnsName.replace(/\./g, '\\.')}`));
    for (const other of c.replicas.filter((o) => o !== rep)) assert.doesNotMatch(now, new RegExp(other.dnsName.replace(/\./g, '\\.')));
  }
  await c.stopTraffic();
  assertNoFailures(c);
  process.stderr.write(
    `ca-rotation-replicas: startup=${startup.toFixed(1)}s phases ${Object.entries(durations).map(([k, v]) => `${k}=${v.toFixed(1)}s`).join(' ')}; ` +
      `requests: ${c.counters.map((k) => `${k.name}=${k.ok}`).join(' ')}; total ${((Date.now() - t0) / 1000).toFixed(1)}s\n`,
  );
});
