// KubeClient over HTTPS for any compatible API server, configured by a kubeconfig (kubeconfig.ts: clusters,
// users, client certificates, tokens, exec plugins), or over kubepki serve's loopback socket. Requests are
// plain REST on the wire JSON — generated typed clients turn timestamps into Date objects and have no
// generic subresource call, while callers want the objects exactly as served — over a keep-alive agent so
// a storm of CSRs reuses a few connections (on the loopback socket, loopback-http.ts's lighter client).
import https from 'node:https';
import http from 'node:http';
import { loadClientConfig, resolveCredentials, type ClientConfig, type ResolvedCredentials } from './kubeconfig.js';
import { LoopbackHttpClient } from './loopback-http.js';
import { tlsHttpClient } from './tls-http.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_RESPONSE_BYTES, MAX_WATCH_LINE_BYTES, requestTimedOut, responseTooLarge } from './response-limits.js';
import { KubepkiError } from '../util/errors.js';
import type { KubeClient, ListOptions, ObjectList, ResourceClient, ResourceRef, WatchEvent, WatchOptions, WatchStream } from './interface.js';
import { apiErrorFromResponse } from '../apis/status.js';
import type { KubeObject, SubjectAccessReview } from '../apis/objects.js';
import { readBoundedFileSync } from '../util/bounded-file.js';
import { socketHost } from '../util/socket-host.js';

interface ConnectionBase {
  base: URL;
  /** `base` as http.request options (a bracketed IPv6 hostname unbracketed, as Node's urlToHttpOptions does). */
  target: { protocol: string; hostname: string; port: string };
  /** How a connection of its own reaches the server (watches): the agent's TLS settings, or the loopback socket. */
  transport: TlsOptions & { socketPath?: string };
  headers: Record<string, string>;
  refreshedAt: number;
}

/**
 * Requests (watches excepted) go through a node:http(s) keep-alive agent, or, on the loopback socket and with
 * `minimalHttp` (over TLS), through loopback-http.ts instead.
 */
type Connection = ConnectionBase & ({ agent: http.Agent; loopbackHttp?: undefined } | { agent?: undefined; loopbackHttp: LoopbackHttpClient });

const AUTH_REFRESH_MS = 60_000;

type TlsOptions = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

/** The API server's loopback socket and the token it wants (ApiServer.listenLoopback). */
export interface LoopbackEndpoint {
  socketPath: string;
  token: string;
}

export interface RestKubeClientOptions {
  userAgent?: string;
  maxSockets?: number;
  /**
   * Each request on a connection of its own, with the credentials read from their files at that moment, as
   * client-go reads a rotating certificate file (the agent: it asks rarely and rotates its certificate).
   * Default: keep-alive connections with credentials read once (token-type credentials every minute).
   */
  oneShot?: boolean;
  /**
   * The API server's loopback socket (kubepki serve's own controllers): plain HTTP on the Unix socket with
   * the loopback token, instead of the kubeconfig's server and credentials.
   */
  loopback?: LoopbackEndpoint;
  /**
   * Requests (not watches) over HTTPS through loopback-http.ts's minimal client over TLS (tls-http.ts) instead of
   * node:https's keep-alive agent: for a command that makes a request or two and exits (`kubepki token`), which
   * then never loads node:http(s).
   */
  minimalHttp?: boolean;
  /** A request (not a watch) from its start to its response's last byte; default response-limits.ts's. */
  requestTimeoutMs?: number;
}

export class RestKubeClient implements KubeClient {
  private conn: Promise<Connection> | undefined;

  constructor(
    private readonly config: ClientConfig,
    private readonly options: RestKubeClientOptions = {},
  ) {}

  static fromFile(file: string, options?: RestKubeClientOptions & { context?: string }): RestKubeClient {
    let config: ClientConfig;
    try {
      config = loadClientConfig(file, options?.context ? { context: options.context } : {});
    } catch (err) {
      throw new KubepkiError('FileInvalid', `cannot load kubeconfig ${(err as Error).message}`, { cause: err });
    }
    return new RestKubeClient(config, options);
  }

  /** The server URL of the kubeconfig's cluster. */
  get server(): string {
    return this.config.cluster.server;
  }

