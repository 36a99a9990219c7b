// EtcdStorage: the storage contract on a real etcd v3 cluster (gRPC over node:http2, etcd-grpc.ts), the way
// kube-apiserver uses etcd: creates and compare-and-swap writes are transactions on create/mod revisions,
// lists are ranges read at a revision, watches are etcd watches from revision+1 with previous values.
// Several API replicas on one etcd share one history and see each other's writes and conflicts.
import { readFileSync } from 'node:fs';
import { EtcdCallError, EtcdGrpcClient, type GrpcStream } from './etcd-grpc.js';
import {
  decodeCompactionResponse,
  decodeRangeResponse,
  decodeTxnResponse,
  decodeWatchResponse,
  encodeCompactionRequest,
  encodeRangeRequest,
  encodeTxnRequest,
  encodeWatchCreate,
  type KeyValue,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
  type WatchEventMessage,
  type WatchResponse,
} from './etcd-proto.js';
import type { Clock } from '../util/clock.js';
import { KubepkiError } from '../util/errors.js';
import { systemClock } from '../util/clock.js';
import { compacted, conflict, keyExists, notFound, StorageError } from './errors.js';
import { repeatEvery, storageClosed } from './internal.js';
import { conditionalWrite, EtcdReadBatcher, type Condition, type WriteResult } from './etcd-batch.js';
import type { ListOptions, ListResult, Storage, StoredValue, WatchEvent, WatchHandle, WatchOptions } from './interface.js';

export interface EtcdStorageOptions {
  /** Client URLs, e.g. https://10.0.0.1:2379. */
  endpoints: string[];
  /** CA bundle that signed the etcd server certificates (kube-apiserver's --etcd-cafile). */
  caFile?: string;
  /** Client certificate and key for mutual TLS (--etcd-certfile / --etcd-keyfile). */
  certFile?: string;
  keyFile?: string;
  /** Prepended to every key (--etcd-prefix); empty by default, keys already start with /registry/. */
  prefix?: string;
  /** How often to compact etcd's history (kube-apiserver's --etcd-compaction-interval); 0 disables. Default 5 min. */
  compactionIntervalMs?: number;
  /** Deadline of each unary request. Default 15 s. */
  requestTimeoutMs?: number;
  clock?: Clock;
}

/** kube-apiserver's record of the last compaction; its version counts compactions, so replicas take turns. */
export const COMPACT_REV_KEY = 'compact_rev_key';

export class EtcdStorage implements Storage {
  readonly kind = 'etcd' as const;
  private readonly client: EtcdGrpcClient;
  private readonly prefix: string;
  private knownCompacted = 0;
  private readonly watches = new Set<EtcdWatch>();
  private closed = false;
  private readonly stopCompactor = new AbortController();
  /** The gets of one event-loop turn, as one read-only transaction (etcd-batch.ts). */
  private readonly batcher: EtcdReadBatcher;

