// A cluster for CA-rotation runs (the e2e test and `npm run bench:ca-rotation`): `kubepki serve` on a fresh
// data dir, three `kubepki agent` nodes following cluster-info every second, and continuous traffic from the
// clients the issue names — kubectl with admin.conf in a loop, a service-account token client (a pod's view:
// token and CA re-read from the cluster as the kubelet refreshes them), a front-proxy client (request
// headers over front-proxy-client.crt), and the agents' own requests (their failures are logged warnings).
// Every client request is counted; a failure is any error or HTTP status >= 400.
// With `replicas: 2`: two serve replicas on one real etcd (mutual TLS), each with its own data directory as
// two control-plane nodes have (the cluster CAs and service-account key copied, as `kubeadm join
// --control-plane` gets them; its own serving certificate with a name of its own), every client loop run
// against each replica, and the agents spread over them.
import https from 'node:https';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import path from 'node:path';
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { compactVerify } from 'jose';
import { openssl } from '../helpers/openssl.js';
import { startEtcd } from '../helpers/etcd.js';
import { initClusterPki } from '../../src/cluster/init.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { parseKubeconfig } from '../../src/cluster/kubeconfig.js';
import { freePort } from '../helpers/ports.js';
import { run } from '../helpers/cli.js';
import { startServe, type ServeProcess } from '../api/helpers.js';
import { createBootstrapToken, startAgentProcess, writeBootstrapKubeconfig, type AgentProcess } from '../agent/processes.js';

/** How often the service-account client re-reads its token and kube-root-ca.crt (a kubelet's projected volume). */
const SA_REFRESH_MS = 3000;
/**
 * `ca rotate --propagation-wait` for these clusters: longer than the service-account client's refresh plus one
 * kubectl call to re-read kube-root-ca.crt (so it holds old+new before the serving certificate changes) and
 * than the agents' --ca-sync-period (so they have rotated, or been seen on the old CA, before complete checks).
 */
export const PROPAGATION_WAIT = '8s';

export interface TrafficCounter {
  name: string;
  ok: number;
  failed: number;
  errors: string[];
}

export interface Replica {
  name: string;
  dataDir: string;
  serve: ServeProcess;
  /** The replica's own name in its serving certificate (besides 127.0.0.1 and localhost). */
  dnsName: string;
}