  private get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  private async connection(): Promise<Connection> {
    const now = Date.now();
    const loopback = this.options.loopback;
    if (loopback) {
      const headers = { 'user-agent': this.options.userAgent ?? 'kubepki-controller-manager', authorization: `Bearer ${loopback.token}` };
      const maxSockets = this.options.maxSockets ?? 64;
      this.conn ??= Promise.resolve({
        base: new URL('http://localhost'),
        target: targetOf(new URL('http://localhost')),
        transport: { socketPath: loopback.socketPath },
        headers,
        refreshedAt: Infinity,
        loopbackHttp: new LoopbackHttpClient({ socketPath: loopback.socketPath, headers: { ...headers, accept: 'application/json' }, maxSockets, requestTimeoutMs: this.requestTimeoutMs }),
      });
      return this.conn;
    }
    if (this.options.oneShot) return this.open(now);
    if (this.conn) {
      const c = await this.conn;
      if (now - c.refreshedAt < AUTH_REFRESH_MS) return c;
      // Token files are rewritten and exec credentials expire: re-read the user's credentials periodically.
      c.headers = this.headersOf(await resolveCredentials(this.config));
      c.refreshedAt = now;
      return c;
    }
    this.conn = this.open(now);
    return this.conn;
  }

  private async open(now: number): Promise<Connection> {
    const creds = await resolveCredentials(this.config);
    const base = new URL(this.server);
    const tls: TlsOptions = { ca: creds.ca, cert: creds.cert, key: creds.key, servername: this.config.cluster.tlsServerName };
    if (this.config.cluster.insecureSkipTLSVerify) tls.rejectUnauthorized = false;
    const maxSockets = this.options.maxSockets ?? 64;
    const headers = this.headersOf(creds);
    if (this.options.minimalHttp && base.protocol === 'https:') {
      // The user's headers go with each request (request()): they are refreshed as the agent's are.
      const loopbackHttp = tlsHttpClient({ base, tls, headers: { accept: 'application/json' }, maxSockets, requestTimeoutMs: this.requestTimeoutMs });
      return { base, target: targetOf(base), loopbackHttp, transport: tls, headers, refreshedAt: now };
    }
    const keepAlive = !this.options.oneShot;
    const agent = base.protocol === 'https:' ? new https.Agent({ keepAlive, maxSockets, ...tls }) : new http.Agent({ keepAlive, maxSockets });
    return { base, target: targetOf(base), agent, transport: tls, headers, refreshedAt: now };
  }

  private headersOf(creds: ResolvedCredentials): Record<string, string> {
    return { 'user-agent': this.options.userAgent ?? 'kubepki-controller-manager', ...creds.headers };
  }

