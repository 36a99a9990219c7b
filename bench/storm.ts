// Benchmark: the bootstrap storm. N simulated nodes, each with its own key, create a kubelet client CSR with
// a bootstrap token against `kubepki serve` (controllers in-process, as shipped) and wait — on a watch —
// until it is issued. Prints, per CA algorithm and storage backend, the time until all N are issued, the
// server's CPU per certificate, create→issued latency percentiles, and the machine's own crypto limit as
// `openssl speed` measures it in the same run, with the ratio.
// Goals (issue 15): 5,000 nodes with an RSA-2048 CA in <= 5 s on SQLite and in <= 8 s on etcd (a real
// kube-controller-manager, throttled by its default client rate limits of 20 qps / burst 30, needs minutes for
// the three writes per CSR).
//
//   npm run bench:storm                                  (N = 1000,5000; RSA-2048,ECDSA-P256; sqlite,etcd)
//   npm run bench:storm -- --nodes 1000 --ca RSA-2048 --storage sqlite --connections 64
//   npm run bench:storm -- --nodes 5000 --ca RSA-2048 --storage sqlite --reps 5    (medians of 5 runs, with the range)
//   npm run bench:storm -- --nodes 5000 --ca RSA-2048 --storage sqlite --breakdown  (server CPU by bucket; needs perf)
//   npm run bench:storm -- --nodes 5000 --ca RSA-2048 --storage sqlite --warmup 5000  (a warm server: V8 has compiled)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCertificateRequest, generateKeyPair } from '../src/x509/index.js';
import { freePort } from '../test/helpers/ports.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { kubepki } from '../test/helpers/cli.js';
import { startCli, type CliProcess } from '../test/helpers/process.js';
import { onLines } from '../test/helpers/json-lines.js';
import { startPerf } from './storm-breakdown.js';
import { processCpuUs } from './process-cpu.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const NODES = arg('nodes', process.env['BENCH_NODES'] ?? '1000,5000').split(',').map(Number);
const CAS = arg('ca', 'RSA-2048,ECDSA-P256').split(',');
const STORAGES = arg('storage', existsSync('/usr/bin/etcd') ? 'sqlite,etcd' : 'sqlite').split(',');
const CONNECTIONS = Number(arg('connections', '64'));
const TIMEOUT_MS = Number(arg('timeout', '180000'));
const REPS = Math.max(1, Number(arg('reps', '1')));
// --breakdown: the server's CPU per certificate by bucket (TLS, JSON, storage, signing, watch fan-out...),
// from `perf record` on the serve process (bench/storm-breakdown.ts); serve runs with --perf-basic-prof.
const BREAKDOWN = process.argv.includes('--breakdown');
// --warmup N: before the measured storm, N other nodes bootstrap against the same serve (not measured), so the
// figures are those of a server whose code V8 has already compiled, as a long-running API server's is.
const WARMUP = Number(arg('warmup', '0'));

function opensslSpeed(): { rsa2048: number; ecdsaP256: number } {
  const r = spawnSyncText('openssl', ['speed', '-seconds', '2', '-mr', 'rsa2048', 'ecdsap256']);
  // OpenSSL 3: "+F2:<i>:2048:<sign/s>:<verify/s>" (RSA), "+F4:<i>:256:<sign/s>:<verify/s>" (ECDSA).
  const rate = (tag: string, bits: string) => {
    const m = new RegExp(`^\\+${tag}:\\d+:${bits}:([0-9.]+):`, 'm').exec(r);
    if (!m) return NaN;
    const v = Number(m[1]);
    return v < 1 ? 1 / v : v; // older OpenSSL prints seconds per operation
  };
  return { rsa2048: rate('F2', '2048'), ecdsaP256: rate('F4', '256') };
}

function spawnSyncText(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

/** utime + stime of a process, in ms. */
function processCpuMs(pid: number): number {
  return processCpuUs([pid]) / 1000;
}

async function startServe(dataDir: string, port: number, storageArgs: string[]): Promise<CliProcess & { url: string }> {
  // BENCH_SERVE_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the server.
  const nodeArgs = (process.env['BENCH_SERVE_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  if (BREAKDOWN) nodeArgs.push('--perf-basic-prof', '--interpreted-frames-native-stack');
  const serve = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(port), ...storageArgs], { nodeArgs });
  const url = (await serve.waitForStderr(/listening on (https:\/\/\S+)/, { timeoutMs: 30_000, what: 'serve' }))[1]!;
  // Let the in-process controllers take their Lease and sync their informers: the storm hits a running cluster.
  await new Promise((r) => setTimeout(r, 1500));
  return { ...serve, url };
}

/** N node requests (ECDSA P-256 keys, as kubelets make), made once and reused by every run. */
async function nodeRequests(n: number): Promise<string[]> {
  const out: string[] = [];
  const batch = 64;
  for (let i = 0; i < n; i += batch) {
    const made = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async (_, j) => {
        const keyPair = await generateKeyPair('ECDSA-P256');
        const req = await createCertificateRequest({ subject: { commonName: `system:node:storm-${i + j}`, organization: ['system:nodes'] }, keyPair });
        return Buffer.from(req.pem).toString('base64');
      }),
    );
    out.push(...made);
  }
  return out;
}

