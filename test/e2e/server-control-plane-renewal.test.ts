// serve's control-plane renewal with an injected clock: nothing before 2/3 of the life, every leaf after
// (same subject, SANs and lifetime, signed by the CA on disk, verified by openssl), a warning with the time
// left and nothing written when the CA key is absent, and the loop waking at the due time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFile, rename } from 'node:fs/promises';
import { initClusterPki } from '../../src/cluster/init.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { CONTROL_PLANE_LEAVES, renewDueControlPlaneLeaves, renewalDue, startControlPlaneRenewal } from '../../src/server/control-plane-renewal.js';
import { FakeClock } from '../../src/util/clock.js';
import { parseCertificatePem, isSignedBy } from '../../src/x509/certificate.js';
import { openssl } from '../helpers/openssl.js';
import { tempDir } from '../helpers/tmp.js';
import {  } from '../agent/cluster.js';
import { until } from '../helpers/poll.js';

async function cluster(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t, 'kubepki-renewal-');
  const certDir = path.join(dir, 'pki');
  const config = resolveClusterConfig({ bindPort: 6443, advertiseAddress: '127.0.0.1', encryptionAlgorithm: 'ECDSA-P256' });
  await initClusterPki({ certDir, kubeconfigDir: dir, config });
  const apiserver = parseCertificatePem(await readFile(path.join(certDir, 'apiserver.crt'), 'utf8'));
  return { dir, certDir, apiserver };
}

test('control-plane renewal: nothing before 2/3 of the life; every leaf after, same names and lifetime, from the CA on disk', async (t) => {
  const { dir, certDir, apiserver } = await cluster(t);
  const due = renewalDue(apiserver, 2 / 3);
  const clock = new FakeClock(new Date(due.getTime() - 60_000));
  const before = await renewDueControlPlaneLeaves({ certDir, kubeconfigDir: dir, clock });
  assert.deepEqual(before.renewed, []);
  assert.ok(before.nextDue && before.nextDue.getTime() - due.getTime() < 5_000, 'the next pass is at the due time');

  clock.set(new Date(due.getTime() + 1000));
  const after = await renewDueControlPlaneLeaves({ certDir, kubeconfigDir: dir, clock });
  assert.deepEqual([...after.renewed].sort(), [...CONTROL_PLANE_LEAVES].sort());
  assert.deepEqual(after.warnings, []);
  const renewed = parseCertificatePem(await readFile(path.join(certDir, 'apiserver.crt'), 'utf8'));
  const ca = parseCertificatePem(await readFile(path.join(certDir, 'ca.crt'), 'utf8'));
  assert.notEqual(renewed.serialNumber, apiserver.serialNumber);
  assert.ok(isSignedBy(renewed, ca));
  assert.deepEqual(renewed.sans, apiserver.sans);
  assert.equal(renewed.notAfter.getTime() - renewed.notBefore.getTime(), apiserver.notAfter.getTime() - apiserver.notBefore.getTime());
  assert.ok(renewed.notBefore.getTime() <= clock.now().getTime());
  // The real openssl agrees (at the injected time).
  const at = String(Math.floor(clock.now().getTime() / 1000));
  await openssl(['verify', '-attime', at, '-CAfile', 'ca.crt', 'apiserver.crt'], certDir);
  // Nothing due again right after.
  const again = await renewDueControlPlaneLeaves({ certDir, kubeconfigDir: dir, clock });
  assert.deepEqual(again.renewed, []);
});

test('control-plane renewal: without the CA key it only warns, with the time left, and writes nothing', async (t) => {
  const { dir, certDir, apiserver } = await cluster(t);
  await rename(path.join(certDir, 'ca.key'), path.join(dir, 'ca.key.offline'));
  const clock = new FakeClock(new Date(apiserver.notAfter.getTime() - 3 * 86_400_000));
  const pass = await renewDueControlPlaneLeaves({ certDir, kubeconfigDir: dir, clock });
  assert.deepEqual(pass.renewed, ['front-proxy-client'], 'the front-proxy CA key is still there');
  const apiserverWarning = pass.warnings.find((w) => w.startsWith('apiserver '));
  assert.match(apiserverWarning ?? '', /apiserver is due for renewal \(3d left, expires .*\) but the ca key is not on disk \(external CA\)/);
  assert.equal(pass.warnings.length, 5);
  assert.equal(parseCertificatePem(await readFile(path.join(certDir, 'apiserver.crt'), 'utf8')).serialNumber, apiserver.serialNumber);
});

test('control-plane renewal loop: sleeps until the due time, renews, then calls onRenewed', async (t) => {
  const { dir, certDir, apiserver } = await cluster(t);
  const clock = new FakeClock(new Date(apiserver.notBefore.getTime() + 86_400_000));
  const calls: string[][] = [];
  const loop = startControlPlaneRenewal({ certDir, kubeconfigDir: dir, clock, maxSleepMs: 365 * 86_400_000, onRenewed: async (names) => void calls.push(names) });
  t.after(() => loop.stop());
  await until(() => clock.pendingSleeps === 1 || undefined, 'the loop sleeps');
  assert.equal(calls.length, 0);
  clock.set(new Date(renewalDue(apiserver, 2 / 3).getTime() + 1000));
  await until(() => calls.length === 1 || undefined, 'renewed after the due time', { timeoutMs: 20_000 });
  assert.ok(calls[0]!.includes('apiserver'));
});
