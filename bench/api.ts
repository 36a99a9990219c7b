// API server benchmark: 64 concurrent HTTPS clients with mutual TLS and keep-alive create, get and approve
// CSRs against `serve` running in its own process (SQLite, then etcd when /usr/bin/etcd exists and
// BENCH_ETCD != 0); then watch delivery latency with 5,000 open watches, each filtered to one CSR by
// metadata.name. Goals (2-core machine): ≥ 3,000 CSR creates/s on SQLite; p99 watch delivery < 50 ms.
//   node dist/bench/api.js [creates=20000] [watchers=5000]     (BENCH_SQLITE=0 / BENCH_ETCD=0 skip a backend)
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { httpsRequest } from './https-request.js';
import { processCpuUs } from './process-cpu.js';

const N = Number(process.argv[2] ?? 20_000);
const WATCHERS = Number(process.argv[3] ?? 5_000);
const CONCURRENCY = 64;
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

// ---- server mode (child process) ---------------------------------------------------------------------------

async function serverMode(config: { backend: 'sqlite' | 'etcd'; dir: string; etcd?: string[] }): Promise<void> {
  const { ApiServer } = await import('../src/server/server.js');
  const { x509Authenticator } = await import('../src/auth/authn/x509.js');
  const { unionAuthenticator } = await import('../src/auth/authn/union.js');
  const { alwaysAllowMasters } = await import('../src/auth/authz/minimal.js');
  const { parseCertificatesPem } = await import('../src/x509/certificate.js');
  const pki = (f: string) => readFileSync(path.join(config.dir, 'pki', f), 'utf8');
  let storage;
  if (config.backend === 'etcd') {
    const { EtcdStorage } = await import('../src/storage/etcd.js');
    storage = new EtcdStorage({ endpoints: config.etcd! });
  } else {
    const { SqliteStorage } = await import('../src/storage/sqlite.js');
    storage = new SqliteStorage({ path: path.join(config.dir, `bench-${Date.now()}.db`) });
  }
  const server = new ApiServer({
    storage,
    tls: { cert: pki('apiserver.crt'), key: pki('apiserver.key'), clientCA: pki('ca.crt') },
    authenticator: unionAuthenticator({ authenticators: [x509Authenticator({ roots: parseCertificatesPem(pki('ca.crt')) })], anonymous: false }),
    authorizer: alwaysAllowMasters,
    port: 0,
  });
  const { port } = await server.start();
  process.send!({ port });
  // The parent asks for this process's CPU time around each phase (server CPU per request).
  process.on('message', () => process.send!({ cpu: process.cpuUsage() }));
  process.on('SIGTERM', () => {
    void server
      .close()
      .then(() => storage.close())
      .then(() => process.exit(0));
  });
}

// ---- client side ---------------------------------------------------------------------------------------------

interface Client {
  agent: https.Agent;
  base: string;
  pool?: ConnectionPool;
}

/**
 * A lean HTTP/1.1 client over keep-alive mutual-TLS sockets (one request in flight per socket): the load
 * generator shares the machine with the server, so it should spend as little CPU as it can.
 */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: { status: number; body: string }) => void; reject: (e: Error) => void } | undefined;
  constructor(private readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.pending?.reject(e));
    socket.on('close', () => this.pending?.reject(new Error('connection closed')));
  }
  static open(port: number, agent: https.Agent): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: agent.options.ca, cert: agent.options.cert, key: agent.options.key }, () => resolve(new Connection(s)));
      s.once('error', reject);
    });
  }
  request(head: string, body: string | undefined): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body === undefined ? head : head + body);
    });
  }
  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buf.subarray(0, end).toString('latin1');
    const m = /\r\ncontent-length: *(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (this.buf.length < end + 4 + len) return;
    const body = this.buf.subarray(end + 4, end + 4 + len).toString('utf8');
    this.buf = this.buf.subarray(end + 4 + len);
    const p = this.pending!;
    this.pending = undefined;
    p.resolve({ status: Number(head.slice(9, 12)), body });
  }
  close(): void {
    this.socket.destroy();
  }
}

