// A minimal HTTP/2 client connection (RFC 9113) for gRPC to etcd, over one TCP or TLS socket: client streams of
// HEADERS and DATA, responses of header blocks and DATA, flow control both ways, PING, SETTINGS, GOAWAY and
// RST_STREAM. No server push, priorities or padding on the sending side.
//
// Why not node:http2: through it, each call paid ~35 µs of this process's CPU just to open its stream (an
// AsyncResource, two deprecation wrappers and a stream object per request) and as much again in stream events
// for the answer — more than the rest of a create's etcd work together (bench/etcd-client.ts). Here a call is
// a stream record, one buffer of two frames and a few callbacks; the frames of all calls made in one event-loop
// turn leave in one socket write.
import net from 'node:net';
import tls from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import { HpackDecoder, grpcRequestBlock } from './etcd-hpack.js';
import { socketHost } from '../util/socket-host.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 } as const;
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FLOW_CONTROL_ERROR: 3, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9 } as const;
const DEFAULT_WINDOW = 65_535;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** etcd's answers carry a few short headers and trailers (grpc-status, grpc-message); 1 MiB is far above them. */
const MAX_HEADER_BLOCK = 1 << 20;

/** A failure of the connection or of one stream (no answer from the application). */
export class Http2Error extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Http2Error';
  }
}

export interface Http2StreamHandlers {
  /** A header block: the response headers, then possibly trailers (`endStream` on the last). */
  onHeaders(headers: Record<string, string>, endStream: boolean): void;
  /** A piece of the body (a view of the received bytes, valid until the call returns unless copied or kept). */
  onData(chunk: Buffer): void;
  /** The stream is over: ended by the peer (undefined), reset by it or lost with the connection. Once. */
  onClose(err: Http2Error | undefined): void;
}

export interface Http2ConnectionOptions {
  /** http://host:port or https://host:port. */
  url: string;
  tls?: Pick<SecureContextOptions, 'ca' | 'cert' | 'key'>;
  /** Receive window of the connection and of each stream (large answers flow without waiting). */
  window: number;
  /** The connection is gone (with why), after every stream was told. */
  onClose(err: Http2Error): void;
  /** The peer sent GOAWAY: no new streams on this connection. */
  onGoaway(): void;
  /** The connection fails if the socket (TLS included) is not up by then: an address that drops SYNs otherwise
   * holds every call for the kernel's connect timeout (minutes). */
  connectTimeoutMs?: number;
  /**
   * gRPC's client keepalive (kube-apiserver gives etcd's client 30 s / 10 s): while streams are open, a PING
   * every `intervalMs`; one not answered within `timeoutMs` ends the connection, so a watch on a peer that
   * vanished without closing (TCP may not notice for many minutes) ends and is opened again elsewhere.
   */
  keepalive?: { intervalMs: number; timeoutMs: number };
}

class Stream {
  /** 0 until the stream is opened (it may wait for the peer's concurrent-stream limit). */
  id = 0;
  sendWindow: number;
  recvUnacked = 0;
  /** Body bytes waiting for send window, and whether END_STREAM follows them. */
  queue: Buffer[] = [];
  ending = false;
  localEnded = false;
  constructor(
    readonly path: string,
    readonly handlers: Http2StreamHandlers,
    sendWindow: number,
  ) {
    this.sendWindow = sendWindow;
  }
}

export class Http2Stream {
  constructor(
    private readonly conn: Http2Connection,
    /** @internal */ readonly s: Stream,
  ) {}
  /** Sends body bytes (more may follow). */
  write(data: Buffer): void {
    this.conn.send(this.s, data, false);
  }
  /** Ends this side of the stream (optionally with a last piece of body). */
  end(data?: Buffer): void {
    this.conn.send(this.s, data, true);
  }
  /** RST_STREAM CANCEL: the stream is dropped and none of its handlers run again. */
  cancel(): void {
    this.conn.reset(this.s, H2_ERROR.CANCEL);
  }
}

