// gRPC to etcd over a minimal HTTP/2 client (etcd-http2.ts): unary KV calls (Range, Txn, Compact) and Watch
// streams, to one of several endpoints over plain TCP or (mutual) TLS. A gRPC call is an HTTP/2 POST of
// length-prefixed protobuf messages answered with a grpc-status trailer; this is all of it that etcd needs.
// Measured with bench/etcd-client.ts, a call costs this process about 55 µs of CPU: 2.5 times less than over
// node:http2 and far less than through @grpc/grpc-js (whose channel, resolver, load-balancer and interceptor
// layers run per call) or the etcd3 package on top of it (retry and circuit-breaker policies, proto-loader
// objects).
//
// Endpoints: calls go to the current endpoint; one that cannot be reached (or drops the connection) makes
// the next one current. A call is tried on the next endpoint only when retrying cannot apply it twice:
// when it never reached the failed one (the connection was not up), or when it only reads.
import type { SecureContextOptions } from 'node:tls';
import { Http2Connection, type Http2Stream, type Http2StreamHandlers } from './etcd-http2.js';

/** gRPC status codes used here (grpc/status.h). */
export const GrpcStatus = { OK: 0, CANCELLED: 1, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const;

/** A failed call: etcd's gRPC status and message, or UNAVAILABLE for a transport failure. */
export class EtcdCallError extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: { cause?: unknown; /** etcd answered with this status (not a transport failure) */ fromEtcd?: boolean },
  ) {
    super(message, options);
    this.name = 'EtcdCallError';
    this.fromEtcd = options?.fromEtcd ?? false;
  }
  readonly fromEtcd: boolean;
}

export interface EtcdGrpcOptions {
  /** Client URLs, http:// or https://. */
  endpoints: string[];
  /** CA, client certificate and key for https endpoints. */
  tls?: Pick<SecureContextOptions, 'ca' | 'cert' | 'key'>;
  /** Deadline of each unary call (connecting included), and of establishing a connection. */
  timeoutMs: number;
  /** gRPC keepalive while streams (watches) are open; default kube-apiserver's 30 s interval, 10 s timeout. */
  keepalive?: { intervalMs: number; timeoutMs: number };
}

const KEEPALIVE = { intervalMs: 30_000, timeoutMs: 10_000 };

/** An open Watch stream: send WatchRequests, receive WatchResponses until it ends. */
export interface GrpcStream {
  send(message: Buffer): void;
  /** Ends the stream from this side (RST_STREAM CANCEL); no callback runs afterwards. */
  cancel(): void;
}

export interface StreamHandlers {
  onMessage(message: Buffer): void;
  /** The stream ended: with status OK (undefined) or an error; called once, never after cancel(). */
  onEnd(err: EtcdCallError | undefined): void;
}

// Responses of a few MB (pages of a list) flow without waiting for window updates.
const WINDOW = 4 << 20;

class Endpoint {
  private conn: Http2Connection | undefined;
  private ready: Promise<Http2Connection> | undefined;
  /** The connection once up and still taking streams: calls take it without waiting on a promise. */
  live: Http2Connection | undefined;

  constructor(
    readonly url: string,
    private readonly options: EtcdGrpcOptions,
  ) {}

  /** The endpoint's connection, opened if needed; rejects if it cannot be established. */
  connect(): Promise<Http2Connection> {
    if (this.ready && this.conn && !this.conn.closed) return this.ready;
    const conn: Http2Connection = new Http2Connection({
      url: this.url,
      ...(this.url.startsWith('https://') && this.options.tls ? { tls: this.options.tls } : {}),
      window: WINDOW,
      connectTimeoutMs: this.options.timeoutMs,
      keepalive: this.options.keepalive ?? KEEPALIVE,
      // Closed: the streams on it have failed on their own; the next call connects anew.
      onClose: () => this.forget(conn),
      // etcd is going away: what runs on this connection finishes, the next call opens a new one.
      onGoaway: () => this.forget(conn),
    });
    this.conn = conn;
    this.ready = conn.ready.then(
      () => {
        if (this.conn === conn && conn.usable) this.live = conn;
        return conn;
      },
      (err: Error) => {
        throw new EtcdCallError(GrpcStatus.UNAVAILABLE, err.message, { cause: err });
      },
    );
    // A rejection nobody waits for (the connection failed while idle) is not an error of the process.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private forget(conn: Http2Connection): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.ready = undefined;
    this.live = undefined;
  }

