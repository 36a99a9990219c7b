import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AgentMetrics, startHealthServer } from '../../src/agent/health.js';
import { CertificateStore } from '../../src/agent/cert-store.js';
import { CertificateManager } from '../../src/agent/rotation.js';
import { FakeClock } from '../../src/util/clock.js';
import { tempDir } from '../helpers/tmp.js';
import { InProcessSigner } from '../agent/in-process-signer.js';
import { DAY, HOUR, makeCa } from '../helpers/pki.js';

const START = new Date('2026-06-01T00:00:00Z');

test('/healthz follows the health check and /metrics reports expiry, rotations and failures by reason', async (t) => {
  const dir = await tempDir(t);
  const clock = new FakeClock(START);
  const ca = await makeCa({ notBefore: new Date(START.getTime() - DAY) });
  const signer = new InProcessSigner(ca, clock, HOUR);
  let metrics: AgentMetrics | undefined;
  const manager = new CertificateManager({
    name: 'client',
    store: new CertificateStore({ certDir: path.join(dir, 'pki'), pairName: 'kubelet-client', clock }),
    signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    usages: ['digital signature', 'client auth'],
    usage: 'client auth',
    template: () => ({ subject: { commonName: 'system:node:n', organization: ['system:nodes'] } }),
    csrApi: signer.factory,
    clock,
    observer: { rotated: (i) => metrics!.rotated(i), failed: (i) => metrics!.failed(i) },
  });
  metrics = new AgentMetrics({ clock, managers: () => [manager] });
  await manager.init();
  const server = await startHealthServer({
    port: 0,
    registry: metrics.registry,
    health: () => (manager.current() ? { ok: true } : { ok: false, message: 'no valid client certificate' }),
  });
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  let r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 500);
  assert.match(await r.text(), /no valid client certificate/);
  signer.script({ kind: 'deny' });
  assert.equal(await manager.rotateOnce(), false);
  assert.equal(await manager.rotateOnce(), true);
  r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(await r.text(), 'ok');
  clock.advance(15 * 60_000);
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /kubepki_agent_certificate_expiration_seconds\{certificate="client"\} 2700\b/);
  assert.match(text, /kubepki_agent_certificate_rotations_total\{certificate="client"\} 1\b/);
  assert.match(text, /kubepki_agent_certificate_renewal_failures_total\{certificate="client",reason="denied"\} 1\b/);
  assert.equal((await fetch(`${base}/nope`)).status, 404);
  assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
});

test('the health server listens on loopback only', async () => {
  await assert.rejects(
    startHealthServer({ host: '0.0.0.0', port: 0, registry: new AgentMetrics({ managers: () => [] }).registry, health: () => ({ ok: true }) }),
    { code: 'InvalidArgument', message: /loopback/ },
  );
});