function request(agent: https.Agent, base: string, token: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(p, base),
      {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface Result {
  nodes: number;
  ca: string;
  storage: string;
  seconds: number;
  serverCpuMsPerCert: number;
  clientCpuMsPerCert: number;
  p50: number;
  p99: number;
  /** --breakdown: perf samples (1 ms of CPU each) per bucket. */
  breakdown?: Map<string, number>;
}

async function storm(requests: string[], ca: string, storage: string): Promise<Result> {
  const n = requests.length;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-storm-'));
  const port = await freePort();
  let etcd: Awaited<ReturnType<typeof startEtcd>> | undefined;
  let serve: (CliProcess & { url: string }) | undefined;
  const agent = new https.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  try {
    const dataDir = path.join(dir, 'data');
    const init = await kubepki(['init', '--cert-dir', path.join(dataDir, 'pki'), '--kubeconfig-dir', dataDir, '--encryption-algorithm', ca, '--apiserver-advertise-address', '127.0.0.1', '--apiserver-bind-port', String(port)]);
    if (init.code !== 0) throw new Error(`init: ${init.stderr}`);
    let storageArgs: string[] = [];
    if (storage === 'etcd') {
      etcd = await startEtcd({ dataDir: path.join(dir, 'etcd') });
      storageArgs = ['--storage', 'etcd', '--etcd-servers', etcd.clientUrls.join(',')];
    }
    serve = await startServe(dataDir, port, storageArgs);
    const tok = await kubepki(['token', 'create', '--kubeconfig', path.join(dataDir, 'admin.conf')]);
    if (tok.code !== 0) throw new Error(`token: ${tok.stderr}`);
    const token = tok.stdout.trim();
    (agent.options as https.AgentOptions).ca = await readFile(path.join(dataDir, 'pki', 'ca.crt'));
    const base = serve.url;
    const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

    // One watch observes every node's CSR (a kubelet watches its own; one stream keeps the client side light).
    const list = await request(agent, base, token, 'GET', csrPath);
    if (list.status !== 200) throw new Error(`list: ${list.status} ${JSON.stringify(list.json)}`);
    const rv = (list.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const createdAt = new Map<string, number>();
    const warmPending = new Set<string>();
    let warmDone!: () => void;
    const warmedUp = new Promise<void>((r) => (warmDone = r));
    const latencies: number[] = [];
    let issued = 0;
    let done!: () => void;
    const allIssued = new Promise<void>((r) => (done = r));
    const watchAgent = new https.Agent({ keepAlive: false, ca: (agent.options as https.AgentOptions).ca });
    const watchReq = https.request(new URL(`${csrPath}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`, base), {
      agent: watchAgent,
      headers: { authorization: `Bearer ${token}` },
    });
    watchReq.on('response', (res) => {
      onLines(res, (line) => {
        if (!line.includes('"certificate"')) return;
        const e = JSON.parse(line) as { object: { metadata: { name: string }; status?: { certificate?: string } } };
        const name = e.object.metadata.name;
        if (e.object.status?.certificate && warmPending.delete(name)) {
          if (warmPending.size === 0) warmDone();
          return;
        }
        if (e.object.status?.certificate && createdAt.has(name)) {
          latencies.push(performance.now() - createdAt.get(name)!);
          createdAt.delete(name);
          if (++issued === n) done();
        }
      });
    });
    watchReq.on('error', () => undefined);
    watchReq.end();
    await new Promise((r) => setTimeout(r, 300));
    const createCsr = async (name: string, b64: string) => {
      const r = await request(agent, base, token, 'POST', csrPath, {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { name },
        spec: { request: b64, signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
      });
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
    };
    if (WARMUP > 0) {
      for (let i = 0; i < WARMUP; i++) warmPending.add(`warm-${i}`);
      await Promise.all(Array.from({ length: WARMUP }, (_, i) => createCsr(`warm-${i}`, requests[i % n]!)));
      await warmedUp;
      await new Promise((r) => setTimeout(r, 1000));
    }

    const perf = BREAKDOWN ? startPerf(serve.child.pid!, path.join(dir, 'perf.data')) : undefined;
    if (perf) await new Promise((r) => setTimeout(r, 500));
    const serverCpu0 = processCpuMs(serve.child.pid!);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const creates = requests.map(async (b64, i) => {
      const name = `storm-${i}`;
      createdAt.set(name, performance.now());
      await createCsr(name, b64);
    });
    await Promise.all(creates);
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`only ${issued}/${n} issued after ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref());
    await Promise.race([allIssued, timeout]);
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = processCpuMs(serve.child.pid!) - serverCpu0;
    const c = process.cpuUsage(clientCpu0);
    const breakdown = perf ? await perf.stop() : undefined;
    watchReq.destroy();
    watchAgent.destroy();
    latencies.sort((a, b) => a - b);
    return {
      nodes: n,
      ca,
      storage,
      seconds,
      serverCpuMsPerCert: serverCpu / n,
      clientCpuMsPerCert: (c.user + c.system) / 1000 / n,
      p50: latencies[Math.floor(n * 0.5)] ?? NaN,
      p99: latencies[Math.floor(n * 0.99)] ?? NaN,
      ...(breakdown ? { breakdown } : {}),
    };
  } finally {
    agent.destroy();
    await serve?.stop();
    await etcd?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The median run's server CPU per certificate by bucket (scaled to the /proc figure: perf misses a few). */
function printBreakdown(r: Result): void {
  const total = [...r.breakdown!.values()].reduce((a, b) => a + b, 0);
  const scale = (r.serverCpuMsPerCert * r.nodes) / total;
  console.log(`  server CPU per certificate by bucket (${r.nodes} nodes, ${r.ca}, ${r.storage}; perf, ${total} samples of 1 ms):`);
  for (const [k, v] of [...r.breakdown!].sort((a, b) => b[1] - a[1])) {
    console.log(`    ${k.padEnd(52)} ${((v * scale) / r.nodes).toFixed(3)} ms  ${((100 * v) / total).toFixed(1)}%`);
  }
}

/** The run with the median time (of an even count, the slower middle one); its CPU figures go with it. */
function medianRun(runs: Result[]): Result {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(`bootstrap storm: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, ${CONNECTIONS} client connections`);
  const speed = opensslSpeed();
  console.log(`openssl speed (one core): RSA-2048 ${speed.rsa2048.toFixed(0)} sign/s, ECDSA-P256 ${speed.ecdsaP256.toFixed(0)} sign/s`);
  const maxN = Math.max(...NODES);
  const t = performance.now();
  const all = await nodeRequests(maxN);
  console.log(`prepared ${maxN} node keys and CSRs in ${((performance.now() - t) / 1000).toFixed(1)} s (not measured)`);
  console.log('');
  if (WARMUP > 0) console.log(`each storm follows a warm-up storm of ${WARMUP} other nodes on the same serve (not measured)`);
  console.log('nodes  CA          storage  all issued  certs/s  server CPU/cert  client CPU/cert  p50 create→issued  p99      vs openssl (one core)');
  const results: Result[] = [];
  for (const storage of STORAGES) {
    for (const ca of CAS) {
      for (const n of NODES) {
        const runs: Result[] = [];
        for (let i = 0; i < REPS; i++) runs.push(await storm(all.slice(0, n), ca, storage));
        const r = medianRun(runs);
        results.push(r);
        if (r.breakdown) printBreakdown(r);
        const rate = n / r.seconds;
        const limit = ca.startsWith('RSA') ? speed.rsa2048 : speed.ecdsaP256;
        console.log(
          `${String(n).padEnd(6)} ${ca.padEnd(11)} ${storage.padEnd(8)} ${`${r.seconds.toFixed(2)} s`.padEnd(11)} ${rate.toFixed(0).padEnd(8)} ${`${r.serverCpuMsPerCert.toFixed(2)} ms`.padEnd(16)} ${`${r.clientCpuMsPerCert.toFixed(2)} ms`.padEnd(16)} ${`${r.p50.toFixed(0)} ms`.padEnd(18)} ${`${r.p99.toFixed(0)} ms`.padEnd(8)} ${((rate / limit) * 100).toFixed(1)}% of ${limit.toFixed(0)} sign/s${REPS > 1 ? `  (median of ${REPS}: ${runs.map((x) => x.seconds.toFixed(2)).join(', ')} s; server CPU/cert ${runs.map((x) => x.serverCpuMsPerCert.toFixed(2)).join(', ')} ms; load ${os.loadavg()[0]!.toFixed(1)})` : ''}`,
        );
      }
    }
  }
  console.log('');
  for (const [storage, limit] of [['sqlite', 5], ['etcd', 8]] as const) {
    const goal = results.find((r) => r.nodes === 5000 && r.ca === 'RSA-2048' && r.storage === storage);
    if (goal) console.log(`goal: 5000 nodes, RSA-2048 CA, ${storage} in <= ${limit} s: ${goal.seconds.toFixed(2)} s${REPS > 1 ? ` (median of ${REPS})` : ''} — ${goal.seconds <= limit ? 'met' : 'NOT met'}`);
  }
  console.log('anchor: kube-controller-manager\'s client defaults to 20 qps (burst 30); approving (SubjectAccessReview + approval) and signing');
  console.log('        take three requests per CSR, so 5000 CSRs need >= 750 s of its request budget alone.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
