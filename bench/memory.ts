// Benchmark: the memory of `kubepki serve` (SQLite, controllers in their worker thread, real HTTPS with client
// certificates) holding N CSRs with W open watches, one per CSR name (fieldSelector metadata.name=<name>, as
// kubelets and agents watch their own CSR). Goal (issue 15 #5): 100,000 CSRs + 5,000 watches <= 512 MiB RSS.
//
// Filling: N CSRs are created through the API (mutual TLS as admin.conf, CONCURRENCY connections), and the
// in-process controllers approve and sign every one (so the stored objects are issued CSRs, status.certificate
// and managedFields included, the largest a CSR gets). The cleaner's approved-CSR retention is raised to 720h
// so they stay stored. Then serve stops, and every measurement starts a fresh serve on that data directory:
// it loads the CSRs the way it does after a restart (the controllers' informer lists them all).
// With --data DIR the filled directory is kept and reused by later runs (the fill is slow; 100k takes minutes).
//
// Where the memory goes, without code in the product for the bench:
//   - VmRSS / VmHWM / RssAnon / RssFile from /proc/<pid>/status;
//   - the main thread's V8 heap and external memory from serve's own /metrics (prom-client's default metrics),
//     and the controllers thread's heap (kubepki_controllers_thread_heap_bytes, also on /metrics);
//   - differences between runs: serve without controllers (no --controller-manager-kubeconfig), then with
//     them (their worker thread and its informer of every CSR), then with W watches (sockets, TLS, per-watch
//     objects) — RSS deltas divided by what was added;
//   - with --heap-snapshot, the main thread's heap by constructor (node --heapsnapshot-signal) with W watches.
//
//   npm run bench:memory                                  (100,000 CSRs, 5,000 watches)
//   npm run bench:memory -- --csrs 10000 --watches 1000   (a quick iteration)
//   npm run bench:memory -- --data /tmp/mem-100k          (keep the filled data directory; reuse it next time)
//   npm run bench:memory -- --heap-snapshot               (also the main thread's heap by constructor)
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';
import { createCertificateRequest, generateKeyPair } from '../src/x509/index.js';
import { freePort } from '../test/helpers/ports.js';
import { kubepki } from '../test/helpers/cli.js';
import { startCli, type CliProcess } from '../test/helpers/process.js';
import { onLines } from '../test/helpers/json-lines.js';
import { httpsRequest } from './https-request.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const CSRS = Number(arg('csrs', '100000'));
const WATCHES = Math.min(CSRS, Number(arg('watches', '5000')));
const CONCURRENCY = Number(arg('concurrency', '64'));
const DATA = arg('data', '');
const SETTLE_MS = Number(arg('settle', '5000'));
const HEAP_SNAPSHOT = flag('heap-snapshot');
const BREAKDOWN = !flag('no-breakdown');
const GOAL_MIB = 512;
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const MiB = 1024 * 1024;

interface Client {
  agent: https.Agent;
  base: string;
}

const request = (c: Client, method: string, p: string, body?: string) => httpsRequest(c, method, p, body);

/** admin.conf's mutual-TLS credentials (the client certificate kubepki init wrote). */
function adminAgent(dir: string, options: https.AgentOptions): https.Agent {
  const kc = parseYaml(readFileSync(path.join(dir, 'admin.conf'), 'utf8')) as { users: { user: Record<string, string> }[] };
  const user = kc.users[0]!.user;
  return new https.Agent({
    ...options,
    ca: readFileSync(path.join(dir, 'pki', 'ca.crt')),
    cert: Buffer.from(user['client-certificate-data']!, 'base64'),
    key: Buffer.from(user['client-key-data']!, 'base64'),
  });
}

const csrName = (i: number) => `mem-${i}`;

