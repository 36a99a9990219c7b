import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { initClusterPki } from '../../src/cluster/init.js';
import { checkExpiration } from '../../src/cluster/expiration.js';
import { FakeClock } from '../../src/util/clock.js';
import { formatExpirationTable, shortHumanDuration, tabwrite } from '../../src/cli/certs.js';
import { tempDir } from '../helpers/tmp.js';
import { testConfig } from './fixtures.js';

const DAY = 86_400;

async function pki(t: Parameters<typeof tempDir>[0]) {
  const root = await tempDir(t);
  const certDir = path.join(root, 'pki');
  await initClusterPki({ certDir, kubeconfigDir: root, config: testConfig(), clock: new FakeClock(new Date('2026-01-01T00:00:00Z')) });
  return { certDir, kubeconfigDir: root };
}

test('check-expiration lists kubeadm\'s eleven certificates (kubeconfigs included) and three CAs, sorted, with residual time from the clock', async (t) => {
  const dirs = await pki(t);
  const info = await checkExpiration({ ...dirs, clock: new FakeClock(new Date('2026-07-01T00:00:00Z')) });
  assert.deepEqual(info.certificates.map((c) => c.name), [
    'admin.conf',
    'apiserver',
    'apiserver-etcd-client',
    'apiserver-kubelet-client',
    'controller-manager.conf',
    'etcd-healthcheck-client',
    'etcd-peer',
    'etcd-server',
    'front-proxy-client',
    'scheduler.conf',
    'super-admin.conf',
  ]);
  assert.deepEqual(info.certificateAuthorities.map((c) => c.name), ['ca', 'etcd-ca', 'front-proxy-ca']);
  const admin = info.certificates[0]!;
  assert.equal(admin.caName, 'ca');
  assert.equal(admin.expirationDate!.toISOString(), '2027-01-01T00:00:00.000Z');
  assert.equal(admin.residualTimeSeconds, (365 - 181) * DAY);
  assert.equal(info.certificates.find((c) => c.name === 'etcd-peer')!.caName, 'etcd-ca');
  assert.equal(info.certificates.find((c) => c.name === 'front-proxy-client')!.caName, 'front-proxy-ca');
  assert.ok(info.certificates.every((c) => !c.missing && !c.externallyManaged));
  assert.equal(info.certificateAuthorities[0]!.caName, undefined);
});

test('missing files are reported as missing, and a CA without its key makes its certificates externally managed', async (t) => {
  const dirs = await pki(t);
  await fs.rm(path.join(dirs.certDir, 'apiserver.crt'));
  await fs.rm(path.join(dirs.kubeconfigDir, 'super-admin.conf'));
  await fs.rm(path.join(dirs.certDir, 'front-proxy-ca.key'));
  const info = await checkExpiration(dirs);
  assert.deepEqual(info.certificates.filter((c) => c.missing).map((c) => c.name), ['apiserver', 'super-admin.conf']);
  assert.deepEqual(info.certificates.filter((c) => c.externallyManaged).map((c) => c.name), ['front-proxy-client']);
  assert.deepEqual(info.certificateAuthorities.filter((c) => c.externallyManaged).map((c) => c.name), ['front-proxy-ca']);
  const table = formatExpirationTable(info);
  assert.match(table, /^!MISSING! apiserver\s*$/m);
  assert.match(table, /^front-proxy-client\s+Jan 01, 2027 00:00 UTC\s+\S+\s+front-proxy-ca\s+yes\s*$/m);
});

test('a corrupt certificate or kubeconfig is an error naming the file', async (t) => {
  const dirs = await pki(t);
  await fs.writeFile(path.join(dirs.certDir, 'etcd', 'healthcheck-client.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n');
  await assert.rejects(checkExpiration(dirs), /etcd\/healthcheck-client\.crt: .*truncated/);
  const other = await pki(t);
  await fs.writeFile(path.join(other.kubeconfigDir, 'scheduler.conf'), 'apiVersion: v1\nkind: Config\nclusters: [\n');
  await assert.rejects(checkExpiration(other), /scheduler\.conf: not a valid kubeconfig/);
});

test('residual time prints as kubeadm\'s ShortHumanDuration', () => {
  assert.equal(shortHumanDuration(-5), '<invalid>');
  assert.equal(shortHumanDuration(-1), '0s');
  assert.equal(shortHumanDuration(59), '59s');
  assert.equal(shortHumanDuration(3599), '59m');
  assert.equal(shortHumanDuration(23 * 3600), '23h');
  assert.equal(shortHumanDuration(364 * DAY + 3600), '364d');
  assert.equal(shortHumanDuration(3651 * DAY), '10y');
});

test('the table is laid out like Go\'s tabwriter (minwidth 10, padding 3), blocks separated by a blank line', () => {
  const out = tabwrite(['A\tBB\tlast', 'CCCCCCCCCCCC\tD\tx', '', 'E\tF'], { minwidth: 10, padding: 3 });
  assert.equal(out, ['A' + ' '.repeat(14) + 'BB        last', 'CCCCCCCCCCCC   D         x', '', 'E         F', ''].join('\n'));
});
