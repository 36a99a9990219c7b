// What one call through the etcd3 gRPC client costs this process, against a real etcd: ranges and create
// transactions one call each (64 in flight), then creates 64 to a transaction (what src/storage/etcd-batch.ts
// does with the writes of one event-loop turn). Prints ops/s and the client's CPU per operation.
//   node dist/bench/etcd-client.js [operations=5000]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import etcd3 from 'etcd3';
import { startEtcd } from '../test/helpers/etcd.js';

const N = Number(process.argv[2] ?? 5000);
const CONCURRENCY = 64;

async function measure(label: string, fn: (i: number) => Promise<unknown>): Promise<void> {
  await fn(-1); // connect
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await fn(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const secs = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(44)} ${(N / secs).toFixed(0).padStart(7)} ops/s  ${((cpu.user + cpu.system) / N).toFixed(0).padStart(5)} µs client CPU/op`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubepki-etcd-client-'));
  const etcd = await startEtcd({ dataDir: dir });
  const client = new etcd3.Etcd3({ hosts: etcd.clientUrls });
  const value = Buffer.alloc(2500, 'x'); // about a CSR's size
  const create = (key: Buffer) => ({ compare: [{ key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: 0 }], success: [{ request_put: { key, value } }] });
  try {
    console.log(`etcd3 client against etcd, ${CONCURRENCY} operations in flight, load ${os.loadavg()[0]!.toFixed(1)}`);
    await measure('range, one call each', (i) => client.kv.range({ key: Buffer.from(`/a/${i % 100}`) }));
    await measure('create (txn), one call each', (i) => client.kv.txn(create(Buffer.from(`/b/${i}`))));
    let n = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (n < N) {
      const keys = Array.from({ length: Math.min(CONCURRENCY, N - n) }, () => Buffer.from(`/c/${n++}`));
      await client.kv.txn({
        compare: keys.map((key) => ({ key, target: 'Mod' as const, result: 'Equal' as const, mod_revision: 0 })),
        success: keys.map((key) => ({ request_put: { key, value } })),
        failure: keys.map((key) => ({ request_range: { key, keys_only: true } })),
      });
    }
    const cpu = process.cpuUsage(cpu0);
    const secs = (performance.now() - t0) / 1000;
    console.log(`${`creates, ${CONCURRENCY} to a txn, one txn at a time`.padEnd(44)} ${(N / secs).toFixed(0).padStart(7)} ops/s  ${((cpu.user + cpu.system) / N).toFixed(0).padStart(5)} µs client CPU/op`);
  } finally {
    client.close();
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