async function startServe(dir: string, options: { controllers: boolean; nodeArgs?: string[] }): Promise<CliProcess & { client: Client; port: number }> {
  const port = await freePort();
  const args = ['serve', '--data-dir', dir, '--secure-port', String(port), '--csr-cleaner-approved-after', '720h'];
  // Without a controller-manager kubeconfig, serve runs no controllers (it says so on stderr).
  if (!options.controllers) args.push('--controller-manager-kubeconfig', path.join(dir, 'no-controllers.conf'));
  const serve = startCli(args, { nodeArgs: options.nodeArgs ?? [] });
  const url = (await serve.waitForStderr(/listening on (https:\/\/\S+)/, { timeoutMs: 120_000, what: 'serve' }))[1]!;
  return { ...serve, port, client: { agent: adminAgent(dir, { keepAlive: true, maxSockets: CONCURRENCY }), base: url } };
}

/** Creates N CSRs and waits (on one watch of the collection) until the controllers have issued every one. */
async function fill(dir: string, n: number): Promise<void> {
  const port = await freePort();
  const init = await kubepki(['init', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, '--encryption-algorithm', 'ECDSA-P256', '--apiserver-advertise-address', '127.0.0.1', '--apiserver-bind-port', String(port)]);
  if (init.code !== 0) throw new Error(`init: ${init.stderr}`);
  const serve = await startServe(dir, { controllers: true });
  const c = serve.client;
  try {
    // 256 distinct node keys are enough: the server checks each request's signature, not its uniqueness.
    const requests: string[] = [];
    for (let i = 0; i < 256; i++) {
      const keyPair = await generateKeyPair('ECDSA-P256');
      const req = await createCertificateRequest({ subject: { commonName: `system:node:mem-${i}`, organization: ['system:nodes'] }, keyPair });
      requests.push(Buffer.from(req.pem).toString('base64'));
    }
    const list = await request(c, 'GET', `${CSR_PATH}?limit=1`);
    if (list.status !== 200) throw new Error(`list: ${list.status} ${list.body}`);
    const rv = (JSON.parse(list.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const issued = new Set<string>();
    let allIssued!: () => void;
    const done = new Promise<void>((r) => (allIssued = r));
    const watchAgent = adminAgent(dir, { keepAlive: false });
    const watch = https.get(`${c.base}${CSR_PATH}?watch=1&resourceVersion=${rv}`, { agent: watchAgent }, (res) =>
      onLines(res, (line) => {
        if (!line.includes('"certificate":"')) return;
        const name = /"name":"([^"]+)"/.exec(line)?.[1];
        if (name && !issued.has(name)) {
          issued.add(name);
          if (issued.size === n) allIssued();
        }
      }),
    );
    watch.on('error', () => undefined);
    const t0 = performance.now();
    let next = 0;
    let lastReport = t0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < n) {
          const i = next++;
          const body = JSON.stringify({
            apiVersion: 'certificates.k8s.io/v1',
            kind: 'CertificateSigningRequest',
            metadata: { name: csrName(i) },
            spec: { request: requests[i % requests.length], signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
          });
          const r = await request(c, 'POST', CSR_PATH, body);
          if (r.status !== 201) throw new Error(`create ${csrName(i)}: ${r.status} ${r.body}`);
          if (performance.now() - lastReport > 10_000) {
            lastReport = performance.now();
            console.log(`  fill: ${next}/${n} created, ${issued.size} issued (${((lastReport - t0) / 1000).toFixed(0)} s)`);
          }
        }
      }),
    );
    console.log(`  fill: ${n} created in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting until all are issued`);
    const timer = setInterval(() => console.log(`  fill: ${issued.size}/${n} issued (${((performance.now() - t0) / 1000).toFixed(0)} s)`), 10_000);
    await done;
    clearInterval(timer);
    console.log(`  fill: ${n} created and issued in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    watch.destroy();
    watchAgent.destroy();
  } finally {
    c.agent.destroy();
    await serve.stop();
  }
}

interface Sample {
  rss: number;
  hwm: number;
  anon: number;
  file: number;
  /** Main thread V8 heap used / total, external (Buffers, TLS, ...), from serve's /metrics. */
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** The controllers thread's V8 heap (its own metric), NaN without controllers. */
  workerUsed: number;
  workerTotal: number;
  watchers: number;
}

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

/**
 * The process's resident memory by kind of mapping (/proc/<pid>/smaps): glibc's main malloc arena ([heap]), the
 * other threads' malloc arenas (glibc maps them 64 MiB-aligned), file-backed pages (node's code), and the rest of
 * the anonymous memory (the V8 heaps of both threads, large mmapped allocations).
 */
function residentByMapping(pid: number): Record<string, number> {
  const out: Record<string, number> = { 'main malloc arena': 0, 'thread malloc arenas': 0, 'V8 heaps and other anonymous': 0, 'file-backed': 0 };
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[2]!;
      kind = name === '[heap]' ? 'main malloc arena' : name.startsWith('/') ? 'file-backed' : name ? '' : BigInt(`0x${m[1]}`) % BigInt(64 * MiB) === 0n ? 'thread malloc arenas' : 'V8 heaps and other anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && kind) out[kind]! += Number(rss[1]) * 1024;
  }
  return out;
}

function metric(text: string, name: string, labels = ''): number {
  const m = new RegExp(`^${name}${labels ? `\\{[^}]*${labels}[^}]*\\}` : '(?:\\{[^}]*\\})?'} ([0-9.e+-]+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function sample(serve: CliProcess & { client: Client }): Promise<Sample> {
  const r = await request(serve.client, 'GET', '/metrics');
  const s = procStatus(serve.child.pid!);
  return {
    rss: s['VmRSS']!,
    hwm: s['VmHWM']!,
    anon: s['RssAnon']!,
    file: s['RssFile']!,
    heapUsed: metric(r.body, 'nodejs_heap_size_used_bytes'),
    heapTotal: metric(r.body, 'nodejs_heap_size_total_bytes'),
    external: metric(r.body, 'nodejs_external_memory_bytes'),
    workerUsed: metric(r.body, 'kubepki_controllers_thread_heap_bytes', 'kind="used"'),
    workerTotal: metric(r.body, 'kubepki_controllers_thread_heap_bytes', 'kind="total"'),
    watchers: metric(r.body, 'apiserver_longrunning_requests', 'verb="WATCH"'),
  };
}

/** Waits until the controllers' CSR queues have taken every CSR in and are empty (their informer has synced). */
async function controllersSynced(serve: CliProcess & { client: Client }, n: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const text = (await request(serve.client, 'GET', '/metrics')).body;
    const adds = [...text.matchAll(/^workqueue_adds_total\{name="(csr[a-z]+)"\} (\d+)/gm)].map((m) => Number(m[2]));
    const depth = [...text.matchAll(/^workqueue_depth\{name="(csr[a-z]+)"\} (\d+)/gm)].reduce((s, m) => s + Number(m[2]), 0);
    if (adds.length > 0 && Math.min(...adds) >= n && depth === 0) return;
    if (Date.now() > deadline) throw new Error(`controllers did not sync: ${adds.join(',')} adds, depth ${depth}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Opens W watches, one per CSR name, each on its own mutual-TLS connection (as W kubelets would). */
async function openWatches(dir: string, base: string, w: number): Promise<{ close(): void }> {
  const agent = adminAgent(dir, { keepAlive: true, maxSockets: Infinity });
  const list = await request({ agent, base }, 'GET', `${CSR_PATH}?limit=1`);
  const rv = (JSON.parse(list.body) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const reqs: ReturnType<typeof https.get>[] = [];
  let open = 0;
  if (w > 0) {
    await new Promise<void>((resolve, reject) => {
      let started = 0;
      const openNext = () => {
        // In waves, so the TLS handshakes do not all queue at once.
        while (started < w && started - open < 200) {
          const name = csrName(started++);
          const req = https.get(`${base}${CSR_PATH}?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}&fieldSelector=metadata.name%3D${name}`, { agent }, (res) => {
            if (res.statusCode !== 200) return reject(new Error(`watch ${name}: ${res.statusCode}`));
            res.resume();
            if (++open === w) resolve();
            else openNext();
          });
          req.on('error', reject);
          reqs.push(req);
        }
      };
      openNext();
    });
  }
  return {
    close: () => {
      for (const r of reqs) r.destroy();
      agent.destroy();
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, SETTLE_MS));
const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;
const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;

function row(label: string, s: Sample): void {
  console.log(
    `${label.padEnd(34)} ${mib(s.rss).padStart(11)} ${mib(s.hwm).padStart(11)} ${mib(s.anon).padStart(11)} ${mib(s.file).padStart(10)} ${mib(s.heapUsed).padStart(11)} ${mib(s.heapTotal).padStart(11)} ${mib(s.external).padStart(11)} ${(Number.isNaN(s.workerUsed) ? '-' : mib(s.workerUsed)).padStart(12)} ${(Number.isNaN(s.workerTotal) ? '-' : mib(s.workerTotal)).padStart(13)}`,
  );
}

/** The newest heap snapshot in `dir`, aggregated: self size by node type and constructor name. */
function heapByConstructor(dir: string): { name: string; count: number; bytes: number }[] {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.heapsnapshot'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!file) throw new Error(`no heap snapshot in ${dir}`);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const by = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    const type = types[snap.nodes[i + typeAt]!]!;
    // Objects and closures by constructor; strings, arrays, code and the rest by their kind.
    const name = type === 'object' || type === 'closure' || type === 'native' ? `${type === 'closure' ? 'closure ' : ''}${snap.strings[snap.nodes[i + nameAt]!]}` : `(${type})`;
    const e = by.get(name) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + sizeAt]!;
    by.set(name, e);
  }
  return [...by].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.bytes - a.bytes);
}

async function waitForSnapshot(dir: string, before: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  let lastSize = -1;
  for (;;) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));
    if (files.length > before) {
      // Written in one go by V8; wait until its size stops changing.
      const size = files.reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
      if (size === lastSize && size > 0) return;
      lastSize = size;
    }
    if (Date.now() > deadline) throw new Error('no heap snapshot written');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function main(): Promise<void> {
  console.log(`serve memory: ${CSRS} CSRs, ${WATCHES} watches by name; ${os.cpus().length} CPUs, node ${process.version}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = DATA || (await mkdtemp(path.join(os.tmpdir(), 'kubepki-mem-')));
  const marker = path.join(dir, `filled-${CSRS}`);
  try {
    if (!existsSync(marker)) {
      if (existsSync(path.join(dir, 'pki'))) throw new Error(`${dir} holds a data directory not filled with ${CSRS} CSRs by this bench; give another --data`);
      await mkdir(dir, { recursive: true });
      console.log(`filling ${dir} with ${CSRS} issued CSRs (through the API; not measured)`);
      await fill(dir, CSRS);
      writeFileSync(marker, new Date().toISOString());
    } else console.log(`reusing ${dir} (filled with ${CSRS} CSRs)`);

    console.log('');
    console.log(`${'serve (fresh start on that data)'.padEnd(34)} ${'VmRSS'.padStart(11)} ${'VmHWM'.padStart(11)} ${'RssAnon'.padStart(11)} ${'RssFile'.padStart(10)} ${'heap used'.padStart(11)} ${'heap total'.padStart(11)} ${'external'.padStart(11)} ${'ctrl heap'.padStart(12)} ${'ctrl heap tot'.padStart(13)}`);
    let bare: Sample | undefined;
    let bareWatched: Sample | undefined;
    if (BREAKDOWN) {
      const serve = await startServe(dir, { controllers: false });
      try {
        await settle();
        bare = await sample(serve);
        row('no controllers', bare);
        const watches = await openWatches(dir, serve.client.base, WATCHES);
        await settle();
        bareWatched = await sample(serve);
        row(`no controllers, ${WATCHES} watches`, bareWatched);
        watches.close();
      } finally {
        serve.client.agent.destroy();
        await serve.stop();
      }
    }
    const snapDir = path.join(dir, 'heap-snapshots');
    if (HEAP_SNAPSHOT) await mkdir(snapDir, { recursive: true });
    const serve = await startServe(dir, { controllers: true, nodeArgs: HEAP_SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapDir}`] : [] });
    let synced: Sample;
    let watched: Sample;
    let mappings: Record<string, number> = {};
    try {
      const t0 = performance.now();
      await controllersSynced(serve, CSRS);
      const syncS = (performance.now() - t0) / 1000;
      await settle();
      synced = await sample(serve);
      row('controllers synced', synced);
      const tw = performance.now();
      const watches = await openWatches(dir, serve.client.base, WATCHES);
      const openS = (performance.now() - tw) / 1000;
      await settle();
      watched = await sample(serve);
      row(`controllers, ${WATCHES} watches`, watched);
      mappings = residentByMapping(serve.child.pid!);
      console.log(`  (controllers synced ${CSRS} CSRs in ${syncS.toFixed(1)} s; ${WATCHES} watches opened in ${openS.toFixed(1)} s; serve counts ${watched.watchers} watches)`);
      if (HEAP_SNAPSHOT) {
        const before = readdirSync(snapDir).filter((f) => f.endsWith('.heapsnapshot')).length;
        serve.child.kill('SIGUSR2');
        await waitForSnapshot(snapDir, before);
      }
      watches.close();
    } finally {
      serve.client.agent.destroy();
      await serve.stop();
    }

    console.log('');
    console.log('where the memory goes (RSS differences between the runs above)');
    if (bare && bareWatched) {
      console.log(`  serve itself with ${CSRS} CSRs stored, no controllers: ${mib(bare.rss)} (main heap ${mib(bare.heapUsed)})`);
      console.log(`  controllers (worker thread; its informer holds every CSR): ${mib(synced.rss - bare.rss)} (${kib((synced.rss - bare.rss) / CSRS)} per CSR); its heap ${mib(synced.workerUsed)} used of ${mib(synced.workerTotal)}; main heap ${mib(synced.heapUsed - bare.heapUsed)} of it`);
      console.log(`  ${WATCHES} watches without controllers: ${mib(bareWatched.rss - bare.rss)} (${kib((bareWatched.rss - bare.rss) / WATCHES)} per watch; main heap ${mib(bareWatched.heapUsed - bare.heapUsed)}, external ${mib(bareWatched.external - bare.external)})`);
    }
    console.log(`  resident with controllers and ${WATCHES} watches, by mapping: ${Object.entries(mappings).map(([k, v]) => `${k} ${mib(v)}`).join(', ')}`);
    console.log(`  ${WATCHES} watches with controllers: ${mib(watched.rss - synced.rss)} (${kib((watched.rss - synced.rss) / WATCHES)} per watch; main heap ${mib(watched.heapUsed - synced.heapUsed)}, external ${mib(watched.external - synced.external)})`);
    if (HEAP_SNAPSHOT) {
      console.log('');
      console.log(`main thread heap with ${WATCHES} watches, by constructor (self size, top 25):`);
      for (const e of heapByConstructor(snapDir).slice(0, 25)) console.log(`  ${mib(e.bytes).padStart(10)}  ${String(e.count).padStart(9)}  ${e.name}`);
    }
    console.log('');
    const goal = watched.rss <= GOAL_MIB * MiB;
    console.log(`goal: ${CSRS} CSRs + ${WATCHES} watches <= ${GOAL_MIB} MiB RSS: ${mib(watched.rss)} — ${goal ? 'met' : 'NOT met'}${CSRS === 100_000 && WATCHES === 5000 ? '' : ' (not the goal size)'}`);
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    if (!DATA) await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
