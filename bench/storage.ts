// Storage micro-benchmark: creates/s, updates/s and watch delivery latency for the SQLite backend (and
// etcd when /usr/bin/etcd is present and BENCH_ETCD != 0). Anchors: kine on SQLite does a few thousand
// writes/s; the API target is > 3,000 creates/s end to end, so storage alone should do > 20,000/s.
//   node dist/bench/storage.js [count]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EtcdStorage } from '../src/storage/etcd.js';
import type { Storage } from '../src/storage/interface.js';
import { SqliteStorage } from '../src/storage/sqlite.js';
import { startEtcd } from '../test/helpers/etcd.js';

const N = Number(process.argv[2] ?? 20_000);
const value = JSON.stringify({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'node-csr-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', uid: '6f1c2f54-6c55-4f7b-9b55-0c8d7d1e3c33' },
  spec: { request: 'A'.repeat(700), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
});

async function bench(name: string, storage: Storage, n: number, concurrency: number): Promise<void> {
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  let received = 0;
  let allSeen: () => void = () => {};
  const seen = new Promise<void>((r) => (allSeen = r));
  const watch = storage.watch('/registry/bench/', {
    afterRevision: await storage.currentRevision(),
    onEvent: (e) => {
      const t0 = sentAt.get(e.key);
      if (t0 !== undefined) latencies.push(performance.now() - t0);
      if (++received === 2 * n) allSeen();
    },
    onError: (e) => console.error('watch failed:', e.message),
  });
  // Give a remote watch a moment to be established before writing.
  await new Promise((r) => setTimeout(r, 200));

  const keys = Array.from({ length: n }, (_, i) => `/registry/bench/default/obj-${String(i).padStart(7, '0')}`);
  const revs = new Array<number>(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        sentAt.set(keys[i]!, performance.now());
        revs[i] = await storage.create(keys[i]!, value);
      }
    }),
  );
  const createSecs = (performance.now() - t0) / 1000;
  next = 0;
  const t1 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        sentAt.set(keys[i]!, performance.now());
        await storage.update(keys[i]!, value, revs[i]!);
      }
    }),
  );
  const updateSecs = (performance.now() - t1) / 1000;
  await Promise.race([seen, new Promise((r) => setTimeout(r, 30_000))]);
  watch.close();
  const t2 = performance.now();
  const list = await storage.list('/registry/bench/', { limit: 500 });
  const listMs = performance.now() - t2;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN).toFixed(2);
  console.log(
    `${name.padEnd(8)} creates/s ${Math.round(n / createSecs).toString().padStart(7)}  updates/s ${Math.round(n / updateSecs).toString().padStart(7)}` +
      `  watch latency ms p50 ${pct(0.5)} p99 ${pct(0.99)} (${received}/${2 * n} events)  list 500/${n} ${listMs.toFixed(1)} ms (remaining ${list.remaining})`,
  );
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubepki-bench-'));
try {
  const sqlite = new SqliteStorage({ path: path.join(dir, 'bench.db'), compaction: { intervalMs: 0 } });
  await bench('sqlite', sqlite, N, 64);
  await sqlite.close();

  if (existsSync('/usr/bin/etcd') && process.env['BENCH_ETCD'] !== '0') {
    const cluster = await startEtcd({ dataDir: path.join(dir, 'etcd') });
    try {
      const etcd = new EtcdStorage({ endpoints: cluster.clientUrls });
      await bench('etcd', etcd, Math.min(N, 5000), 64);
      await etcd.close();
    } finally {
      await cluster.stop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