  close(): void {
    this.conn?.close();
    this.conn = undefined;
    this.ready = undefined;
    this.live = undefined;
  }
}

export class EtcdGrpcClient {
  private readonly endpoints: Endpoint[];
  private current = 0;
  private closed = false;

  constructor(private readonly options: EtcdGrpcOptions) {
    this.endpoints = options.endpoints.map((url) => new Endpoint(url, options));
  }

  /**
   * One unary call, its answer decoded. `request` is the framed message (etcd-proto.ts's encoders frame).
   * `idempotent` calls (reads) are retried on the next endpoint after a transport failure; others only when
   * they were never sent.
   */
  unary<T>(method: string, request: Buffer, decode: (message: Buffer) => T, idempotent: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let stream: Http2Stream | undefined;
      const finish = (err: EtcdCallError | undefined, message?: Buffer): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          stream?.cancel();
          reject(err);
          return;
        }
        try {
          resolve(decode(message!));
        } catch (e) {
          reject(new EtcdCallError(GrpcStatus.UNAVAILABLE, `${method}: ${(e as Error).message}`, { cause: e }));
        }
      };
      let session: Http2Connection | undefined;
      let sentTo = 0;
      const timer = setTimeout(() => {
        finish(new EtcdCallError(GrpcStatus.DEADLINE_EXCEEDED, `${method}: no answer from etcd within ${this.options.timeoutMs} ms`));
        if (session) probe(session, this.options.timeoutMs, () => this.failedOver(sentTo));
      }, this.options.timeoutMs);
      const first = this.current;
      // Each endpoint at most once, starting from the current one.
      const attempt = (tries: number, lastError?: EtcdCallError): void => {
        if (settled) return;
        if (this.closed) return finish(new EtcdCallError(GrpcStatus.CANCELLED, 'the etcd client is closed'));
        if (tries >= this.endpoints.length) return finish(lastError);
        const index = (first + tries) % this.endpoints.length;
        const endpoint = this.endpoints[index]!;
        const send = (live: Http2Connection): void => {
          if (settled) return;
          session = live;
          sentTo = index;
          let answer: Buffer | undefined;
          const handlers = grpcHandlers({
            onMessage: (message) => {
              answer = message;
            },
            onEnd: (err) => {
              // The answer counts once the status says OK.
              if (!err) return answer ? finish(undefined, answer) : finish(new EtcdCallError(GrpcStatus.UNAVAILABLE, `${method}: etcd answered nothing`));
              // A transport failure (no gRPC status from etcd): the endpoint is suspect.
              if (!err.fromEtcd) {
                this.failedOver(index);
                if (idempotent) return attempt(tries + 1, err);
              }
              finish(err);
            },
          });
          stream = live.request(method, handlers, request, true);
        };
        if (endpoint.live?.usable) return send(endpoint.live);
        endpoint.connect().then(
          send,
          (err: EtcdCallError) => {
            // Never sent: safe to try elsewhere whatever the call is.
            this.failedOver(index);
            attempt(tries + 1, err);
          },
        );
      };
      attempt(0);
    });
  }

  /** Opens a bidirectional stream (Watch) on the first endpoint that can be reached. */
  async stream(method: string, handlers: StreamHandlers): Promise<GrpcStream> {
    let lastError: EtcdCallError | undefined;
    const first = this.current;
    for (let tries = 0; tries < this.endpoints.length; tries++) {
      if (this.closed) throw new EtcdCallError(GrpcStatus.CANCELLED, 'the etcd client is closed');
      const index = (first + tries) % this.endpoints.length;
      let session: Http2Connection;
      try {
        session = await this.endpoints[index]!.connect();
      } catch (err) {
        this.failedOver(index);
        lastError = err as EtcdCallError;
        continue;
      }
      let cancelled = false;
      const stream = session.request(
        method,
        grpcHandlers({
          onMessage: (m) => {
            if (!cancelled) handlers.onMessage(m);
          },
          onEnd: (err) => {
            if (!cancelled) handlers.onEnd(err);
          },
        }),
      );
      return {
        send: (message) => {
          if (!cancelled) stream.write(message);
        },
        cancel: () => {
          if (cancelled) return;
          cancelled = true;
          stream.cancel();
        },
      };
    }
    throw lastError ?? new EtcdCallError(GrpcStatus.UNAVAILABLE, 'no etcd endpoint');
  }

  close(): void {
    this.closed = true;
    for (const e of this.endpoints) e.close();
  }

  private failedOver(index: number): void {
    if (this.current === index) this.current = (index + 1) % this.endpoints.length;
  }
}

