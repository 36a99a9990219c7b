// The agent's node certificates on /metrics under the gauge serve uses for the control plane, so one alert
// rule (kubepki_certificate_expiration_timestamp_seconds - time() < 7d) covers both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent } from '../../src/agent/agent.js';
import { parsePair } from '../../src/agent/cert-store.js';
import { startCluster } from './cluster.js';

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
