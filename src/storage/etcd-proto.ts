// The protobuf wire format of the etcd v3 messages kubepki sends and reads (etcdserverpb and mvccpb of
// etcd's api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto; field numbers below are theirs), written out by
// hand: a dozen small messages do not justify a protobuf runtime and .proto files read from disk at start.
// int64 fields are JavaScript numbers: etcd revisions, versions and counts stay far below 2^53.

export interface KeyValue {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

export interface RangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  limit?: number;
  revision?: number;
  keysOnly?: boolean;
  countOnly?: boolean;
}
export interface RangeResponse {
  revision: number;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key: Buffer;
  value: Buffer;
}
export interface DeleteRangeRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  prevKv?: boolean;
}
export interface DeleteRangeResponse {
  deleted: number;
  prevKvs: KeyValue[];
}

/** One operation of a transaction branch (RequestOp's oneof). */
export type RequestOp = { range: RangeRequest } | { put: PutRequest } | { deleteRange: DeleteRangeRequest };
/** Its answer: the field of the operation that ran. */
export interface ResponseOp {
  range?: RangeResponse;
  deleteRange?: DeleteRangeResponse;
}

/** A transaction's guard: the key's version, create or mod revision compared with a number. */
export interface Compare {
  key: Buffer;
  target: 'Version' | 'Create' | 'Mod';
  result: 'Equal' | 'Greater' | 'Less' | 'NotEqual';
  operand: number;
}
export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}
export interface TxnResponse {
  revision: number;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface WatchCreateRequest {
  key: Buffer;
  rangeEnd?: Buffer;
  startRevision?: number;
  progressNotify?: boolean;
  prevKv?: boolean;
}
export interface WatchEventMessage {
  type: 'Put' | 'Delete';
  kv: KeyValue;
  prevKv?: KeyValue;
}
export interface WatchResponse {
  revision: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  events: WatchEventMessage[];
}

const COMPARE_RESULT = { Equal: 0, Greater: 1, Less: 2, NotEqual: 3 } as const;
// Compare's target enum, and the field of its target_union oneof that carries the operand.
const COMPARE_TARGET = { Version: [0, 4], Create: [1, 5], Mod: [2, 6] } as const;

const VARINT = 0;
const LEN = 2;

/**
 * Writes one gRPC-framed message (a zero compression flag, the big-endian length, the protobuf fields) into a
 * scratch buffer shared by all encoders (encoding is synchronous) and returns a copy of exactly its size: one
 * allocation per request. A nested message is written in place after a one-byte length, moved right if its
 * length turns out to need more bytes.
 */
class Writer {
  private static scratch = Buffer.allocUnsafe(64 * 1024);
  private buf = Writer.scratch;
  private pos = 5;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    Writer.scratch = next;
  }