export interface RotationCluster {
  /** The first replica's. */
  dataDir: string;
  serve: ServeProcess;
  replicas: Replica[];
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

/** What a second control-plane node gets from the first (kubeadm's upload-certs set), then its own leaves. */
const SHARED_PKI = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.key', 'sa.pub', 'etcd/ca.crt', 'etcd/ca.key'];

export async function startRotationCluster(t: Ctx, dir: string, options: { agents?: number; replicas?: 1 | 2 } = {}): Promise<RotationCluster> {
  const count = options.replicas ?? 1;
  const nodes: { name: string; dataDir: string; port: number; dnsName: string }[] = [];
  for (let i = 0; i < count; i++) {
    const name = count === 1 ? 'serve' : `cp-${i + 1}`;
    nodes.push({ name, dataDir: path.join(dir, i === 0 ? 'data' : `data-${name}`), port: await freePort(), dnsName: `${name}.kubepki.test` });
  }
  for (const [i, n] of nodes.entries()) {
    if (i > 0) {
      await mkdir(path.join(n.dataDir, 'pki', 'etcd'), { recursive: true });
      for (const f of SHARED_PKI) await copyFile(path.join(nodes[0]!.dataDir, 'pki', f), path.join(n.dataDir, 'pki', f));
    }
    const config = resolveClusterConfig({ bindPort: n.port, advertiseAddress: '127.0.0.1', apiServerCertSANs: ['127.0.0.1', 'localhost', n.dnsName], encryptionAlgorithm: 'ECDSA-P256', nodeName: n.name });
    await initClusterPki({ certDir: path.join(n.dataDir, 'pki'), kubeconfigDir: n.dataDir, config });
  }
  const dataDir = nodes[0]!.dataDir;
  let storageFlags: string[] = [];
  if (count > 1) {
    const pki = (f: string) => path.join(dataDir, 'pki', f);
    const etcd = await startEtcd({
      dataDir: dir,
      tls: { server: () => ({ certFile: pki('etcd/server.crt'), keyFile: pki('etcd/server.key'), trustedCaFile: pki('etcd/ca.crt'), clientCertAuth: true }) },
    });
    t.after(() => etcd.stop());
    storageFlags = ['--storage', 'etcd', '--etcd-servers', etcd.clientUrls.join(','), '--etcd-cafile', pki('etcd/ca.crt')];
  }
  // Each replica talks to etcd with its own apiserver-etcd-client certificate; the first creates the cluster.
  const replicas: Replica[] = [];
  for (const n of nodes) {
    const etcdClient = count > 1 ? ['--etcd-certfile', path.join(n.dataDir, 'pki', 'apiserver-etcd-client.crt'), '--etcd-keyfile', path.join(n.dataDir, 'pki', 'apiserver-etcd-client.key')] : [];
    replicas.push({ name: n.name, dataDir: n.dataDir, dnsName: n.dnsName, serve: await startServe(t, [...storageFlags, ...etcdClient], { dataDir: n.dataDir, port: n.port, timeoutMs: 60_000 }) });
  }
  const serve = replicas[0]!.serve;
  const adminConf = path.join(dataDir, 'admin.conf');
  const kubectl = (args: string[]) => run('kubectl', ['--kubeconfig', adminConf, '--cache-dir', path.join(dir, 'kcache'), ...args], { timeoutMs: 30_000 });
  const token = await createBootstrapToken(adminConf);
  const agents: RotationCluster['agents'] = [];
  for (let i = 1; i <= (options.agents ?? 3); i++) {
    const name = `node-${i}`;
    // Agents spread over the replicas (node-1 on the last one).
    const via = replicas[(replicas.length - (i % replicas.length)) % replicas.length]!;
    const bootstrap = path.join(dir, `bootstrap-${via.name}.conf`);
    await writeBootstrapKubeconfig(bootstrap, { server: via.serve.url, caFile: path.join(via.dataDir, 'pki', 'ca.crt'), token });
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
  const counters: TrafficCounter[] = [];
  const counter = (name: string) => {
    const c = { name, ok: 0, failed: 0, errors: [] };
    counters.push(c);
    return c;
  };
  const suffix = (rep: Replica) => (replicas.length > 1 ? `@${rep.name}` : '');
  // A pod's token and CA, refreshed as the kubelet refreshes them (every SA_REFRESH_MS here).
  let sa = { token: '', ca: '', at: 0 };
  const saCredentials = async () => {
    if (Date.now() - sa.at > SA_REFRESH_MS) {
      const tok = await kubectl(['create', 'token', 'robot', '-n', 'default']);
      const ca = await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'default', '-o', 'jsonpath={.data.ca\\.crt}']);
      if (tok.code !== 0 || ca.code !== 0) throw new Error(`refresh: ${tok.stderr}${ca.stderr}`);
      sa = { token: tok.stdout.trim(), ca: ca.stdout, at: Date.now() };
    }
    return sa;
  };
  // The front proxy's client pair, re-read for each request as a proxy with dynamic certificate files does; a
  // pair read between the renames of a re-issue (new certificate, old key) is not taken: the last good one is
  // used, as kube's dynamiccertificates keeps the last good pair.
  const goodPairs = new Map<string, { cert: string; key: string }>();
  const proxyPair = async (pki: string) => {
    const [cert, key] = await Promise.all([readFile(path.join(pki, 'front-proxy-client.crt'), 'utf8'), readFile(path.join(pki, 'front-proxy-client.key'), 'utf8')]);
    if (new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) goodPairs.set(pki, { cert, key });
    const good = goodPairs.get(pki);
    if (!good) throw new Error(`${pki}: front-proxy-client.key does not belong to front-proxy-client.crt`);
    return good;
  };
  const loops: Promise<void>[] = [];
  for (const rep of replicas) {
    // Each replica's own admin.conf (its node's copy, rewritten by its own rotation steps) against it.
    const conf = path.join(rep.dataDir, 'admin.conf');
    const cache = path.join(dir, `kcache-${rep.name}`);
    const repCA = async () => parseKubeconfig(await readFile(conf, 'utf8'), conf).caPem!;
    loops.push(
      loop(counter(`kubectl-admin${suffix(rep)}`), stop, async () => {
        const k = await run('kubectl', ['--kubeconfig', conf, '--cache-dir', cache, 'get', 'namespaces', '-o', 'name'], { timeoutMs: 30_000 });
        if (k.code !== 0 || !k.stdout.includes('namespace/default')) throw new Error(`kubectl: ${k.stderr}`);
      }, 1000),
      loop(counter(`serviceaccount-token${suffix(rep)}`), stop, async () => {
        const c = await saCredentials();
        const status = await httpsGet(`${rep.serve.url}/api/v1/namespaces/default/serviceaccounts/robot`, { ca: c.ca, headers: { Authorization: `Bearer ${c.token}` } });
        // 403 would be RBAC (the robot may not read itself): authenticated is what is tested.
        if (status === 401 || status >= 500) throw new Error(`serviceaccount token: HTTP ${status}`);
      }, 50),
      loop(counter(`front-proxy${suffix(rep)}`), stop, async () => {
        const { cert, key } = await proxyPair(path.join(rep.dataDir, 'pki'));
        const status = await httpsGet(`${rep.serve.url}/api/v1/namespaces`, { ca: await repCA(), cert, key, headers: { 'X-Remote-User': 'proxied-admin', 'X-Remote-Group': 'system:masters' } });
        if (status !== 200) throw new Error(`front proxy: HTTP ${status}`);
      }, 50),
    );
  }
  return {
    dataDir,
    serve,
    replicas,
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

/**
 * Every certificate in use verifies against the new CA alone (on every replica: its leaves, its kubeconfigs
 * and the chain it serves); the old CA's client certificate gets 401 from every replica; cluster-info's JWS
 * verifies; the agents' kubeconfigs hold only the new CA.
 */
export async function assertOnlyNewCA(c: RotationCluster, dir: string, oldClient: { certFile: string; keyFile: string }): Promise<void> {
  const newCA = path.join(c.dataDir, 'pki', 'ca.crt');
  for (const rep of c.replicas) {
    const pki = path.join(rep.dataDir, 'pki');
    assert.equal(await readFile(path.join(pki, 'ca.crt'), 'utf8'), await readFile(newCA, 'utf8'), `${rep.name} signs with the same new CA`);
    await openssl(['verify', '-CAfile', newCA, 'apiserver.crt', 'apiserver-kubelet-client.crt'], pki);
    await openssl(['verify', '-CAfile', 'front-proxy-ca.crt', 'front-proxy-client.crt'], pki);
    assert.equal(((await readFile(path.join(pki, 'ca.crt'), 'utf8')).match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
    // kubelet.conf too: its embedded certificate is re-issued (no kubelet rotates it), else doctor finds it broken.
    for (const name of ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf']) {
      const kc = parseKubeconfig(await readFile(path.join(rep.dataDir, name), 'utf8'), name);
      const f = path.join(dir, `${rep.name}-${name}.crt`);
      await writeFile(f, kc.clientCertPem!);
      await openssl(['verify', '-CAfile', newCA, f], dir);
      assert.equal(kc.caPem, await readFile(newCA, 'utf8'), `${rep.name}'s ${name} trusts only the new CA`);
    }
    // The chain it serves, with the new CA alone as trust (openssl as the judge), for its own name.
    const served = await run('openssl', ['s_client', '-connect', new URL(rep.serve.url).host, '-servername', rep.dnsName, '-CAfile', newCA, '-verify_return_error', '-verify_hostname', rep.dnsName], { input: '', timeoutMs: 20_000 });
    assert.match(served.stdout, /Verify return code: 0 \(ok\)/, `${rep.name} serves a chain of the new CA for ${rep.dnsName}: ${served.stderr.slice(0, 500)}`);
    const curl = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', newCA, `${rep.serve.url}/version`]);
    assert.equal(curl.stdout, '200', curl.stderr);
    const old = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', newCA, '--cert', oldClient.certFile, '--key', oldClient.keyFile, `${rep.serve.url}/api`]);
    assert.equal(old.stdout, '401', `the old CA's client certificate is refused by ${rep.name}`);
  }
  for (const a of c.agents) {
    await openssl(['verify', '-purpose', 'sslclient', '-CAfile', newCA, path.join(a.certDir, 'kubelet-client-current.pem')], dir);
    const kc = parseKubeconfig(await readFile(a.kubeconfig, 'utf8'), a.kubeconfig);
    assert.equal((kc.caPem!.match(/BEGIN CERTIFICATE/g) ?? []).length, 1, `${a.name}'s kubeconfig holds one CA`);
    assert.equal(kc.caPem, await readFile(newCA, 'utf8'), `${a.name}'s kubeconfig holds the new CA`);
  }
  // cluster-info: the new CA only, and a JWS for the bootstrap token that verifies over the kubeconfig.
  const cm = JSON.parse((await run('kubectl', ['--kubeconfig', path.join(c.dataDir, 'admin.conf'), 'get', 'configmap', 'cluster-info', '-n', 'kube-public', '-o', 'json'])).stdout) as { data: Record<string, string> };
  const [id, secret] = c.token.split('.') as [string, string];
  const detached = cm.data[`jws-kubeconfig-${id}`]!;
  const [h, , s] = detached.split('.');
  await compactVerify(`${h}.${Buffer.from(cm.data['kubeconfig']!).toString('base64url')}.${s}`, new TextEncoder().encode(secret));
  const infoCA = /certificate-authority-data: (\S+)/.exec(cm.data['kubeconfig']!)![1]!;
  assert.equal(Buffer.from(infoCA, 'base64').toString(), await readFile(newCA, 'utf8'));
}

export function assertNoFailures(c: RotationCluster): void {
  for (const counter of c.counters) {
    assert.ok(counter.ok > 0, `${counter.name} made requests`);
    assert.equal(counter.failed, 0, `${counter.name}: ${counter.failed} failed: ${counter.errors.join(' | ')}`);
  }
  assert.deepEqual(c.agentWarnings(), [], 'the agents logged no failure');
}