class ConnectionPool {
  private free: Connection[] = [];
  private waiting: ((c: Connection) => void)[] = [];
  constructor(readonly all: Connection[]) {
    this.free = [...all];
  }
  static async open(port: number, agent: https.Agent, n: number): Promise<ConnectionPool> {
    return new ConnectionPool(await Promise.all(Array.from({ length: n }, () => Connection.open(port, agent))));
  }
  async request(method: string, p: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
    const c = this.free.pop() ?? (await new Promise<Connection>((r) => this.waiting.push(r)));
    const head =
      `${method} ${p} HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n` +
      (body === undefined ? '\r\n' : `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    try {
      return await c.request(head, body);
    } finally {
      const w = this.waiting.shift();
      if (w) w(c);
      else this.free.push(c);
    }
  }
  close(): void {
    for (const c of this.all) c.close();
  }
}

function request(c: Client, method: string, p: string, body?: string, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return c.pool ? c.pool.request(method, p, body, contentType) : httpsRequest(c, method, p, body, contentType);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

interface Row {
  backend: string;
  op: string;
  n: number;
  perSec: number;
  p50: number;
  p99: number;
  /** Server CPU (user+system) per request, µs. */
  cpuUs?: number;
  /** etcd's CPU per request, µs (the etcd backend). */
  etcdUs?: number;
  /** This load generator's CPU per request, µs. */
  clientUs?: number;
}

let serverCpu: () => Promise<number> = async () => 0;
/** etcd's CPU time in µs (user + system of its processes, from /proc), or undefined without etcd. */
let etcdCpu: () => number | undefined = () => undefined;


function cpuProbe(child: ChildProcess): () => Promise<number> {
  return () =>
    new Promise((resolve) => {
      const onMessage = (m: { cpu?: { user: number; system: number } }) => {
        if (!m.cpu) return;
        child.off('message', onMessage);
        resolve(m.cpu.user + m.cpu.system);
      };
      child.on('message', onMessage);
      child.send('cpu');
    });
}

async function phase(backend: string, op: string, n: number, fn: (i: number) => Promise<void>): Promise<Row> {
  const lat = new Array<number>(n);
  let next = 0;
  const cpu0 = await serverCpu();
  const etcd0 = etcdCpu();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await fn(i);
        lat[i] = performance.now() - s;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  const etcd1 = etcdCpu();
  const cpu = (await serverCpu()) - cpu0;
  lat.sort((a, b) => a - b);
  const row: Row = { backend, op, n, perSec: n / secs, p50: pct(lat, 50), p99: pct(lat, 99), cpuUs: cpu / n, clientUs: (client.user + client.system) / n };
  if (etcd0 !== undefined && etcd1 !== undefined) row.etcdUs = (etcd1 - etcd0) / n;
  return row;
}

async function makeCsrs(count: number): Promise<string[]> {
  const { generateKeyPair } = await import('../src/x509/keys.js');
  const { createCertificateRequest } = await import('../src/x509/csr.js');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const csr = await createCertificateRequest({ subject: { commonName: `system:node:bench-${i}`, organization: ['system:nodes'] }, keyPair: await generateKeyPair('ECDSA-P256') });
    out.push(Buffer.from(csr.pem).toString('base64'));
  }
  return out;
}

async function runBackend(backend: 'sqlite' | 'etcd', dir: string, client: Omit<Client, 'base'>, requests: string[]): Promise<Row[]> {
  let etcd: { clientUrls: string[]; pids: number[]; stop(): Promise<void> } | undefined;
  if (backend === 'etcd') {
    const { startEtcd } = await import('../test/helpers/etcd.js');
    etcd = await startEtcd({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'kubepki-bench-etcd-')), extraArgs: ['--quota-backend-bytes=8589934592'] });
  }
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--server', JSON.stringify({ backend, dir, etcd: etcd?.clientUrls })], {
    stdio: 'inherit',
    execArgv: process.env['BENCH_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE']}`] : [],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const pool = await ConnectionPool.open(port, client.agent, CONCURRENCY);
  const c: Client = { ...client, base: `https://127.0.0.1:${port}`, pool };
  serverCpu = cpuProbe(child);
  const etcdPids = etcd?.pids;
  etcdCpu = etcdPids ? () => processCpuUs(etcdPids) : () => undefined;
  const rows: Row[] = [];
  try {
    const names = Array.from({ length: N }, (_, i) => `bench-${backend}-${i}`);
    const created: string[] = new Array(N);
    rows.push(
      await phase(backend, 'create CSR', N, async (i) => {
        const body = JSON.stringify({
          apiVersion: 'certificates.k8s.io/v1',
          kind: 'CertificateSigningRequest',
          metadata: { name: names[i] },
          spec: { request: requests[i % requests.length], signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
        });
        const r = await request(c, 'POST', CSRS, body);
        if (r.status !== 201) throw new Error(`create: ${r.status} ${r.body}`);
        created[i] = r.body;
      }),
    );
    rows.push(
      await phase(backend, 'get CSR', N, async (i) => {
        const r = await request(c, 'GET', `${CSRS}/${names[i]}`);
        if (r.status !== 200) throw new Error(`get: ${r.status} ${r.body}`);
      }),
    );
    rows.push(
      await phase(backend, 'approve CSR (PUT /approval)', N, async (i) => {
        const obj = JSON.parse(created[i]!);
        obj.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Bench', message: 'approved by bench' }] };
        const r = await request(c, 'PUT', `${CSRS}/${names[i]}/approval`, JSON.stringify(obj));
        if (r.status !== 200) throw new Error(`approve: ${r.status} ${r.body}`);
      }),
    );
    rows.push(await watchPhase(backend, c, names.slice(0, Math.min(WATCHERS, N))));
  } finally {
    pool.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await etcd?.stop();
  }
  return rows;
}

async function watchPhase(backend: string, c: Client, names: string[]): Promise<Row> {
  const list = JSON.parse((await request(c, 'GET', `${CSRS}?limit=1`)).body);
  const rv = list.metadata.resourceVersion;
  const watchAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, ca: c.agent.options.ca, cert: c.agent.options.cert, key: c.agent.options.key });
  const pending = new Map<string, number>();
  const lat: number[] = [];
  const reqs: ReturnType<typeof https.get>[] = [];
  let waiting: (() => void) | undefined;
  let open = 0;
  await new Promise<void>((resolve, reject) => {
    let started = 0;
    const openNext = () => {
      // Open in waves so the TLS handshakes do not all queue at once.
      while (started < names.length && started - open < 200) {
        const name = names[started++]!;
        const req = https.get(`${c.base}${CSRS}?watch=1&resourceVersion=${rv}&fieldSelector=metadata.name%3D${name}`, { agent: watchAgent }, (res) => {
          if (res.statusCode !== 200) return reject(new Error(`watch ${name}: ${res.statusCode}`));
          open++;
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            buf += d;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              buf = buf.slice(nl + 1);
              const t0 = pending.get(name);
              if (t0 !== undefined) {
                lat.push(performance.now() - t0);
                pending.delete(name);
                if (pending.size === 0) waiting?.();
              }
            }
          });
          if (open === names.length) resolve();
          else openNext();
        });
        req.on('error', reject);
        reqs.push(req);
      }
    };
    openNext();
  });
  // Writes one at a time in a stream of 16 concurrent writers; each write's delivery is timed from the
  // moment the write was sent until its watcher has the event.
  const writes = Math.min(2000, names.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < writes) {
        const name = names[(next++ * 7919) % names.length]!;
        if (pending.has(name)) continue;
        pending.set(name, performance.now());
        const r = await request(c, 'PATCH', `${CSRS}/${name}`, JSON.stringify({ metadata: { labels: { touched: String(next) } } }), 'application/merge-patch+json');
        if (r.status !== 200) throw new Error(`patch: ${r.status} ${r.body}`);
      }
    }),
  );
  if (pending.size > 0) await new Promise<void>((r) => ((waiting = r), setTimeout(r, 10_000)));
  const secs = (performance.now() - t0) / 1000;
  for (const r of reqs) r.destroy();
  watchAgent.destroy();
  lat.sort((a, b) => a - b);
  return { backend, op: `watch delivery (${names.length} watchers by name)`, n: lat.length, perSec: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubepki-bench-api-'));
  try {
    const { initClusterPki } = await import('../src/cluster/init.js');
    const { resolveClusterConfig } = await import('../src/cluster/config.js');
    await initClusterPki({
      certDir: path.join(dir, 'pki'),
      kubeconfigDir: dir,
      config: resolveClusterConfig({ advertiseAddress: '127.0.0.1', encryptionAlgorithm: 'ECDSA-P256', nodeName: 'bench' }),
    });
    const kc = parseYaml(readFileSync(path.join(dir, 'super-admin.conf'), 'utf8')) as { users: { user: Record<string, string> }[] };
    const user = kc.users[0]!.user;
    const agent = new https.Agent({
      keepAlive: true,
      maxSockets: CONCURRENCY,
      ca: readFileSync(path.join(dir, 'pki', 'ca.crt')),
      cert: Buffer.from(user['client-certificate-data']!, 'base64'),
      key: Buffer.from(user['client-key-data']!, 'base64'),
    });
    const requests = await makeCsrs(32);
    const rows: Row[] = [];
    if (process.env['BENCH_SQLITE'] !== '0') rows.push(...(await runBackend('sqlite', dir, { agent }, requests)));
    if (existsSync('/usr/bin/etcd') && process.env['BENCH_ETCD'] !== '0') rows.push(...(await runBackend('etcd', dir, { agent }, requests)));
    agent.destroy();
    console.log(`\nkubepki API server, ${CONCURRENCY} concurrent mTLS keep-alive clients, ${N} CSRs, ${os.cpus().length} CPUs\n`);
    console.log(
      `${'backend'.padEnd(8)} ${'operation'.padEnd(44)} ${'count'.padStart(7)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'server CPU µs/req'.padStart(18)} ${'etcd µs/req'.padStart(12)} ${'bench µs/req'.padStart(13)}`,
    );
    const us = (n: number | undefined) => (n === undefined ? '' : n.toFixed(0));
    for (const r of rows) {
      console.log(
        `${r.backend.padEnd(8)} ${r.op.padEnd(44)} ${String(r.n).padStart(7)} ${r.perSec.toFixed(0).padStart(9)} ${r.p50.toFixed(1).padStart(8)} ${r.p99.toFixed(1).padStart(8)} ${us(r.cpuUs).padStart(18)} ${us(r.etcdUs).padStart(12)} ${us(r.clientUs).padStart(13)}`,
      );
    }
    console.log(`\nload average (1 min) at the end: ${os.loadavg()[0]!.toFixed(2)}`);
    const load = os.loadavg()[0]!;
    if (load > os.cpus().length) console.log(`\nnote: the 1-minute load average was ${load.toFixed(1)} on ${os.cpus().length} CPUs — other work competed with this run`);
    console.log('\ngoals: ≥ 3,000 CSR creates/s on SQLite; p99 watch delivery < 50 ms with 5,000 watchers');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') void serverMode(JSON.parse(process.argv[3]!));
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
