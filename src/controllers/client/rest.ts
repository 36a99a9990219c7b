// KubeClient over HTTPS for any compatible API server, configured by a kubeconfig through
// @kubernetes/client-node's KubeConfig (clusters, users, client certificates, tokens, exec/auth plugins).
// Requests are plain REST on the wire JSON — the generated typed clients turn timestamps into Date objects
// and have no generic subresource call, while the controllers want the objects exactly as served — over a
// keep-alive agent so a storm of CSRs reuses a few connections.
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubepkiError } from '../../util/errors.js';
import type { KubeClient, ListOptions, ObjectList, ResourceClient, ResourceRef, WatchEvent, WatchOptions, WatchStream } from './interface.js';
import { apiErrorFromResponse } from '../../apis/status.js';
import type { KubeObject, SubjectAccessReview } from '../../apis/objects.js';

interface Connection {
  base: URL;
  agent: http.Agent;
  headers: Record<string, string>;
  refreshedAt: number;
}

const AUTH_REFRESH_MS = 60_000;

/** The API server's loopback socket and the token it wants (ApiServer.listenLoopback). */
export interface LoopbackEndpoint {
  socketPath: string;
  token: string;
}

export interface RestKubeClientOptions {
  userAgent?: string;
  maxSockets?: number;
  /**
   * The API server's loopback socket (kubepki serve's own controllers): plain HTTP on the Unix socket with
   * the loopback token, instead of the kubeconfig's server and credentials.
   */
  loopback?: LoopbackEndpoint;
}

export class RestKubeClient implements KubeClient {
  private conn: Promise<Connection> | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly options: RestKubeClientOptions = {},
  ) {
    if (!kubeConfig.getCurrentCluster()) throw new KubepkiError('InvalidConfig', 'the kubeconfig has no current cluster');
  }

  static fromFile(file: string, options?: RestKubeClientOptions & { context?: string }): RestKubeClient {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new KubepkiError('FileInvalid', `cannot load kubeconfig ${file}: ${(err as Error).message}`, { cause: err });
    }
    if (options?.context) kc.setCurrentContext(options.context);
    return new RestKubeClient(kc, options);
  }

  /** The server URL of the current cluster. */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()!.server;
  }

  private async connection(): Promise<Connection> {
    const now = Date.now();
    const loopback = this.options.loopback;
    if (loopback) {
      this.conn ??= Promise.resolve({
        base: new URL('http://localhost'),
        // Node's Agent passes its options on to every request, socketPath included (@types/node omits it).
        agent: new http.Agent({ keepAlive: true, maxSockets: this.options.maxSockets ?? 64, socketPath: loopback.socketPath } as http.AgentOptions),
        headers: { 'user-agent': this.options.userAgent ?? 'kubepki-controller-manager', authorization: `Bearer ${loopback.token}` },
        refreshedAt: Infinity,
      });
      return this.conn;
    }
    if (this.conn) {
      const c = await this.conn;
      if (now - c.refreshedAt < AUTH_REFRESH_MS) return c;
      // Tokens from exec/auth-provider plugins expire: re-apply the user's credentials periodically.
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      c.headers = headersOf(opts, this.options.userAgent);
      c.refreshedAt = now;
      return c;
    }
    this.conn = (async () => {
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      const base = new URL(this.server);
      const agentOptions = {
        keepAlive: true,
        maxSockets: this.options.maxSockets ?? 64,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        servername: opts.servername,
        ...(opts.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      };
      const agent = base.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true, maxSockets: agentOptions.maxSockets });
      return { base, agent, headers: headersOf(opts, this.options.userAgent), refreshedAt: now };
    })();
    return this.conn;
  }

  /** PEM of the CA the kubeconfig trusts for the server (certificate-authority[-data]), if any. */
  clusterCA(): string | undefined {
    const c = this.kubeConfig.getCurrentCluster();
    if (c?.caData) return Buffer.from(c.caData, 'base64').toString('utf8');
    if (c?.caFile) {
      try {
        return readFileSync(c.caFile, 'utf8');
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  /** Closes idle keep-alive sockets (call when done). */
  async close(): Promise<void> {
    if (this.conn) (await this.conn).agent.destroy();
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const c = await this.connection();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(path, c.base);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = mod.request(
        url,
        {
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
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed as T);
            else reject(apiErrorFromResponse(code, parsed, `${method} ${url.pathname}: ${code} ${res.statusMessage ?? ''}`.trim()));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
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
        const loopback = this.options.loopback;
        const transport = loopback ? { socketPath: loopback.socketPath } : tlsOf(c.agent);
        request = mod.request(url, { method: 'GET', agent: false, ...transport, headers: { ...c.headers, accept: 'application/json' } }, (res) => {
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) {
            const chunks: Buffer[] = [];
            res.on('data', (d: Buffer) => chunks.push(d));
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
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
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

function headersOf(opts: https.RequestOptions, userAgent?: string): Record<string, string> {
  const out: Record<string, string> = { 'user-agent': userAgent ?? 'kubepki-controller-manager' };
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  if (opts.auth) out['authorization'] = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return out;
}

function tlsOf(agent: http.Agent): https.RequestOptions {
  const o = (agent as unknown as { options: https.AgentOptions }).options;
  return { ca: o.ca, cert: o.cert, key: o.key, servername: o.servername, ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) };
}

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

  async delete(name: string, options: { namespace?: string; preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<void> {
    const body = options.preconditions ? { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: options.preconditions } : undefined;
    await this.client.request('DELETE', this.path(options.namespace, name), body);
  }
}

const apiVersionOf = (ref: ResourceRef): string => (ref.group ? `${ref.group}/${ref.version}` : ref.version);
