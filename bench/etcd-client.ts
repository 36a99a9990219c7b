// What one etcd call costs this process, against a real etcd, through each client kubepki could use: its own
// (gRPC over its own HTTP/2 framing with the hand-written codec, src/storage/etcd-http2.ts, etcd-grpc.ts and etcd-proto.ts), @grpc/grpc-js
// with @grpc/proto-loader objects from etcd3's .proto files, and the etcd3 package (which sits on those two).
// Ranges and create transactions (a compare and a 2.5 kB put, as a CSR create), one call each, 64 in flight;
// the clients take turns, twice, so that JIT warm-up and machine load fall on all of them. Prints ops/s and the
// client's CPU per operation (user + system of this process; etcd is another process).
// etcd's own CPU per operation (from /proc) is printed too: it shares the machine's cores with the client.
//   node dist/bench/etcd-client.js [operations=5000] [--only kubepki]
// etcd3 and @grpc/* are devDependencies, here only for this comparison.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { EtcdGrpcClient } from '../src/storage/etcd-grpc.js';
import { decodeRangeResponse, decodeTxnResponse, encodeRangeRequest, encodeTxnRequest } from '../src/storage/etcd-proto.js';
import { startEtcd } from '../test/helpers/etcd.js';
import { processCpuUs } from './process-cpu.js';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 5000);
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const CONCURRENCY = 64;
const TIMEOUT_MS = 15_000;

interface Client {
  name: string;
  range(key: Buffer): Promise<unknown>;
  create(key: Buffer, value: Buffer): Promise<unknown>;
  close(): void;
}

/** etcd's CPU time in µs. */
let etcdCpuUs: () => number = () => 0;

async function measure(label: string, fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 200; i++) await fn(-1 - i); // connect, warm up
  const etcd0 = etcdCpuUs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) await fn(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const etcdPerOp = (etcdCpuUs() - etcd0) / N;
  const secs = (performance.now() - t0) / 1000;
  const perOp = (cpu.user + cpu.system) / N;
  console.log(`${label.padEnd(48)} ${(N / secs).toFixed(0).padStart(7)} ops/s  ${perOp.toFixed(0).padStart(5)} µs client CPU/op  ${etcdPerOp.toFixed(0).padStart(5)} µs etcd CPU/op`);
  return perOp;
}

function kubepkiClient(url: string): Client {
  const client = new EtcdGrpcClient({ endpoints: [url], timeoutMs: TIMEOUT_MS });
  return {
    name: 'kubepki (own HTTP/2)',
    range: (key) => client.unary('/etcdserverpb.KV/Range', encodeRangeRequest({ key }), decodeRangeResponse, true),
    create: (key, value) =>
      client.unary(
        '/etcdserverpb.KV/Txn',
        encodeTxnRequest({ compare: [{ key, target: 'Mod', result: 'Equal', operand: 0 }], success: [{ put: { key, value } }], failure: [{ range: { key, keysOnly: true } }] }),
        decodeTxnResponse,
        false,
      ),
    close: () => client.close(),
  };
}

// The devDependencies are CommonJS without types worth importing for a benchmark: structural types of the
// few calls used.
type Callback = (err: Error | null, res: unknown) => void;
interface GrpcKv {
  Range(req: object, meta: unknown, opts: object, cb: Callback): void;
  Txn(req: object, meta: unknown, opts: object, cb: Callback): void;
  close(): void;
}
interface Etcd3Client {
  kv: { range(req: object): Promise<unknown>; txn(req: object): Promise<unknown> };
  close(): void;
}

const require = createRequire(import.meta.url);
const etcd3Proto = path.join(path.dirname(require.resolve('etcd3/package.json')), 'proto/rpc.proto');
const txnObject = (key: Buffer, value: Buffer) => ({
  compare: [{ key, target: 'Mod', result: 'Equal', mod_revision: 0 }],
  success: [{ request_put: { key, value } }],
  failure: [{ request_range: { key, keys_only: true } }],
});

function grpcJsClient(url: string): Client {
  const grpc = require('@grpc/grpc-js') as { credentials: { createInsecure(): unknown }; Metadata: new () => unknown; loadPackageDefinition(d: unknown): Record<string, Record<string, new (host: string, creds: unknown) => GrpcKv>> };
  const loader = require('@grpc/proto-loader') as { loadSync(file: string, opts: object): unknown };
  // The options etcd3 loads its .proto files with.
  const def = loader.loadSync(etcd3Proto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const KV = grpc.loadPackageDefinition(def).etcdserverpb!.KV!;
  const kv = new KV(url.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
  const call = (method: 'Range' | 'Txn', req: object) =>
    new Promise((resolve, reject) => kv[method](req, new grpc.Metadata(), { deadline: Date.now() + TIMEOUT_MS }, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res))));
  return { name: '@grpc/grpc-js + proto-loader', range: (key) => call('Range', { key }), create: (key, value) => call('Txn', txnObject(key, value)), close: () => kv.close() };
}

function etcd3Client(url: string): Client {
  const etcd3 = require('etcd3') as { Etcd3: new (opts: object) => Etcd3Client };
  // As src/storage/etcd.ts used it until it moved to its own client.
  const client = new etcd3.Etcd3({ hosts: [url], defaultCallOptions: (ctx: { isStream: boolean }) => (ctx.isStream ? {} : { deadline: Date.now() + TIMEOUT_MS }) });
  return { name: 'etcd3', range: (key) => client.kv.range({ key }), create: (key, value) => client.kv.txn(txnObject(key, value)), close: () => client.close() };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubepki-etcd-client-'));
  const etcd = await startEtcd({ dataDir: dir });
  etcdCpuUs = () => processCpuUs(etcd.pids);
  const url = etcd.clientUrls[0]!;
  const value = Buffer.alloc(2500, 'x'); // about a CSR's size
  const results = new Map<string, { range: number[]; create: number[] }>();
  let round = 0;
  try {
    console.log(`etcd clients against one etcd, ${N} operations, ${CONCURRENCY} in flight, load ${os.loadavg()[0]!.toFixed(1)}`);
    for (let pass = 0; pass < 2; pass++) {
      for (const make of [kubepkiClient, grpcJsClient, etcd3Client]) {
        const client = make(url);
        if (ONLY !== undefined && !client.name.startsWith(ONLY)) {
          client.close();
          continue;
        }
        const r = results.get(client.name) ?? { range: [], create: [] };
        results.set(client.name, r);
        const p = `/bench-${++round}`;
        try {
          r.range.push(await measure(`${client.name}: range`, (i) => client.range(Buffer.from(`${p}/a/${i % 100}`))));
          r.create.push(await measure(`${client.name}: create (txn)`, (i) => client.create(Buffer.from(`${p}/b/${i}`), value)));
        } finally {
          client.close();
        }
      }
    }
    console.log('\nbest of the two turns, µs of client CPU per call:');
    for (const [name, r] of results) console.log(`  ${name.padEnd(32)} range ${Math.min(...r.range).toFixed(0).padStart(4)}   create ${Math.min(...r.create).toFixed(0).padStart(4)}`);
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