  private varint(n: number): void {
    this.room(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  /** An integer field; proto3 leaves zero out unless the field is a oneof member (`always`). */
  uint(field: number, n: number | undefined, always = false): void {
    if (n === undefined || (n === 0 && !always)) return;
    if (n < 0 || !Number.isSafeInteger(n)) throw new RangeError(`etcd field ${field}: ${n} is not a non-negative integer`);
    this.varint((field << 3) | VARINT);
    this.varint(n);
  }

  bool(field: number, b: boolean | undefined): void {
    if (b) this.uint(field, 1);
  }

  bytes(field: number, b: Uint8Array | undefined): void {
    if (b === undefined || b.length === 0) return;
    this.varint((field << 3) | LEN);
    this.varint(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A nested message, its fields written by `fill`. */
  message(field: number, fill: (w: Writer) => void): void {
    this.varint((field << 3) | LEN);
    this.room(1);
    const lengthAt = this.pos++;
    fill(this);
    const len = this.pos - lengthAt - 1;
    if (len < 0x80) {
      this.buf[lengthAt] = len;
      return;
    }
    let size = 1;
    for (let n = len; n >= 0x80; n = Math.floor(n / 0x80)) size++;
    this.room(size - 1);
    this.buf.copyWithin(lengthAt + size, lengthAt + 1, this.pos);
    this.pos = lengthAt;
    this.varint(len);
    this.pos += len;
  }

  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    out[0] = 0;
    out.writeUInt32BE(this.pos - 5, 1);
    return out;
  }
}

function writeRange(w: Writer, r: RangeRequest): void {
  w.bytes(1, r.key);
  w.bytes(2, r.rangeEnd);
  w.uint(3, r.limit);
  w.uint(4, r.revision);
  w.bool(8, r.keysOnly);
  w.bool(9, r.countOnly);
}

function writeRequestOp(w: Writer, op: RequestOp): void {
  if ('range' in op) w.message(1, (m) => writeRange(m, op.range));
  else if ('put' in op) {
    w.message(2, (m) => {
      m.bytes(1, op.put.key);
      m.bytes(2, op.put.value);
    });
  } else {
    w.message(3, (m) => {
      m.bytes(1, op.deleteRange.key);
      m.bytes(2, op.deleteRange.rangeEnd);
      m.bool(3, op.deleteRange.prevKv);
    });
  }
}

// The encoders return the message framed for gRPC (etcd-grpc.ts sends it as is).

export function encodeRangeRequest(r: RangeRequest): Buffer {
  const w = new Writer();
  writeRange(w, r);
  return w.finish();
}

export function encodeTxnRequest(t: TxnRequest): Buffer {
  const w = new Writer();
  for (const c of t.compare ?? []) {
    w.message(1, (m) => {
      const [target, operandField] = COMPARE_TARGET[c.target];
      m.uint(1, COMPARE_RESULT[c.result]);
      m.uint(2, target);
      m.bytes(3, c.key);
      m.uint(operandField, c.operand, true);
    });
  }
  for (const op of t.success ?? []) w.message(2, (m) => writeRequestOp(m, op));
  for (const op of t.failure ?? []) w.message(3, (m) => writeRequestOp(m, op));
  return w.finish();
}

export function encodeCompactionRequest(revision: number): Buffer {
  const w = new Writer();
  w.uint(1, revision);
  return w.finish();
}

/** A WatchRequest carrying a create_request. */
export function encodeWatchCreate(c: WatchCreateRequest): Buffer {
  const w = new Writer();
  w.message(1, (m) => {
    m.bytes(1, c.key);
    m.bytes(2, c.rangeEnd);
    m.uint(3, c.startRevision);
    m.bool(4, c.progressNotify);
    m.bool(6, c.prevKv);
  });
  return w.finish();
}

/** Reads the fields of one message from buf[start, end). */
class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  more(): boolean {
    return this.pos < this.end;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) break;
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new Error('malformed etcd response: truncated varint');
  }

  /** The next field's number and wire type. */
  tag(): [field: number, type: number] {
    const t = this.varint();
    return [Math.floor(t / 8), t & 7];
  }

  /** A length-delimited field: its [start, end) in buf. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    this.pos += len;
    if (this.pos > this.end) throw new Error('malformed etcd response: field past the end of its message');
    return [start, this.pos];
  }

  bytes(): Buffer {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  sub(): Reader {
    const [s, e] = this.span();
    return new Reader(this.buf, s, e);
  }

  skip(type: number): void {
    if (type === VARINT) this.varint();
    else if (type === LEN) this.span();
    else if (type === 1) this.pos += 8;
    else if (type === 5) this.pos += 4;
    else throw new Error(`malformed etcd response: wire type ${type}`);
  }
}

function readHeaderRevision(r: Reader): number {
  let revision = 0;
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 3 && t === VARINT) revision = r.varint();
    else r.skip(t);
  }
  return revision;
}

function readKeyValue(r: Reader): KeyValue {
  const kv: KeyValue = { key: EMPTY, value: EMPTY, createRevision: 0, modRevision: 0, version: 0 };
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) kv.key = r.bytes();
    else if (f === 2 && t === VARINT) kv.createRevision = r.varint();
    else if (f === 3 && t === VARINT) kv.modRevision = r.varint();
    else if (f === 4 && t === VARINT) kv.version = r.varint();
    else if (f === 5 && t === LEN) kv.value = r.bytes();
    else r.skip(t);
  }
  return kv;
}
const EMPTY = Buffer.alloc(0);

function readRange(r: Reader): RangeResponse {
  const res: RangeResponse = { revision: 0, kvs: [], more: false, count: 0 };
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) res.revision = readHeaderRevision(r.sub());
    else if (f === 2 && t === LEN) res.kvs.push(readKeyValue(r.sub()));
    else if (f === 3 && t === VARINT) res.more = r.varint() !== 0;
    else if (f === 4 && t === VARINT) res.count = r.varint();
    else r.skip(t);
  }
  return res;
}

function readDeleteRange(r: Reader): DeleteRangeResponse {
  const res: DeleteRangeResponse = { deleted: 0, prevKvs: [] };
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 2 && t === VARINT) res.deleted = r.varint();
    else if (f === 3 && t === LEN) res.prevKvs.push(readKeyValue(r.sub()));
    else r.skip(t);
  }
  return res;
}

function readResponseOp(r: Reader): ResponseOp {
  const op: ResponseOp = {};
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) op.range = readRange(r.sub());
    else if (f === 3 && t === LEN) op.deleteRange = readDeleteRange(r.sub());
    else r.skip(t); // a put's answer (header, no prev_kv asked) carries nothing kubepki reads
  }
  return op;
}

export function decodeRangeResponse(buf: Buffer): RangeResponse {
  return readRange(new Reader(buf, 0, buf.length));
}

export function decodeTxnResponse(buf: Buffer): TxnResponse {
  const r = new Reader(buf, 0, buf.length);
  const res: TxnResponse = { revision: 0, succeeded: false, responses: [] };
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) res.revision = readHeaderRevision(r.sub());
    else if (f === 2 && t === VARINT) res.succeeded = r.varint() !== 0;
    else if (f === 3 && t === LEN) res.responses.push(readResponseOp(r.sub()));
    else r.skip(t);
  }
  return res;
}

/** A CompactionResponse: only its header's revision. */
export function decodeCompactionResponse(buf: Buffer): { revision: number } {
  const r = new Reader(buf, 0, buf.length);
  let revision = 0;
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) revision = readHeaderRevision(r.sub());
    else r.skip(t);
  }
  return { revision };
}

