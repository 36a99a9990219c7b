// The HTTP/1.1 client of serve's controllers for their requests to this very server over its loopback socket
// (server/loopback.ts): node:http's client (ClientRequest, Agent, IncomingMessage, their streams) costs about
// twice the CPU of the request itself on a busy controllers thread, and a bootstrap storm makes three requests
// per node. This one writes each request in one write and reads the response into one buffer: a request line,
// headers and a Content-Length body out; a status line, headers and a Content-Length or chunked body in (any
// other framing: the body runs to the end of the connection). One request at a time on a connection, at most
// `maxSockets` connections, kept open while idle. Watches stay on node:http (rest.ts watchPath). The same client
// runs over TLS for a command that makes a request or two (tls-http.ts).
import net from 'node:net';
import { KubepkiError } from '../util/errors.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_RESPONSE_BYTES, requestTimedOut } from './response-limits.js';

export interface LoopbackResponse {
  status: number;
  statusMessage: string;
  body: string;
}

export interface LoopbackHttpOptions {
  /** The loopback socket's path, or `connect`: opens a connection to the server (tls-http.ts: over TLS). */
  socketPath?: string;
  connect?: () => net.Socket;
  /** The Host header: `localhost` on the loopback socket. */
  host?: string;
  /** Sent with every request (user-agent, authorization...): names in lower case, values without CR or LF. */
  headers: Record<string, string>;
  maxSockets?: number;
  /** A request from its write to its response's last byte (response-limits.ts's default). */
  requestTimeoutMs?: number;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
/** A response head longer than this is refused (Node's default --max-http-header-size). */
const MAX_HEAD_BYTES = 16 * 1024;

/** A response that breaks HTTP/1.1 framing or the bounds: the server's fault, said as an API error. */
class ResponseError extends KubepkiError {
  constructor(message: string) {
    super('APIError', `malformed response from the API server: ${message}`);
    this.name = 'ResponseError';
  }
}

/** Reads one response from the bytes a connection receives; `push` says when it is complete. */
class ResponseReader {
  private chunks: Buffer[] = [];
  private size = 0;
  private head: ResponseHead | undefined;
  private bodyStart = 0;
  /** Chunked bodies: the decoded chunks, and where the next chunk-size line starts in the received bytes. */
  private decoded: Buffer[] = [];
  private decodedSize = 0;
  private chunkAt = 0;
  /** How many received bytes the next step needs (a whole chunk): fewer are only collected. */
  private needed = 0;

  /**
   * A Content-Length body that did not come whole with the head: one buffer of its size, filled by the reads
   * that follow. Concatenating everything received on every read copied a 2 MB list page about 16 times
   * over in growing buffers, and the freed ones stayed in the controllers thread's malloc arena (bench:memory).
   */
  private body: Buffer | undefined;
  private filled = 0;

  constructor(private readonly noBody: boolean) {}

