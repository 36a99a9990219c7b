// A cluster for CA-rotation runs (the e2e test and `npm run bench:ca-rotation`): `kubepki serve` on a fresh
// data dir, three `kubepki agent` nodes following cluster-info every second, and continuous traffic from the
// clients the issue names — kubectl with admin.conf in a loop, a service-account token client (a pod's view:
// token and CA re-read from the cluster as the kubelet refreshes them), a front-proxy client (request
// headers over front-proxy-client.crt), and the agents' own requests (their failures are logged warnings).
// Every client request is counted; a failure is any error or HTTP status >= 400.
import https from 'node:https';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { initClusterPki } from '../../src/cluster/init.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { parseKubeconfig } from '../../src/cluster/kubeconfig.js';
import { freePort } from '../helpers/ports.js';
import { run } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../api/helpers.js';
import { createBootstrapToken, startAgentProcess, writeBootstrapKubeconfig, type AgentProcess } from '../agent/processes.js';

export interface TrafficCounter {
  name: string;
  ok: number;
  failed: number;
  errors: string[];
}

export interface RotationCluster {
  dataDir: string;
  serve: ServeProcess;
  agents: { name: string; kubeconfig: string; certDir: string; process: AgentProcess }[];
  token: string;
  counters: TrafficCounter[];
  /** Stops the traffic loops (the processes stop with the test). */
  stopTraffic(): Promise<void>;
  /** Agent log lines at warn level or above (an agent's failed request). */
  agentWarnings(): string[];
}

type Ctx = { after: (fn: () => Promise<void>) => void };

async function httpsGet(url: string, o: { ca: string; cert?: string; key?: string; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca: o.ca, ...(o.cert ? { cert: o.cert, key: o.key } : {}), headers: o.headers ?? {}, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

function loop(counter: TrafficCounter, stop: { stopped: boolean }, once: () => Promise<void>, pauseMs: number): Promise<void> {
  return (async () => {
    while (!stop.stopped) {
      try {
        await once();
        counter.ok++;
      } catch (err) {
        counter.failed++;
        if (counter.errors.length < 10) counter.errors.push((err as Error).message.slice(0, 300));
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
}

export async function startRotationCluster(t: Ctx, dir: string, options: { agents?: number } = {}): Promise<RotationCluster> {
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const config = resolveClusterConfig({ bindPort: port, advertiseAddress: '127.0.0.1', apiServerCertSANs: ['127.0.0.1', 'localhost'], encryptionAlgorithm: 'ECDSA-P256' });
  await initClusterPki({ certDir: path.join(dataDir, 'pki'), kubeconfigDir: dataDir, config });
  const serve = await startServe(t, [], { dataDir, port });
  const adminConf = path.join(dataDir, 'admin.conf');
  const kubectl = (args: string[]) => run('kubectl', ['--kubeconfig', adminConf, '--cache-dir', path.join(dir, 'kcache'), ...args], { timeoutMs: 30_000 });
  const token = await createBootstrapToken(adminConf);
  const bootstrap = path.join(dir, 'bootstrap.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile: path.join(dataDir, 'pki', 'ca.crt'), token });
  const agents: RotationCluster['agents'] = [];
  for (let i = 1; i <= (options.agents ?? 3); i++) {
    const name = `node-${i}`;
    const certDir = path.join(dir, name, 'pki');
    const kubeconfig = path.join(dir, name, 'kubelet.conf');
    const process = startAgentProcess(t, [
      '--bootstrap-kubeconfig', bootstrap, '--kubeconfig', kubeconfig, '--cert-dir', certDir, '--node-name', name,
      '--rotate-certificates', '--ca-sync-period', '1s', '--healthz-port', String(await freePort()),
    ]);
    agents.push({ name, kubeconfig, certDir, process });
  }
  for (const a of agents) await a.process.waitForLog(/the node has a usable client certificate/, 180_000);
  const r = await kubectl(['create', 'serviceaccount', 'robot', '-n', 'default']);
  if (r.code !== 0) throw new Error(r.stderr);

  const stop = { stopped: false };
  const counters: TrafficCounter[] = ['kubectl-admin', 'serviceaccount-token', 'front-proxy'].map((name) => ({ name, ok: 0, failed: 0, errors: [] }));
  const adminCA = async () => (await parseKubeconfig(await readFile(adminConf, 'utf8'), adminConf)).caPem!;
  // A pod's token and CA, refreshed as the kubelet refreshes them (every 3 s here).
  let sa = { token: '', ca: '', at: 0 };
  const saCredentials = async () => {
    if (Date.now() - sa.at > 3000) {
      const tok = await kubectl(['create', 'token', 'robot', '-n', 'default']);
      const ca = await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'default', '-o', 'jsonpath={.data.ca\\.crt}']);
      if (tok.code !== 0 || ca.code !== 0) throw new Error(`refresh: ${tok.stderr}${ca.stderr}`);
      sa = { token: tok.stdout.trim(), ca: ca.stdout, at: Date.now() };
    }
    return sa;
  };
  const loops = [
    loop(counters[0]!, stop, async () => {
      const k = await kubectl(['get', 'namespaces', '-o', 'name']);
      if (k.code !== 0 || !k.stdout.includes('namespace/default')) throw new Error(`kubectl: ${k.stderr}`);
    }, 1000),
    loop(counters[1]!, stop, async () => {
      const c = await saCredentials();
      const status = await httpsGet(`${serve.url}/api/v1/namespaces/default/serviceaccounts/robot`, { ca: c.ca, headers: { Authorization: `Bearer ${c.token}` } });
      // 403 would be RBAC (the robot may not read itself): authenticated is what is tested.
      if (status === 401 || status >= 500) throw new Error(`serviceaccount token: HTTP ${status}`);
    }, 50),
    loop(counters[2]!, stop, async () => {
      const pki = path.join(dataDir, 'pki');
      const [cert, key] = await Promise.all([readFile(path.join(pki, 'front-proxy-client.crt'), 'utf8'), readFile(path.join(pki, 'front-proxy-client.key'), 'utf8')]);
      const status = await httpsGet(`${serve.url}/api/v1/namespaces`, { ca: await adminCA(), cert, key, headers: { 'X-Remote-User': 'proxied-admin', 'X-Remote-Group': 'system:masters' } });
      if (status !== 200) throw new Error(`front proxy: HTTP ${status}`);
    }, 50),
  ];
  return {
    dataDir,
    serve,
    agents,
    token,
    counters,
    async stopTraffic() {
      stop.stopped = true;
      await Promise.all(loops);
    },
    agentWarnings: () =>
      agents.flatMap((a) =>
        a.process
          .log()
          .split('\n')
          .filter((l) => /"level":(4|5|6)\d/.test(l))
          .map((l) => `${a.name}: ${l.slice(0, 300)}`),
      ),
  };
}
