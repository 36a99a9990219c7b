// Reads of one event-loop turn go to etcd as one read-only transaction of ranges (linearizable, as a range
// is) instead of one gRPC call each: a transaction of 64 ranges costs the API server little more CPU than one
// range (bench/etcd-client.ts).
//
// Writes are NOT grouped. etcd gives every key of a transaction the same mod revision, so writes committed
// together would share a resourceVersion, and a watcher that resumes from the first of them (as a reflector
// does after a dropped stream: "events after RV n") would never see the others. kube-apiserver writes one key
// per transaction for the same reason; so does kubepki. A write is its compares (create revision > 0, mod
// revision = n, ...) and one put or delete on its key, with a keys-only read of the key when a compare fails,
// so that the caller can answer AlreadyExists, NotFound or Conflict.
import { StorageError } from './errors.js';
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnRequest, TxnResponse } from './etcd-proto.js';

/** One term of a write's compare: the key's create or mod revision, equal to or greater than a number. */
export interface Condition {
  target: 'Create' | 'Mod';
  result: 'Equal' | 'Greater';
  revision: number;
}

export type WriteResult =
  | { succeeded: true; revision: number; response: ResponseOp }
  | { succeeded: false; revision: number; /** the key as it was (keys only), if it existed */ kv: KeyValue | undefined };

interface Read {
  key: Buffer;
  resolve: (r: { revision: number; kv: KeyValue | undefined }) => void;
  reject: (err: unknown) => void;
}

// etcd's default --max-txn-ops: at most 128 ranges per read transaction.
const MAX_OPS = 128;

/** One write under its compares, in a transaction of its own (see above for why never grouped). */
export async function conditionalWrite(
  send: (req: TxnRequest) => Promise<TxnResponse>,
  key: Buffer,
  conditions: Condition[],
  request: RequestOp,
): Promise<WriteResult> {
  const res = await send({
    compare: conditions.map((c) => toCompare(key, c)),
    success: [request],
    failure: [{ range: { key, keysOnly: true } }],
  });
  const revision = res.revision;
  if (res.succeeded) return { succeeded: true, revision, response: res.responses[0]! };
  const kv = res.responses[0]?.range?.kvs[0];
  // etcd refused a compare that holds on the key as it is: never report a made-up answer.
  if (conditions.every((c) => holds(c, kv))) throw new StorageError('Unavailable', 'etcd refused a transaction whose compares hold');
  return { succeeded: false, revision, kv };
}

export class EtcdReadBatcher {
  private reads: Read[] = [];
  private scheduled = false;

  constructor(
    /** Sends one transaction (the caller maps transport errors). */
    private readonly send: (req: TxnRequest) => Promise<TxnResponse>,
  ) {}

  /** The key's current value (or undefined), read in this turn's read-only transaction. */
  read(key: Buffer): Promise<{ revision: number; kv: KeyValue | undefined }> {
    return new Promise((resolve, reject) => {
      if (this.reads.length >= MAX_OPS) this.flushReads();
      this.reads.push({ key, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After this turn's I/O callbacks: reads that arrived together share a transaction.
      setImmediate(() => {
        this.scheduled = false;
        this.flushReads();
      });
    });
  }

  private flushReads(): void {
    const batch = this.reads;
    if (batch.length === 0) return;
    this.reads = [];
    this.send({ success: batch.map((r) => ({ range: { key: r.key } })) }).then(
      (res) => {
        const revision = res.revision;
        batch.forEach((r, i) => r.resolve({ revision, kv: res.responses[i]?.range?.kvs[0] }));
      },
      (err: unknown) => batch.forEach((r) => r.reject(err)),
    );
  }
}

function holds(c: Condition, kv: KeyValue | undefined): boolean {
  const actual = kv ? (c.target === 'Mod' ? kv.modRevision : kv.createRevision) : 0;
  return c.result === 'Equal' ? actual === c.revision : actual > c.revision;
}

function toCompare(key: Buffer, c: Condition): Compare {
  return { key, target: c.target, result: c.result, operand: c.revision };
}