  /** Adds received bytes; returns the response once it is whole, undefined while more is needed. */
  push(data: Buffer): ReadResponse | undefined {
    if (this.body) return this.fill(data);
    this.chunks.push(data);
    this.size += data.length;
    // A chunked or until-the-end body (and its framing) grows here: bounded, as a Content-Length is below.
    if (this.size > MAX_RESPONSE_BYTES + MAX_HEAD_BYTES) throw new ResponseError(`larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MiB`);
    // Joined only when the joined bytes can complete something: joining everything received on every read
    // copied a long chunked or until-the-end body quadratically (128 MB took minutes).
    if (this.head && (this.head.length === 'close' || this.size < this.needed)) return undefined;
    for (;;) {
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
      this.chunks = [buf];
      if (!this.head) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) {
          if (buf.length > MAX_HEAD_BYTES) throw new ResponseError('header too large');
          return undefined;
        }
        this.head = parseHead(buf.toString('latin1', 0, end), this.noBody);
        this.bodyStart = end + 4;
        this.chunkAt = this.bodyStart;
        // 1xx responses are followed by the real one: start over after it.
        if (this.head.status < 200) {
          this.head = undefined;
          this.chunks = [buf.subarray(this.bodyStart)];
          this.size = this.chunks[0]!.length;
          continue;
        }
      }
      const { length } = this.head;
      if (length === 'close') return undefined; // completed by end()
      if (length === 'chunked') return this.readChunked(buf);
      if (length > MAX_RESPONSE_BYTES) throw new ResponseError(`larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MiB (Content-Length ${length})`);
      if (buf.length - this.bodyStart > length) throw new ResponseError('more bytes than Content-Length');
      if (buf.length - this.bodyStart === length) return this.done(buf.toString('utf8', this.bodyStart, this.bodyStart + length));
      this.body = Buffer.allocUnsafe(length);
      this.chunks = [];
      return this.fill(buf.subarray(this.bodyStart));
    }
  }

  private fill(data: Buffer): ReadResponse | undefined {
    const body = this.body!;
    if (this.filled + data.length > body.length) throw new ResponseError('more bytes than Content-Length');
    data.copy(body, this.filled);
    this.filled += data.length;
    return this.filled === body.length ? this.done(body.toString('utf8')) : undefined;
  }

  /** The connection ended: the response, when its framing is "until the end", else undefined (incomplete). */
  end(): ReadResponse | undefined {
    if (!this.head || this.head.length !== 'close') return undefined;
    const buf = Buffer.concat(this.chunks, this.size);
    return this.done(buf.toString('utf8', this.bodyStart, buf.length));
  }

  private readChunked(buf: Buffer): ReadResponse | undefined {
    for (;;) {
      const lineEnd = buf.indexOf(CRLF, this.chunkAt);
      if (lineEnd < 0) return this.keepUnread(buf, buf.length + 1);
      const sizeText = buf.toString('latin1', this.chunkAt, lineEnd).split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new ResponseError('bad chunk size');
      const chunkSize = parseInt(sizeText, 16);
      this.decodedSize += chunkSize;
      if (this.decodedSize > MAX_RESPONSE_BYTES) throw new ResponseError(`larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MiB`);
      if (chunkSize === 0) {
        // The last chunk: trailer lines (ignored) up to an empty line, which ends the response.
        let at = lineEnd + 2;
        for (;;) {
          const end = buf.indexOf(CRLF, at);
          if (end < 0) return undefined;
          if (end === at) break;
          at = end + 2;
        }
        if (at + 2 < buf.length) throw new ResponseError('bytes after the last chunk');
        return this.done(Buffer.concat(this.decoded).toString('utf8'));
      }
      const dataStart = lineEnd + 2;
      if (buf.length < dataStart + chunkSize + 2) {
        this.decodedSize -= chunkSize; // counted again when the chunk is read whole
        return this.keepUnread(buf, dataStart + chunkSize + 2);
      }
      if (buf[dataStart + chunkSize] !== 0x0d || buf[dataStart + chunkSize + 1] !== 0x0a) throw new ResponseError('chunk not followed by CRLF');
      this.decoded.push(buf.subarray(dataStart, dataStart + chunkSize));
      this.chunkAt = dataStart + chunkSize + 2;
    }
  }

  /** Keeps only the bytes from the next chunk on, and waits for `needed` bytes of the whole buffer. */
  private keepUnread(buf: Buffer, needed: number): undefined {
    const rest = buf.subarray(this.chunkAt);
    this.chunks = [rest];
    this.size = rest.length;
    this.needed = needed - this.chunkAt;
    this.chunkAt = 0;
    return undefined;
  }

  private done(body: string): ReadResponse {
    const { status, statusMessage, close, keepAliveMs } = this.head!;
    return { status, statusMessage, body, close, keepAliveMs };
  }
}

interface ResponseHead {
  status: number;
  statusMessage: string;
  length: number | 'chunked' | 'close';
  close: boolean;
  /** The server's Keep-Alive timeout hint (`Keep-Alive: timeout=N`), in ms. */
  keepAliveMs: number | undefined;
}

type ReadResponse = LoopbackResponse & Pick<ResponseHead, 'close' | 'keepAliveMs'>;

function parseHead(text: string, noBody: boolean): ResponseHead {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]!);
  if (!m) throw new ResponseError('bad status line');
  const status = Number(m[2]);
  let length: number | 'chunked' | 'close' = 'close';
  let close = m[1] === '0';
  let keepAliveMs: number | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ResponseError('bad header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (typeof length === 'number' && length !== Number(value))) throw new ResponseError('bad Content-Length');
      if (length !== 'chunked') length = Number(value);
    } else if (name === 'transfer-encoding') {
      if (value.toLowerCase() !== 'chunked') throw new ResponseError(`unsupported Transfer-Encoding ${value}`);
      length = 'chunked';
    } else if (name === 'connection') {
      const tokens = value.toLowerCase().split(',').map((t) => t.trim());
      if (tokens.includes('close')) close = true;
      else if (tokens.includes('keep-alive')) close = false;
    } else if (name === 'keep-alive') {
      const t = /(?:^|,)\s*timeout=(\d+)/i.exec(value);
      if (t) keepAliveMs = Number(t[1]) * 1000;
    }
  }
  // RFC 9112 6.3: these never have a body, whatever the headers say.
  if (noBody || status === 204 || status === 304 || status < 200) length = 0;
  if (length === 'close') close = true;
  return { status, statusMessage: m[3] ?? '', length, close, keepAliveMs };
}

interface Pending {
  resolve(r: LoopbackResponse): void;
  reject(err: Error): void;
}

/** One keep-alive connection; one request at a time. */
class Connection {
  readonly socket: net.Socket;
  private reader: ResponseReader | undefined;
  private pending: Pending | undefined;
  closed = false;
  /**
   * When the server may close it for idleness: node:http's Agent's rule (the Keep-Alive timeout hint less a
   * second), so that a request is not written into a connection the server is closing.
   */
  expiresAt = Infinity;

