// The agent's node certificates on /metrics under the gauge serve uses for the control plane, so one alert
// rule (kubepki_certificate_expiration_timestamp_seconds - time() < 7d) covers both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent } from '../../src/agent/agent.js';
import { parsePair } from '../../src/agent/cert-store.js';
import { startCluster, until } from '../agent/cluster.js';
import { reportNodeExpiry } from '../../src/agent/expiry-events.js';
import { certificateKubeconfig } from '../../src/agent/kubeconfig.js';
import { systemClock } from '../../src/util/clock.js';
import { silentLogger } from '../../src/util/logger.js';

test("the agent exports its client certificate's not-after time, labelled by file and subject", async (t) => {
  const c = await startCluster(t);
  const agent = new NodeAgent({ kubeconfig: path.join(c.dir, 'kubelet.conf'), bootstrapKubeconfig: c.bootstrap, certDir: path.join(c.dir, 'pki'), nodeName: 'node-1', backoff: { initialMs: 50, capMs: 200 }, pollIntervalMs: 50, healthzPort: 0 });
  t.after(() => agent.stop());
  await agent.start();
  const pem = path.join(c.dir, 'pki', 'kubelet-client-current.pem');
  const pair = parsePair(await readFile(pem, 'utf8'), pem);
  const metrics = await (await fetch(`http://127.0.0.1:${agent.healthzPort}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith('kubepki_certificate_expiration_timestamp_seconds{'));
  assert.equal(line, `kubepki_certificate_expiration_timestamp_seconds{source="file:${pem}",subject="O=system:nodes, CN=system:node:node-1",serial="${pair.certificate.serialNumber}"} ${Math.floor(pair.certificate.notAfter.getTime() / 1000)}`);
});

test('a node certificate within 30 days of expiry: one CertificateExpirationWarning Event about the Node, not repeated', async (t) => {
  // The signer issues 20-day certificates: the bootstrap certificate is already past the 30-day threshold.
  const c = await startCluster(t, { serveArgs: ['--cluster-signing-duration', '480h'] });
  const pki = path.join(c.dir, 'pki');
  const agent = new NodeAgent({ kubeconfig: path.join(c.dir, 'kubelet.conf'), bootstrapKubeconfig: c.bootstrap, certDir: pki, nodeName: 'node-1', backoff: { initialMs: 50, capMs: 200 }, pollIntervalMs: 50 });
  t.after(() => agent.stop());
  await agent.start();
  const events = await until(async () => {
    const r = await c.admin('GET', '/api/v1/namespaces/default/events');
    const items = (r.json as { items: { metadata: { name: string }; reason: string; type: string; message: string; involvedObject: { kind: string; name: string } }[] }).items.filter((e) => e.reason === 'CertificateExpirationWarning');
    return items.length > 0 ? items : undefined;
  }, 'the expiration event');
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.match(e.metadata.name, /^node-1\.kubepki-certificate-expiration\.client\.[0-9a-f]+\.30d$/);
  assert.deepEqual([e.type, e.involvedObject.kind, e.involvedObject.name], ['Warning', 'Node', 'node-1']);
  assert.match(e.message, /the node's client certificate \(serial [0-9a-f]+\) expires \S+, in less than 30 days/);
  // A second check (as after a restart) finds the Event there and creates none.
  const again = await reportNodeExpiry({ kubeConfig: certificateKubeconfig({ server: c.url, caPem: await readFile(path.join(c.dataDir, 'pki', 'ca.crt'), 'utf8') }, path.join(pki, 'kubelet-client-current.pem')), nodeName: 'node-1', managers: [agent.clientManager!], clock: systemClock, logger: silentLogger });
  assert.equal(again, 0);
});