/**
 * After a call went unanswered: a connection that does not answer a PING either (a peer gone without closing
 * it, which TCP may not notice for many minutes) is dropped, so that the next call connects anew or fails
 * over instead of waiting out its deadline too.
 */
function probe(session: Http2Connection, timeoutMs: number, onDead: () => void): void {
  if (session.closed) return;
  const dead = (): void => {
    session.destroy();
    onDead();
  };
  const timer = setTimeout(dead, timeoutMs);
  const sent = session.ping((err) => {
    clearTimeout(timer);
    if (err) dead();
  });
  if (!sent) clearTimeout(timer); // a ping already in flight decides
}

/** The HTTP/2 side of a call: splits the response body into messages and reports how the call ended (status from headers or trailers). */
function grpcHandlers(handlers: StreamHandlers): Http2StreamHandlers {
  let status: string | undefined;
  let statusMessage = '';
  let ended = false;
  let sawHeaders = false;
  const end = (err: EtcdCallError | undefined): void => {
    if (ended) return;
    ended = true;
    handlers.onEnd(err);
  };
  // Chunks are kept until a whole message is there and joined once: a message of a few MB (a page of a list)
  // arrives in many 16 kB frames, and joining at every frame would copy it over and over.
  let chunks: Buffer[] = [];
  let buffered = 0;
  return {
    onHeaders: (headers) => {
      if (!sawHeaders) {
        sawHeaders = true;
        const code = headers[':status'];
        if (code !== '200') return end(new EtcdCallError(GrpcStatus.UNAVAILABLE, `etcd answered HTTP ${code ?? 'without a status'}`));
      }
      // A trailers-only answer (an error) has its status in the first block.
      const s = headers['grpc-status'];
      if (s !== undefined) {
        status = s;
        const m = headers['grpc-message'];
        statusMessage = m !== undefined ? decodeGrpcMessage(m) : '';
      }
    },
    onData: (chunk) => {
      if (ended) return;
      // The chunk is a view of a buffer the socket read into and never reuses: kept as is.
      chunks.push(chunk);
      buffered += chunk.length;
      while (buffered >= 5) {
        if (chunks[0]!.length < 5) chunks = [Buffer.concat(chunks, buffered)];
        const head = chunks[0]!;
        const len = head.readUInt32BE(1);
        if (buffered < 5 + len) return;
        if (head[0] !== 0) return end(new EtcdCallError(GrpcStatus.UNAVAILABLE, 'etcd sent a compressed message, which was not asked for'));
        const all = chunks.length === 1 ? head : Buffer.concat(chunks, buffered);
        const rest = all.subarray(5 + len);
        chunks = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
        handlers.onMessage(all.subarray(5, 5 + len));
        if (ended) return;
      }
    },
    onClose: (err) => {
      if (err) return end(new EtcdCallError(GrpcStatus.UNAVAILABLE, `etcd connection: ${err.message}`, { cause: err }));
      if (status === undefined) return end(new EtcdCallError(GrpcStatus.UNAVAILABLE, 'the etcd stream closed without a status'));
      const code = Number(status);
      end(code === GrpcStatus.OK ? undefined : new EtcdCallError(code, `etcd: ${statusMessage || `gRPC status ${code}`}`, { fromEtcd: true }));
    },
  };
}

function decodeGrpcMessage(m: string): string {
  try {
    return decodeURIComponent(m);
  } catch {
    return m;
  }
}
