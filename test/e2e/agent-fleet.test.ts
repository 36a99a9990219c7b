// A fleet of 200 node agents bootstrapping at once against one `kubepki serve` (issue 6): in-process agents,
// each with its own cert dir and kubeconfig, one bootstrap token, the real approver and signer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { NodeAgent } from '../../src/agent/agent.js';
import { parsePair } from '../../src/agent/cert-store.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { createBootstrapToken, pemPath, writeBootstrapKubeconfig } from '../agent/processes.js';

const FLEET = 200;

test(`${FLEET} agents bootstrap at once and each gets its own node certificate`, async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-fleet-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(t, [], { dataDir, port: await freePort() });
  const token = await createBootstrapToken(serve.kubeconfig);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile: path.join(dataDir, 'pki', 'ca.crt'), token });
  const agents = Array.from(
    { length: FLEET },
    (_, i) =>
      new NodeAgent({
        bootstrapKubeconfig: bootstrap,
        kubeconfig: path.join(dir, 'nodes', `node-${i}.conf`),
        certDir: path.join(dir, 'nodes', `node-${i}`),
        nodeName: `fleet-node-${i}`,
        caSyncIntervalMs: 0,
      }),
  );
  t.after(() => Promise.all(agents.map((a) => a.stop())).then(() => undefined));
  const started = Date.now();
  await Promise.all(agents.map((a) => a.start()));
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`${FLEET} agents bootstrapped in ${seconds.toFixed(1)} s`);
  const cns = new Set<string>();
  for (let i = 0; i < FLEET; i++) {
    const file = pemPath(path.join(dir, 'nodes', `node-${i}`));
    const pair = parsePair(await readFile(file, 'utf8'), file);
    assert.equal(pair.certificate.subject.commonName, `system:node:fleet-node-${i}`);
    cns.add(pair.certificate.subject.commonName!);
  }
  assert.equal(cns.size, FLEET);
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const r = await admin(['get', 'csr', '-o', 'jsonpath={range .items[*]}{.spec.username} {.status.conditions[0].type}{"\\n"}{end}']);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').filter(Boolean);
  assert.equal(rows.length, FLEET, 'one bootstrap CSR per node, no retries needed');
  assert.ok(rows.every((row) => row === `system:bootstrap:${token.split('.')[0]} Approved`));
});