function readEvent(r: Reader): WatchEventMessage {
  let type: WatchEventMessage['type'] = 'Put';
  let kv: KeyValue | undefined;
  let prevKv: KeyValue | undefined;
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === VARINT) type = r.varint() === 1 ? 'Delete' : 'Put';
    else if (f === 2 && t === LEN) kv = readKeyValue(r.sub());
    else if (f === 3 && t === LEN) prevKv = readKeyValue(r.sub());
    else r.skip(t);
  }
  if (!kv) throw new Error('malformed etcd response: a watch event without its key-value');
  return prevKv ? { type, kv, prevKv } : { type, kv };
}

export function decodeWatchResponse(buf: Buffer): WatchResponse {
  const r = new Reader(buf, 0, buf.length);
  const res: WatchResponse = { revision: 0, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] };
  while (r.more()) {
    const [f, t] = r.tag();
    if (f === 1 && t === LEN) res.revision = readHeaderRevision(r.sub());
    else if (f === 3 && t === VARINT) res.created = r.varint() !== 0;
    else if (f === 4 && t === VARINT) res.canceled = r.varint() !== 0;
    else if (f === 5 && t === VARINT) res.compactRevision = r.varint();
    else if (f === 6 && t === LEN) res.cancelReason = r.bytes().toString('utf8');
    else if (f === 11 && t === LEN) res.events.push(readEvent(r.sub()));
    else r.skip(t);
  }
  return res;
}