export class Http2Connection {
  /** Resolves once the socket is up (TLS handshake and ALPN h2 included) and the preface is out. */
  readonly ready: Promise<void>;
  private readonly socket: net.Socket;
  private readonly scheme: 'http' | 'https';
  private readonly authority: string;
  private readonly blocks = new Map<string, Buffer>();
  private readonly streams = new Map<number, Stream>();
  private readonly decoder = new HpackDecoder();
  private nextId = 1;
  private connected = false;
  private closedWith: Http2Error | undefined;
  /** GOAWAY received, close() called or stream ids used up: no new streams. */
  private draining = false;
  // Peer settings and our send windows.
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private peerMaxStreams = Infinity;
  private readonly waiting: Stream[] = [];
  private recvUnacked = 0;
  // Reading: bytes of an incomplete frame, a header block in progress (HEADERS + CONTINUATION).
  private pending: Buffer | undefined;
  private block: { id: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  // Writing: frames of this turn, sent together.
  private out: Buffer[] = [];
  private flushScheduled = false;
  private readonly pings: ((err: Error | undefined) => void)[] = [];
  private keepalivePending = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: Http2ConnectionOptions) {
    const url = new URL(o.url);
    this.scheme = url.protocol === 'https:' ? 'https' : 'http';
    this.authority = url.host;
    const host = socketHost(url);
    const port = Number(url.port || (this.scheme === 'https' ? 443 : 80));
    this.socket =
      this.scheme === 'https'
        ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ALPNProtocols: ['h2'], ...o.tls })
        : net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      const up = () => {
        if (this.scheme === 'https' && (this.socket as tls.TLSSocket).alpnProtocol !== 'h2') {
          this.destroy(new Http2Error(`${o.url} did not negotiate HTTP/2 (ALPN h2)`));
          return;
        }
        this.connected = true;
        this.start();
        const k = o.keepalive;
        if (k) {
          this.keepaliveTimer = setInterval(() => this.keepaliveRound(k.timeoutMs), k.intervalMs);
          this.keepaliveTimer.unref();
        }
        resolve();
      };
      this.socket.once(this.scheme === 'https' ? 'secureConnect' : 'connect', up);
      this.socket.once('close', () => reject(this.closedWith ?? new Http2Error(`${o.url}: connection closed`)));
    });
    this.ready.catch(() => undefined);
    if (o.connectTimeoutMs !== undefined) {
      const timer = setTimeout(() => {
        if (!this.connected) this.destroy(new Http2Error(`${o.url}: no connection within ${o.connectTimeoutMs} ms`));
      }, o.connectTimeoutMs);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
      void this.ready.then(() => clearTimeout(timer), () => undefined);
    }
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.destroy(new Http2Error(`${o.url}: ${err.message}`, { cause: err })));
    this.socket.on('close', () => this.destroy(new Http2Error(`${o.url}: connection closed`)));
  }

  /** Up and taking new streams. */
  get usable(): boolean {
    return this.connected && !this.draining && this.closedWith === undefined;
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** Opens a stream: POST of gRPC `path`; `body` with `end` sends the whole request at once. */
  request(path: string, handlers: Http2StreamHandlers, body?: Buffer, end = false): Http2Stream {
    const s = new Stream(path, handlers, this.peerInitialWindow);
    const stream = new Http2Stream(this, s);
    if (this.closedWith || this.draining) {
      const err = this.closedWith ?? new Http2Error(`${this.o.url}: the connection takes no new streams`);
      queueMicrotask(() => handlers.onClose(err));
      return stream;
    }
    if (body) s.queue.push(body);
    s.ending = end;
    if (this.streams.size >= this.peerMaxStreams) this.waiting.push(s);
    else this.open(s);
    return stream;
  }

  /** Sends a PING; `cb` runs with its ACK, or with an error if the connection ends first. */
  ping(cb: (err: Error | undefined) => void): boolean {
    if (this.closedWith || !this.connected) return false;
    this.pings.push(cb);
    this.frame(FRAME.PING, 0, 0, Buffer.alloc(8));
    return true;
  }

  /** The keepalive's round: a PING while streams are open, the connection ended when it goes unanswered. */
  private keepaliveRound(timeoutMs: number): void {
    if (this.closedWith || this.streams.size === 0 || this.keepalivePending) return;
    this.keepalivePending = true;
    const timer = setTimeout(() => this.destroy(new Http2Error(`${this.o.url}: keepalive PING not answered within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    this.ping(() => {
      clearTimeout(timer);
      this.keepalivePending = false;
    });
  }

  /** No new streams; the socket closes when the open ones are done. */
  close(): void {
    this.draining = true;
    if (this.streams.size === 0 && this.waiting.length === 0) this.destroy(new Http2Error(`${this.o.url}: connection closed`));
  }

  /** Ends the connection now: every open stream ends with `err`. */
  destroy(err: Http2Error = new Http2Error(`${this.o.url}: connection closed`)): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.draining = true;
    if (this.out.length > 0 && this.connected) this.flush();
    this.socket.destroy();
    clearInterval(this.keepaliveTimer);
    const all = [...this.streams.values(), ...this.waiting];
    this.streams.clear();
    this.waiting.length = 0;
    for (const s of all) s.handlers.onClose(err);
    for (const p of this.pings.splice(0)) p(err);
    this.o.onClose(err);
  }

  // ---- streams ----

  private open(s: Stream): void {
    if (this.nextId > MAX_STREAM_ID) {
      // Stream ids used up: this connection drains and the caller's next call opens a new one.
      this.draining = true;
      this.o.onGoaway();
      queueMicrotask(() => s.handlers.onClose(new Http2Error(`${this.o.url}: stream ids exhausted`)));
      return;
    }
    s.id = this.nextId;
    this.nextId += 2;
    s.sendWindow = this.peerInitialWindow;
    this.streams.set(s.id, s);
    let block = this.blocks.get(s.path);
    if (!block) {
      block = grpcRequestBlock(this.scheme, this.authority, s.path);
      this.blocks.set(s.path, block);
    }
    const noBody = s.ending && s.queue.length === 0;
    this.frame(FRAME.HEADERS, FLAG.END_HEADERS | (noBody ? FLAG.END_STREAM : 0), s.id, block);
    if (noBody) s.localEnded = true;
    else this.pump(s);
  }

  /** @internal Queues body bytes of a stream (and its end), sending what the windows allow. */
  send(s: Stream, data: Buffer | undefined, end: boolean): void {
    if (s.localEnded || s.ending || this.closedWith) return;
    if (data && data.length > 0) s.queue.push(data);
    if (end) s.ending = true;
    if (s.id !== 0 && this.streams.get(s.id) === s) this.pump(s);
  }

  private pump(s: Stream): void {
    while (s.queue.length > 0) {
      const room = Math.min(this.sendWindow, s.sendWindow, this.peerMaxFrame);
      if (room <= 0) return;
      let chunk = s.queue[0]!;
      if (chunk.length > room) {
        s.queue[0] = chunk.subarray(room);
        chunk = chunk.subarray(0, room);
      } else s.queue.shift();
      this.sendWindow -= chunk.length;
      s.sendWindow -= chunk.length;
      const last = s.ending && s.queue.length === 0;
      this.frame(FRAME.DATA, last ? FLAG.END_STREAM : 0, s.id, chunk);
      if (last) s.localEnded = true;
    }
    if (s.ending && !s.localEnded) {
      this.frame(FRAME.DATA, FLAG.END_STREAM, s.id, EMPTY);
      s.localEnded = true;
    }
  }

  /** @internal RST_STREAM and forget the stream (no handler runs again). */
  reset(s: Stream, code: number): void {
    const i = this.waiting.indexOf(s);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      return;
    }
    if (s.id === 0 || this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    if (!this.closedWith) this.frame(FRAME.RST_STREAM, 0, s.id, u32(code));
    this.startWaiting();
  }

  private finish(s: Stream, err: Http2Error | undefined): void {
    if (this.streams.get(s.id) !== s) return;
    this.streams.delete(s.id);
    // The peer ended its side while ours is open (a watch etcd ended): nothing more will be read.
    if (!err && !s.localEnded) this.frame(FRAME.RST_STREAM, 0, s.id, u32(H2_ERROR.NO_ERROR));
    s.handlers.onClose(err);
    this.startWaiting();
    if (this.draining && this.streams.size === 0 && this.waiting.length === 0) this.destroy(new Http2Error(`${this.o.url}: connection closed`));
  }

  private startWaiting(): void {
    while (this.waiting.length > 0 && this.streams.size < this.peerMaxStreams && !this.closedWith) {
      const s = this.waiting.shift()!;
      this.open(s);
    }
  }

  // ---- writing ----

  private start(): void {
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(SETTING.ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTING.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(this.o.window, 8);
    this.out.unshift(PREFACE, frameOf(FRAME.SETTINGS, 0, 0, settings), frameOf(FRAME.WINDOW_UPDATE, 0, 0, u32(this.o.window - DEFAULT_WINDOW)));
    this.schedule();
  }

  private frame(type: number, flags: number, id: number, payload: Buffer): void {
    if (payload.length <= 256) this.out.push(frameOf(type, flags, id, payload));
    else this.out.push(frameHead(payload.length, type, flags, id), payload);
    this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled || !this.connected) return;
    this.flushScheduled = true;
    // After this turn's I/O callbacks: the frames of every call made in the turn leave in one write.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.out.length === 0 || this.socket.destroyed) return;
    const out = this.out;
    this.out = [];
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  // ---- reading ----

  private onData(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let pos = 0;
    try {
      while (buf.length - pos >= 9) {
        const len = buf.readUIntBE(pos, 3);
        // This side announces no SETTINGS_MAX_FRAME_SIZE: the default, 16 kB, bounds what the peer sends.
        if (len > 16_384) throw new Http2Error(`a frame of ${len} bytes, above the 16384 allowed`);
        if (buf.length - pos < 9 + len) break;
        const type = buf[pos + 3]!;
        const flags = buf[pos + 4]!;
        const id = buf.readUInt32BE(pos + 5) & 0x7fffffff;
        const payload = buf.subarray(pos + 9, pos + 9 + len);
        pos += 9 + len;
        this.onFrame(type, flags, id, payload);
        if (this.closedWith) return;
      }
    } catch (err) {
      // What the peer sent breaks the protocol: the connection ends. Anything else came from a handler and is
      // not this connection's to hide.
      if (!(err instanceof Http2Error)) throw err;
      this.protocolError(err.message);
      return;
    }
    if (pos < buf.length) this.pending = buf.subarray(pos);
  }

  private protocolError(message: string): void {
    if (this.closedWith) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(0, 0);
    payload.writeUInt32BE(H2_ERROR.PROTOCOL_ERROR, 4);
    this.frame(FRAME.GOAWAY, 0, 0, payload);
    this.destroy(new Http2Error(`${this.o.url}: HTTP/2 protocol error: ${message}`));
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer): void {
    if (this.block && type !== FRAME.CONTINUATION) throw new Http2Error('a header block was interrupted');
    switch (type) {
      case FRAME.DATA:
        return this.onDataFrame(flags, id, payload);
      case FRAME.HEADERS: {
        let start = 0;
        let end = payload.length;
        if (flags & FLAG.PADDED) end -= payload.length > 0 ? payload[start++]! : 1;
        if (flags & FLAG.PRIORITY) start += 5;
        if (start > end) throw new Http2Error('HEADERS padding past its frame');
        this.block = { id, endStream: (flags & FLAG.END_STREAM) !== 0, parts: [payload.subarray(start, end)], size: end - start };
        if (flags & FLAG.END_HEADERS) this.endBlock();
        return;
      }
      case FRAME.CONTINUATION:
        if (!this.block || this.block.id !== id) throw new Http2Error('CONTINUATION without its HEADERS');
        this.block.parts.push(payload);
        // A header block is held whole until it ends: bounded, so an endless CONTINUATION run cannot grow it.
        this.block.size += payload.length;
        if (this.block.size > MAX_HEADER_BLOCK) throw new Http2Error(`a header block above ${MAX_HEADER_BLOCK} bytes`);
        if (flags & FLAG.END_HEADERS) this.endBlock();
        return;
      case FRAME.RST_STREAM: {
        if (payload.length !== 4) throw new Http2Error('RST_STREAM of a size other than 4');
        const s = this.streams.get(id);
        if (s) this.finish(s, new Http2Error(`${this.o.url}: stream reset by the server (HTTP/2 error ${payload.readUInt32BE(0)})`));
        return;
      }
      case FRAME.SETTINGS:
        if (flags & FLAG.ACK) return;
        this.onSettings(payload);
        this.frame(FRAME.SETTINGS, FLAG.ACK, 0, EMPTY);
        return;
      case FRAME.PING:
        if (payload.length !== 8) throw new Http2Error('PING of a size other than 8');
        if (flags & FLAG.ACK) this.pings.shift()?.(undefined);
        else this.frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload));
        return;
      case FRAME.GOAWAY:
        return this.onGoaway(payload);
      case FRAME.WINDOW_UPDATE: {
        if (payload.length !== 4) throw new Http2Error('WINDOW_UPDATE of a size other than 4');
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) {
          this.sendWindow += inc;
          for (const s of this.streams.values()) if (s.queue.length > 0) this.pump(s);
        } else {
          const s = this.streams.get(id);
          if (s) {
            s.sendWindow += inc;
            this.pump(s);
          }
        }
        return;
      }
      case FRAME.PUSH_PROMISE:
        throw new Http2Error('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown frame types are ignored
    }
  }

  private onDataFrame(flags: number, id: number, payload: Buffer): void {
    // Flow control counts the whole frame, padding included.
    this.recvUnacked += payload.length;
    if (this.recvUnacked >= this.o.window / 2) {
      this.frame(FRAME.WINDOW_UPDATE, 0, 0, u32(this.recvUnacked));
      this.recvUnacked = 0;
    }
    const s = this.streams.get(id);
    if (!s) return; // a stream we reset: its data still counted for the connection
    let start = 0;
    let end = payload.length;
    if (flags & FLAG.PADDED) end -= payload.length > 0 ? payload[start++]! : 1;
    if (start > end) throw new Http2Error('DATA padding past its frame');
    if (end > start) s.handlers.onData(payload.subarray(start, end));
    if (this.streams.get(id) !== s) return; // cancelled by its handler
    if (flags & FLAG.END_STREAM) return this.finish(s, undefined);
    s.recvUnacked += payload.length;
    if (s.recvUnacked >= this.o.window / 2) {
      this.frame(FRAME.WINDOW_UPDATE, 0, id, u32(s.recvUnacked));
      s.recvUnacked = 0;
    }
  }

  private endBlock(): void {
    const b = this.block!;
    this.block = undefined;
    // Every block is decoded, a dropped stream's too: the dynamic table must follow the peer's.
    let headers: Record<string, string>;
    try {
      headers = this.decoder.decode(b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts));
    } catch (err) {
      throw new Http2Error((err as Error).message);
    }
    const s = this.streams.get(b.id);
    if (!s) return;
    s.handlers.onHeaders(headers, b.endStream);
    if (b.endStream && this.streams.get(b.id) === s) this.finish(s, undefined);
  }

  private onSettings(payload: Buffer): void {
    if (payload.length % 6 !== 0) throw new Http2Error('SETTINGS of a size not a multiple of 6');
    for (let i = 0; i < payload.length; i += 6) {
      const key = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (key === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > 0x7fffffff) throw new Http2Error('initial window size above 2^31-1');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (key === SETTING.MAX_FRAME_SIZE) {
        if (value < 16_384 || value > 16_777_215) throw new Http2Error(`max frame size ${value}`);
        this.peerMaxFrame = value;
      } else if (key === SETTING.MAX_CONCURRENT_STREAMS) {
        this.peerMaxStreams = value;
      }
      // HEADER_TABLE_SIZE bounds the peer's decoder (this side never indexes); the rest does not apply.
    }
    for (const s of this.streams.values()) if (s.queue.length > 0) this.pump(s);
    this.startWaiting();
  }

  private onGoaway(payload: Buffer): void {
    if (payload.length < 8) throw new Http2Error('GOAWAY shorter than 8 bytes');
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    this.draining = true;
    this.o.onGoaway();
    // Streams above the last one the peer processed were never seen by it.
    const refused = new Http2Error(`${this.o.url}: the server is going away (GOAWAY) and did not take the call`);
    for (const s of [...this.streams.values()]) if (s.id > last) this.finish(s, refused);
    for (const s of this.waiting.splice(0)) s.handlers.onClose(refused);
    if (this.streams.size === 0) this.destroy(new Http2Error(`${this.o.url}: connection closed (GOAWAY)`));
  }
}

const EMPTY = Buffer.alloc(0);

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function frameHead(len: number, type: number, flags: number, id: number): Buffer {
  const b = Buffer.allocUnsafe(9);
  b.writeUIntBE(len, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id, 5);
  return b;
}

function frameOf(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + payload.length);
  b.writeUIntBE(payload.length, 0, 3);
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(id, 5);
  payload.copy(b, 9);
  return b;
}