  /** PEM of the CA the kubeconfig trusts for the server (certificate-authority[-data]), if any. */
  clusterCA(): string | undefined {
    const c = this.config.cluster;
    if (c.caPem) return c.caPem;
    if (c.caFile) {
      try {
        return readBoundedFileSync(c.caFile);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Closes idle keep-alive sockets (call when done). */
  async close(): Promise<void> {
    if (!this.conn) return;
    const c = await this.conn;
    c.agent?.destroy();
    c.loopbackHttp?.close();
  }

  /** One request; `decode: false` leaves a successful answer's body undecoded (resolves undefined). */
  async request<T>(method: string, path: string, body?: unknown, options: { decode?: boolean } = {}): Promise<T> {
    const c = await this.connection();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const decode = options.decode !== false;
    if (c.loopbackHttp) {
      // The loopback client was made with its headers (the loopback token never changes); over TLS they are the user's.
      const headers = { ...(this.options.loopback ? {} : c.headers), ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) };
      // Over TLS (tls-http.ts), a key or CA from the kubeconfig that OpenSSL cannot load fails here: said as such.
      const res = await c.loopbackHttp.request(method, path, payload, headers).catch((err: unknown) => {
        throw credentialError(err as Error);
      });
      return responseValue<T>({ method, path, code: res.status, statusMessage: res.statusMessage, text: res.body, decode });
    }
    const mod = c.base.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = requestExplained(
        mod,
        // The server's address and the path as they are, not a URL parsed (and turned back into options) per
        // request: `path` is already encoded by the caller (RestResourceClient.path, query()).
        {
          ...c.target,
          path,
          method,
          agent: c.agent,
          headers: {
            ...c.headers,
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (d: Buffer) => {
            size += d.length;
            if (size > MAX_RESPONSE_BYTES) return fail(responseTooLarge(`${method} ${pathOnly(path)}`, MAX_RESPONSE_BYTES));
            chunks.push(d);
          });
          res.on('end', () => {
            clearTimeout(timer);
            try {
              resolve(responseValue<T>({ method, path, code: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8'), decode }));
            } catch (err) {
              reject(err);
            }
          });
          res.on('error', fail);
        },
      );
      // A server that answers a byte at a time, or never, is cut at the deadline.
      const timer = setTimeout(() => fail(requestTimedOut(`${method} ${pathOnly(path)}`, this.requestTimeoutMs)), this.requestTimeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      req.on('error', (err) => fail(credentialError(err)));
      req.end(payload);
    });
  }

  /** A streaming GET with ?watch=true: one JSON event per line. */
  watchPath<T>(path: string, onEvent: (event: WatchEvent<T>) => void): WatchStream {
    let request: http.ClientRequest | undefined;
    let stopped = false;
    const done = (async () => {
      const c = await this.connection();
      const url = new URL(path, c.base);
      const mod = url.protocol === 'https:' ? https : http;
      await new Promise<void>((resolve, reject) => {
        if (stopped) return resolve();
        // Watches hold their connection for minutes: keep them off the shared keep-alive pool.
        request = mod.request(url, { method: 'GET', agent: false, ...c.transport, headers: { ...c.headers, accept: 'application/json' } }, (res) => {
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (d: Buffer) => {
              size += d.length;
              if (size <= MAX_WATCH_LINE_BYTES) chunks.push(d);
              else {
                request?.destroy();
                reject(responseTooLarge(`watch ${url.pathname}`, MAX_WATCH_LINE_BYTES));
              }
            });
            res.on('end', () => {
              let parsed: unknown;
              try {
                parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              } catch {
                parsed = undefined;
              }
              reject(apiErrorFromResponse(code, parsed, `watch ${url.pathname}: ${code}`));
            });
            return;
          }
          // The part of an event line received so far, as the chunks it came in: a chunk without a newline is
          // only kept, so a long line is joined once when it ends (joining and scanning everything received on
          // every chunk took minutes for a 16 MiB line).
          let partial: string[] = [];
          let partialLength = 0;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            let nl = chunk.indexOf('\n');
            if (nl < 0) {
              partial.push(chunk);
              partialLength += chunk.length;
              // An event line that never ends is cut (a real event is an object of at most a few MB).
              if (partialLength > MAX_WATCH_LINE_BYTES) {
                request?.destroy();
                reject(new KubepkiError('APIError', `watch ${url.pathname}: an event line longer than ${MAX_WATCH_LINE_BYTES / (1024 * 1024)} MiB`));
              }
              return;
            }
            const text = partial.length > 0 ? partial.join('') + chunk : chunk;
            nl += text.length - chunk.length;
            let from = 0;
            for (; nl >= 0; from = nl + 1, nl = text.indexOf('\n', from)) {
              const line = text.slice(from, nl).trim();
              if (line === '') continue;
              let event: WatchEvent<T>;
              try {
                event = JSON.parse(line) as WatchEvent<T>;
              } catch {
                request?.destroy();
                return reject(new KubepkiError('InvalidArgument', `watch ${url.pathname}: undecodable event`));
              }
              onEvent(event);
            }
            partial = from < text.length ? [text.slice(from)] : [];
            partialLength = text.length - from;
          });
          res.on('end', () => resolve());
          res.on('close', () => resolve());
          res.on('error', (err) => (stopped ? resolve() : reject(err)));
        });
        request.on('error', (err) => (stopped ? resolve() : reject(err)));
        request.end();
      });
    })();
    return {
      stop: () => {
        stopped = true;
        request?.destroy();
      },
      done,
    };
  }

  resource<T extends KubeObject>(ref: ResourceRef): ResourceClient<T> {
    return new RestResourceClient<T>(this, ref);
  }

  createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview> {
    return this.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', review);
  }
}