  constructor(options: EtcdStorageOptions) {
    if (options.endpoints.length === 0) throw new KubepkiError('InvalidConfig', 'no etcd endpoints given');
    if ((options.certFile === undefined) !== (options.keyFile === undefined)) {
      throw new KubepkiError('InvalidConfig', 'an etcd client certificate needs both certFile and keyFile');
    }
    for (const e of options.endpoints) {
      if (!/^https?:\/\/[^/]+\/?$/.test(e)) throw new KubepkiError('InvalidConfig', `etcd endpoint ${e} is not an http:// or https:// URL of a host and port`);
    }
    const secure = options.endpoints.some((e) => e.startsWith('https://'));
    let tls: { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined;
    if (options.caFile || options.certFile) {
      tls = {
        ca: readTlsFile(options.caFile, 'CA'),
        ...(options.certFile ? { cert: readTlsFile(options.certFile, 'client certificate') } : {}),
        ...(options.keyFile ? { key: readTlsFile(options.keyFile, 'client key') } : {}),
      };
    } else if (secure) {
      throw new KubepkiError('InvalidConfig', 'https etcd endpoints need a CA file (caFile)');
    }
    // Streams (watches) live as long as their watcher; unary calls get a deadline.
    this.client = new EtcdGrpcClient({ endpoints: options.endpoints, ...(tls ? { tls } : {}), timeoutMs: options.requestTimeoutMs ?? 15_000 });
    this.prefix = options.prefix ?? '';
    this.batcher = new EtcdReadBatcher((req) => this.txn(req, false));
    const interval = options.compactionIntervalMs ?? 5 * 60_000;
    if (interval > 0) void this.runCompactor(interval, options.clock ?? systemClock);
  }

  async get(key: string): Promise<StoredValue | null> {
    if (this.closed) throw storageClosed();
    try {
      const { kv } = await this.batcher.read(this.k(key));
      return kv ? this.toStored(kv) : null;
    } catch (err) {
      throw this.mapError(err);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const from = options.startAfter !== undefined && options.startAfter >= prefix ? `${options.startAfter}\0` : prefix;
    const req: RangeRequest = { key: this.rangeStart(from), rangeEnd: this.rangeEnd(prefix) };
    if (options.limit && options.limit > 0) req.limit = options.limit;
    if (options.revision && options.revision > 0) req.revision = options.revision;
    const res = await this.range(req, options.revision);
    const items = res.kvs.map((kv) => this.toStored(kv));
    // etcd's header carries the current revision; a read at a given revision is "as of" that one.
    const revision = options.revision && options.revision > 0 ? options.revision : res.revision;
    return { items, revision, more: res.more, remaining: Math.max(0, res.count - items.length) };
  }

  async count(prefix: string): Promise<number> {
    const res = await this.range({ key: this.rangeStart(prefix), rangeEnd: this.rangeEnd(prefix), countOnly: true });
    return res.count;
  }

  async create(key: string, value: string): Promise<number> {
    const k = this.k(key);
    const v = Buffer.from(value);
    const res = await this.write(k, [{ target: 'Mod', result: 'Equal', revision: 0 }], { put: { key: k, value: v } });
    if (!res.succeeded) throw keyExists(key);
    return res.revision;
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    const k = this.k(key);
    const v = Buffer.from(value);
    // The create-revision guard keeps an update with expectedRevision 0 from creating the key.
    const res = await this.write(
      k,
      [
        { target: 'Create', result: 'Greater', revision: 0 },
        { target: 'Mod', result: 'Equal', revision: expectedRevision },
      ],
      { put: { key: k, value: v } },
    );
    if (!res.succeeded) throw res.kv ? conflict(key) : notFound(key);
    return res.revision;
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: StoredValue }> {
    const k = this.k(key);
    const conditions: Condition[] = [{ target: 'Create', result: 'Greater', revision: 0 }];
    if (expectedRevision !== undefined) conditions.push({ target: 'Mod', result: 'Equal', revision: expectedRevision });
    const res = await this.write(k, conditions, { deleteRange: { key: k, prevKv: true } });
    if (!res.succeeded) throw res.kv ? conflict(key) : notFound(key);
    const prevKv = res.response.deleteRange?.prevKvs[0];
    if (!prevKv) throw notFound(key);
    return { revision: res.revision, prev: this.toStored(prevKv) };
  }

  watch(prefix: string, options: WatchOptions): WatchHandle {
    const w = new EtcdWatch(this, prefix, options);
    if (this.closed) {
      w.fail(storageClosed());
      return w;
    }
    this.watches.add(w);
    w.start();
    return w;
  }

  async currentRevision(): Promise<number> {
    const res = await this.range({ key: Buffer.from(COMPACT_REV_KEY), keysOnly: true });
    return res.revision;
  }

  /**
   * The compaction recorded in compact_rev_key (by this or another kube-apiserver-style compactor), or a
   * later one learnt from a Compacted answer. A compaction made behind our back (etcdctl) shows up only as
   * Compacted errors.
   */
  async compactedRevision(): Promise<number> {
    const res = await this.range({ key: Buffer.from(COMPACT_REV_KEY) });
    const recorded = Number(res.kvs[0]?.value.toString() ?? 0) || 0;
    this.knownCompacted = Math.max(this.knownCompacted, recorded);
    return this.knownCompacted;
  }

  /** Compacts etcd's history before `revision` (reads and watches from before it fail with Compacted). */
  async compact(revision: number): Promise<void> {
    await this.txn({ success: [{ put: { key: Buffer.from(COMPACT_REV_KEY), value: Buffer.from(String(revision)) } }] });
    await this.compactEtcd(revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopCompactor.abort();
    for (const w of [...this.watches]) w.fail(storageClosed());
    this.client.close();
  }

  // ---- internals shared with EtcdWatch ----

  /** @internal */ k(key: string): Buffer {
    return Buffer.from(this.prefix + key);
  }

  /** @internal */ rangeStart(prefix: string): Buffer {
    // etcd reads key "\0" with range end "\0" as the whole keyspace.
    const k = this.k(prefix);
    return k.length > 0 ? k : Buffer.from([0]);
  }

  /** @internal */ rangeEnd(prefix: string): Buffer {
    return prefixEnd(this.k(prefix));
  }

  /** @internal */ unprefix(key: Buffer): string {
    const s = key.toString('utf8');
    return s.startsWith(this.prefix) ? s.slice(this.prefix.length) : s;
  }

  /** @internal */ openWatchStream(handlers: { onResponse(res: WatchResponse): void; onEnd(err: StorageError): void }): Promise<GrpcStream> {
    return this.client.stream('/etcdserverpb.Watch/Watch', {
      onMessage: (m) => {
        let res: WatchResponse;
        try {
          res = decodeWatchResponse(m);
        } catch (err) {
          return handlers.onEnd(this.mapError(err));
        }
        handlers.onResponse(res);
      },
      onEnd: (err) => handlers.onEnd(err ? this.mapError(err) : new StorageError('Unavailable', 'the etcd watch stream ended')),
    });
  }

  /** @internal */ forget(w: EtcdWatch): void {
    this.watches.delete(w);
  }

  /** @internal */ noteCompacted(revision: number): void {
    this.knownCompacted = Math.max(this.knownCompacted, revision);
  }

  /** @internal */ mapError(err: unknown, revision?: number): StorageError {
    if (err instanceof StorageError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof EtcdCallError && /required revision has been compacted/.test(message)) {
      return compacted(revision ?? 0, this.knownCompacted);
    }
    return new StorageError('Unavailable', `etcd: ${message}`, { cause: err });
  }

  private toStored(kv: KeyValue): StoredValue {
    return {
      key: this.unprefix(kv.key),
      value: kv.value.toString('utf8'),
      createRevision: kv.createRevision,
      modRevision: kv.modRevision,
    };
  }

  /** One Range call; `revision` is what a Compacted answer reports as asked for. */
  private async range(req: RangeRequest, revision?: number): Promise<RangeResponse> {
    if (this.closed) throw storageClosed();
    try {
      return await this.client.unary('/etcdserverpb.KV/Range', encodeRangeRequest(req), decodeRangeResponse, true);
    } catch (err) {
      throw this.mapError(err, revision);
    }
  }

  /** One transaction; `writes` says whether it may change etcd (then it is never sent twice). */
  private async txn(req: TxnRequest, writes = true): Promise<TxnResponse> {
    if (this.closed) throw storageClosed();
    try {
      return await this.client.unary('/etcdserverpb.KV/Txn', encodeTxnRequest(req), decodeTxnResponse, !writes);
    } catch (err) {
      throw this.mapError(err);
    }
  }

  /** A write under its compares, in a transaction of its own (etcd-batch.ts). */
  private write(key: Buffer, conditions: Condition[], request: RequestOp): Promise<WriteResult> {
    return conditionalWrite((req) => this.txn(req), key, conditions, request);
  }

  private async compactEtcd(revision: number): Promise<void> {
    try {
      await this.client.unary('/etcdserverpb.KV/Compact', encodeCompactionRequest(revision), decodeCompactionResponse, true);
      this.noteCompacted(revision);
    } catch (err) {
      // Someone compacted at or beyond this revision already: the goal is met.
      if (!/required revision has been compacted/.test(String(err))) throw this.mapError(err);
    }
  }

  /**
   * kube-apiserver's compactor (storage/etcd3/compact.go): every interval, the replica whose transaction on
   * compact_rev_key wins compacts to the revision it saw one interval earlier, so at least one interval of
   * history stays watchable and replicas do not compact twice.
   */
  private async runCompactor(intervalMs: number, clock: Clock): Promise<void> {
    let version = 0;
    let rev = 0;
    const key = Buffer.from(COMPACT_REV_KEY);
    await repeatEvery(clock, intervalMs, this.stopCompactor.signal, async () => {
      const res = await this.txn({
        compare: [{ key, target: 'Version', result: 'Equal', operand: version }],
        success: [{ put: { key, value: Buffer.from(String(rev)) } }],
        failure: [{ range: { key } }],
      });
      const current = res.revision;
      if (!res.succeeded) {
        // Another replica compacted this interval: take its count and try again next time.
        version = res.responses[0]?.range?.kvs[0]?.version ?? 0;
      } else {
        version += 1;
        if (rev > 0) await this.compactEtcd(rev);
      }
      rev = current;
    });
  }
}

class EtcdWatch implements WatchHandle {
  private stream: GrpcStream | undefined;
  private done = false;

  constructor(
    private readonly store: EtcdStorage,
    private readonly prefix: string,
    private readonly options: WatchOptions,
  ) {}

  start(): void {
    this.store.openWatchStream({ onResponse: (res) => this.onResponse(res), onEnd: (err) => this.fail(err) }).then(
      (stream) => {
        if (this.done) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        stream.send(
          encodeWatchCreate({
            key: this.store.rangeStart(this.prefix),
            rangeEnd: this.store.rangeEnd(this.prefix),
            startRevision: this.options.afterRevision + 1,
            prevKv: true,
            progressNotify: this.options.onProgress !== undefined,
          }),
        );
      },
      (err: unknown) => this.fail(this.store.mapError(err)),
    );
  }

  private onResponse(res: WatchResponse): void {
    if (this.done) return;
    const compactRevision = res.compactRevision;
    if (compactRevision > 0) {
      this.store.noteCompacted(compactRevision);
      this.fail(compacted(this.options.afterRevision, compactRevision));
      return;
    }
    if (res.canceled) {
      this.fail(new StorageError('Unavailable', `etcd canceled the watch: ${res.cancelReason || 'no reason given'}`));
      return;
    }
    if (res.events.length === 0) {
      // Neither the creation answer nor events: a progress notification (all events up to it were sent).
      if (!res.created) this.options.onProgress?.(res.revision);
      return;
    }
    for (const ev of res.events) {
      if (this.done) return;
      this.options.onEvent(this.toEvent(ev));
    }
  }

  private toEvent(ev: WatchEventMessage): WatchEvent {
    const key = this.store.unprefix(ev.kv.key);
    const revision = ev.kv.modRevision;
    const prevValue = ev.prevKv ? ev.prevKv.value.toString('utf8') : undefined;
    if (ev.type === 'Delete') return prevValue === undefined ? { type: 'delete', key, revision } : { type: 'delete', key, revision, prevValue };
    const out: WatchEvent = { type: 'put', key, value: ev.kv.value.toString('utf8'), revision, createRevision: ev.kv.createRevision };
    if (prevValue !== undefined) out.prevValue = prevValue;
    return out;
  }

  /** Ends the watch with an error (called at most once; nothing is delivered afterwards). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.stream?.cancel();
    this.store.forget(this);
    this.options.onError(err);
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.stream?.cancel();
    this.store.forget(this);
  }
}

/** etcd's range end for a prefix: the prefix with its last byte incremented (trailing 0xff bytes dropped). */
function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  // An empty prefix (or all 0xff): "\0" means "to the end of the keyspace".
  return Buffer.from([0]);
}

function readTlsFile(file: string | undefined, what: string): Buffer {
  if (file === undefined) throw new KubepkiError('InvalidConfig', `the etcd ${what} file is not set`);
  try {
    return readFileSync(file);
  } catch (err) {
    throw new KubepkiError('FileMissing', `cannot read the etcd ${what} file ${file}: ${(err as Error).message}`, { cause: err });
  }
}