  constructor(connect: () => net.Socket, private readonly onFree: (c: Connection) => void, private readonly onGone: (c: Connection) => void) {
    this.socket = connect();
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('end', () => this.finish(this.reader?.end(), new Error('socket hang up')));
    this.socket.on('error', (err) => this.finish(undefined, err));
    this.socket.on('close', () => this.finish(undefined, new Error('socket hang up')));
  }

  send(bytes: string, noBody: boolean, pending: Pending): void {
    this.reader = new ResponseReader(noBody);
    this.pending = pending;
    // An idle connection does not keep the process alive (as node:http's Agent unrefs its free sockets).
    this.socket.ref();
    this.socket.write(bytes);
  }

  private onData(d: Buffer): void {
    if (!this.reader) {
      // Bytes no request asked for: the connection is out of step; drop it.
      this.finish(undefined, new ResponseError('unexpected bytes'));
      return;
    }
    let res;
    try {
      res = this.reader.push(d);
    } catch (err) {
      this.finish(undefined, err as Error);
      return;
    }
    if (!res) return;
    const p = this.pending!;
    this.reader = undefined;
    this.pending = undefined;
    if (res.close) this.destroy();
    else {
      if (res.keepAliveMs !== undefined) this.expiresAt = Date.now() + res.keepAliveMs - 1000;
      this.socket.unref();
      this.onFree(this);
    }
    p.resolve({ status: res.status, statusMessage: res.statusMessage, body: res.body });
  }

  /** Ends the connection: settles the request in flight with `res` if complete, else rejects it with `err`. */
  private finish(res: LoopbackResponse | undefined, err: Error): void {
    const p = this.pending;
    this.reader = undefined;
    this.pending = undefined;
    this.destroy();
    if (!p) return;
    if (res) p.resolve(res);
    else p.reject(err);
  }

  /** Gives up on the request in flight (its deadline passed): rejected with `err`, the connection closed. */
  abort(err: Error): void {
    this.finish(undefined, err);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.onGone(this);
  }
}

export class LoopbackHttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: (() => void)[] = [];
  private readonly headerBlock: string;
  private readonly maxSockets: number;
  private readonly connect: () => net.Socket;
  private readonly requestTimeoutMs: number;
  private closed = false;

  constructor(options: LoopbackHttpOptions) {
    this.maxSockets = options.maxSockets ?? 64;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const { socketPath, connect } = options;
    if (!connect && socketPath === undefined) throw new Error('loopback client: neither socketPath nor connect');
    this.connect = connect ?? (() => net.connect(socketPath!));
    let block = `host: ${options.host ?? 'localhost'}\r\n`;
    for (const [name, value] of Object.entries(options.headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name}: CR or LF in a header`);
      block += `${name}: ${value}\r\n`;
    }
    this.headerBlock = block;
  }

  /** One request; `body` (JSON text) is sent with its Content-Length. Rejects on a connection failure only. */
  async request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<LoopbackResponse> {
    if (/[\s]/.test(path) || !path.startsWith('/')) throw new Error(`bad request path ${JSON.stringify(path)}`);
    let head = `${method} ${path} HTTP/1.1\r\n${this.headerBlock}`;
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error(`header ${name}: CR or LF in a header`);
      head += `${name}: ${value}\r\n`;
    }
    const bytes = body === undefined ? `${head}\r\n` : `${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const conn = await this.connection();
    return new Promise<LoopbackResponse>((resolve, reject) => {
      // A server that answers a byte at a time, or never, is cut at the deadline (the connection with it).
      const timer = setTimeout(() => conn.abort(requestTimedOut(`${method} ${path.split('?')[0]}`, this.requestTimeoutMs)), this.requestTimeoutMs);
      timer.unref();
      conn.send(bytes, method === 'HEAD', {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** An idle connection, a new one while under maxSockets, or the next one freed. */
  private async connection(): Promise<Connection> {
    for (;;) {
      if (this.closed) throw new Error('loopback client closed');
      const c = this.idle.pop();
      if (c && c.expiresAt <= Date.now()) {
        c.destroy();
        continue;
      }
      if (c) return c;
      if (this.all.size < this.maxSockets) {
        const conn = new Connection(
          this.connect,
          (free) => {
            if (this.closed) return free.destroy();
            this.idle.push(free);
            this.waiting.shift()?.();
          },
          (gone) => {
            this.all.delete(gone);
            const i = this.idle.indexOf(gone);
            if (i >= 0) this.idle.splice(i, 1);
            this.waiting.shift()?.();
          },
        );
        this.all.add(conn);
        return conn;
      }
      await new Promise<void>((r) => this.waiting.push(r));
    }
  }

  /** Closes every connection; requests in flight fail. */
  close(): void {
    this.closed = true;
    for (const c of [...this.all]) c.destroy();
    for (const w of this.waiting.splice(0)) w();
  }
}