/** A response's decoded body (undefined when not `decode`d), or the ApiError its status and Status body say. */
function responseValue<T>(r: { method: string; path: string; code: number; statusMessage: string; contentType?: string | undefined; text: string; decode: boolean }): T {
  const { method, path, code, statusMessage, text } = r;
  if (!r.decode && code >= 200 && code < 300) return undefined as T;
  let parsed: unknown;
  let undecodable = false;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
    undecodable = true;
  }
  if (code >= 200 && code < 300) {
    // A success the client cannot read is not a success: callers would read fields of undefined.
    if (undecodable || parsed === null || typeof parsed !== 'object') {
      const type = r.contentType ? ` (Content-Type ${r.contentType})` : '';
      throw new KubepkiError('APIError', `${method} ${pathOnly(path)}: ${code}: the API server's answer is not a JSON object${type}`);
    }
    return parsed as T;
  }
  throw apiErrorFromResponse(code, parsed, `${method} ${pathOnly(path)}: ${code} ${statusMessage}`.trim());
}

function targetOf(base: URL): Connection['target'] {
  return { protocol: base.protocol, hostname: socketHost(base), port: base.port };
}

/** A request path without its query (as URL.pathname gives it), for error messages. */
const pathOnly = (path: string): string => {
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
};

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

class RestResourceClient<T extends KubeObject> implements ResourceClient<T> {
  constructor(
    private readonly client: RestKubeClient,
    private readonly ref: ResourceRef,
  ) {}

  private path(namespace?: string, name?: string, subresource?: string): string {
    const { group, version, resource, namespaced } = this.ref;
    let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
    if (namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${resource}`;
    if (name !== undefined) p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
    return p;
  }

  list(options: ListOptions = {}): Promise<ObjectList<T>> {
    const { namespace, resourceVersion, limit, labelSelector, fieldSelector } = options;
    return this.client.request('GET', this.path(namespace) + query({ resourceVersion, limit, continue: options.continue, labelSelector, fieldSelector }));
  }

  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchStream {
    const { namespace, resourceVersion, allowWatchBookmarks, timeoutSeconds, labelSelector, fieldSelector } = options;
    return this.client.watchPath(
      this.path(namespace) + query({ watch: true, resourceVersion, allowWatchBookmarks, timeoutSeconds, labelSelector, fieldSelector }),
      onEvent,
    );
  }

  get(name: string, namespace?: string): Promise<T> {
    return this.client.request('GET', this.path(namespace, name));
  }

  create(object: T): Promise<T> {
    return this.client.request('POST', this.path(object.metadata.namespace), { apiVersion: apiVersionOf(this.ref), kind: this.ref.kind, ...object });
  }

  update(object: T, subresource?: string): Promise<T> {
    return this.client.request('PUT', this.path(object.metadata.namespace, object.metadata.name, subresource), { apiVersion: apiVersionOf(this.ref), kind: this.ref.kind, ...object });
  }

  async updateWithoutResult(object: T, subresource?: string): Promise<void> {
    await this.client.request<void>('PUT', this.path(object.metadata.namespace, object.metadata.name, subresource), { apiVersion: apiVersionOf(this.ref), kind: this.ref.kind, ...object }, { decode: false });
  }

  async delete(name: string, options: { namespace?: string; preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<void> {
    const body = options.preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: options.preconditions } : undefined;
    await this.client.request('DELETE', this.path(options.namespace, name), body);
  }
}

const apiVersionOf = (ref: ResourceRef): string => (ref.group ? `${ref.group}/${ref.version}` : ref.version);

/**
 * OpenSSL's "error:1E08010C:DECODER routines::unsupported" names neither the file nor the field: a client
 * key, certificate or CA from the kubeconfig that TLS could not load is said so (the material never is).
 */
function credentialError(err: Error): Error {
  if (!/^error:[0-9A-F]{8}:(DECODER|PEM|ASN1|X509|x509 certificate) routines/.test(err.message)) return err;
  return new KubepkiError('InvalidKey', `the kubeconfig's client certificate, client key or certificate authority could not be loaded (${err.message})`, { cause: err });
}

/** mod.request, whose synchronous TLS set-up error (a bad key from the kubeconfig) is said as credentialError. */
function requestExplained(mod: typeof https | typeof http, options: https.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
  try {
    return mod.request(options, onResponse);
  } catch (err) {
    throw credentialError(err as Error);
  }
}
