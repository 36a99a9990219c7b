// The API server's composition: HTTPS with client certificates requested but verified by the
// authenticators (not by TLS), the request pipeline authenticate → authorize → serve, the non-resource
// endpoints (/healthz, /livez, /readyz, /version, /metrics) and the API handler for everything under /api,
// /apis and /openapi. Storage, authenticator and authorizer are injected; `serve` wires the real ones.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { forbiddenError } from '../auth/authz/forbidden.js';
import { authenticationFailureLogLine } from '../auth/authn/errors.js';
import type { Authenticator } from '../auth/types.js';
import type { Storage } from '../storage/interface.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ApiHandler, sendJson, writeStatus, type ApiHandlerOptions } from '../api/handler.js';
import type { ResourceDefinition } from '../api/registry.js';
import { ResourceRegistry } from '../api/registry.js';
import { parseRequestInfo, type RequestInfo } from '../api/request-info.js';
import { requestPath } from '../api/request-path.js';
import { answerConnectWith405 } from './connect-method.js';
import { notFoundPath } from '../api/status.js';
import { impersonate } from './impersonation.js';
import { builtinResources } from '../resources/index.js';
import { ensureSystemNamespaces } from './bootstrap.js';
import { reconcileKubernetesService } from '../resources/services.js';
import { DEFAULTS } from '../cluster/config.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { clientCertificateExpiration, type ClientCertificateExpiration } from './expiry-metrics.js';
import { openLoopback, type LoopbackListener } from './loopback.js';
import { ApiError, internalError, unauthorized } from '../apis/status.js';
import { KUBE_VERSION } from '../apis/kube-version.js';
import type { AuthorizationAttributes, Authorizer, UserInfo } from '../apis/authorization.js';
import { applyConnectionLimits, armRequestTimeout, KUBE_CONNECTION_LIMITS, serverConnectionOptions, timedOut, type ConnectionLimits } from './timeouts.js';


export interface ApiServerOptions {
  storage: Storage;
  tls: {
    cert: string | Buffer;
    key: string | Buffer;
    /** CA names advertised in the TLS CertificateRequest (the client CA bundle), so clients pick the right certificate. */
    clientCA?: string | Buffer;
  };
  /**
   * The whole authentication chain (a union of authenticators, with anonymous fallback if enabled) and the
   * authorizer. Either here, or later through setAuth() when they need the server's objects (lookups, RBAC).
   */
  authenticator?: Authenticator;
  authorizer?: Authorizer;
  /** Runs after the system namespaces exist and before the server listens (e.g. RBAC bootstrap policy). */
  bootstrap?: (handler: ApiHandler) => Promise<void>;
  bindAddress?: string;
  /** 0 = any free port. */
  port?: number;
  clock?: Clock;
  logger?: Logger;
  resources?: ResourceDefinition[];
  watch?: ApiHandlerOptions['watch'];
  maxRequestBodyBytes?: number;
  /** Skip creating default, kube-system, kube-public and kube-node-lease (and the default/kubernetes Service). */
  skipSystemNamespaces?: boolean;
  /** kube-apiserver's --service-cluster-ip-range: its first IP is default/kubernetes's ClusterIP. Default 10.96.0.0/12. */
  serviceClusterIpRange?: string;
  /** Connection deadlines and header size; kube-apiserver's by default (timeouts.ts). */
  connectionLimits?: Partial<ConnectionLimits>;
}

const PEER_CHAIN = Symbol('kubepki.peerChain');
type SocketWithChain = TLSSocket & { [PEER_CHAIN]?: Uint8Array[] };

/** The DER chain the client presented, leaf first (computed once per connection). */
function peerChain(socket: SocketWithChain): Uint8Array[] {
  const cached = socket[PEER_CHAIN];
  if (cached) return cached;
  const chain: Uint8Array[] = [];
  const peer = socket.getPeerCertificate?.(true);
  if (peer && peer.raw) {
    let c: typeof peer | undefined = peer;
    const seen = new Set<string>();
    while (c && c.raw && !seen.has(c.fingerprint256)) {
      seen.add(c.fingerprint256);
      chain.push(new Uint8Array(c.raw));
      c = c.issuerCertificate as typeof peer | undefined;
    }
  }
  socket[PEER_CHAIN] = chain;
  return chain;
}

function secureContextOptions(tls: ApiServerOptions['tls']) {
  return { cert: tls.cert, key: tls.key, ...(tls.clientCA ? { ca: tls.clientCA } : {}), minVersion: 'TLSv1.2' as const };
}

export class ApiServer {
  readonly registry: ResourceRegistry;
  readonly handler: ApiHandler;
  readonly metrics: ServerMetrics;
  private readonly clientCertExpiry: ClientCertificateExpiration;
  private readonly server: https.Server;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private address: AddressInfo | undefined;
  private ready = false;

  constructor(private readonly o: ApiServerOptions) {
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    this.limits = { ...KUBE_CONNECTION_LIMITS, ...o.connectionLimits };
    this.registry = new ResourceRegistry(o.resources ?? builtinResources());
    this.handler = new ApiHandler({
      registry: this.registry,
      storage: o.storage,
      clock: this.clock,
      logger: this.logger,
      serverAddress: `${o.bindAddress ?? '127.0.0.1'}:${o.port ?? 6443}`,
      authorize: (attrs) => this.authz().authorize(attrs),
      ...(o.maxRequestBodyBytes ? { maxRequestBodyBytes: o.maxRequestBodyBytes } : {}),
      watch: o.watch,
    });
    this.metrics = createMetrics({
      watchers: () => this.handler.watchCount,
      storageObjects: async () => {
        const out: Record<string, number> = {};
        for (const [def, store] of this.handler.stores) {
          out[def.group ? `${def.plural}.${def.group}` : def.plural] = await o.storage.count(store.prefix).catch(() => 0);
        }
        return out;
      },
    });
    this.clientCertExpiry = clientCertificateExpiration(this.metrics.registry);
    this.server = https.createServer(
      {
        ...secureContextOptions(o.tls),
        requestCert: true,
        rejectUnauthorized: false,
        ...serverConnectionOptions(this.limits),
      },
      (req, res) => this.dispatch(req, res, this.authenticator!),
    );
    this.authenticator = o.authenticator;
    this.authorizer = o.authorizer;
    applyConnectionLimits(this.server, this.limits);
    answerConnectWith405(this.server);
  }

  private readonly limits: ConnectionLimits;

  private authenticator: Authenticator | undefined;
  private authorizer: Authorizer | undefined;
  private loopback: LoopbackListener | undefined;
  private readonly metricsSources = new Set<() => Promise<string>>();

  /** More Prometheus text served after the server's own on /metrics (serve's controllers thread); returns its removal. */
  addMetricsSource(source: () => Promise<string>): () => void {
    this.metricsSources.add(source);
    return () => this.metricsSources.delete(source);
  }

  /**
   * New serving certificate/key and client CA names for new handshakes (a reloaded file, a CA rotation);
   * connections already open keep the context they were made with.
   */
  setTlsMaterial(tls: ApiServerOptions['tls']): void {
    this.server.setSecureContext(secureContextOptions(tls));
  }

  /** Sets the authentication chain and authorizer (before start()). */
  setAuth(authenticator: Authenticator, authorizer: Authorizer): void {
    this.authenticator = authenticator;
    this.authorizer = authorizer;
  }

  private authz(): Authorizer {
    if (!this.authorizer) throw new Error('no authorizer configured');
    return this.authorizer;
  }

  /** Starts the caches, creates the system namespaces, runs the bootstrap hook and listens. */
  async start(): Promise<{ port: number; url: string }> {
    if (!this.authenticator || !this.authorizer) throw new Error('ApiServer: no authenticator/authorizer (pass them in the options or call setAuth)');
    if (!this.o.skipSystemNamespaces) await ensureSystemNamespaces(this.handler, this.clock);
    await this.handler.start();
    if (this.o.bootstrap) await this.o.bootstrap(this.handler);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port ?? 6443, this.o.bindAddress ?? '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.address = this.server.address() as AddressInfo;
    const svc = this.o.skipSystemNamespaces ? undefined : this.handler.storeFor('', 'v1', 'services');
    if (svc) await reconcileKubernetesService(svc, this.handler.systemContext(), { serviceCidr: this.o.serviceClusterIpRange ?? DEFAULTS.serviceSubnet, securePort: this.address.port });
    this.ready = true;
    return { port: this.address.port, url: this.url };
  }

  get url(): string {
    const a = this.address;
    if (!a) throw new Error('server not started');
    const host = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
    return `https://${host}:${a.port}`;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  /**
   * Serves the API to this process's own clients (serve's controllers) on the loopback socket (loopback.ts):
   * requests with its token are authenticated as `user`; authorization, admission and watches are those of
   * the secure port. Closed with the server.
   */
  async listenLoopback(user: UserInfo): Promise<{ socketPath: string; token: string }> {
    if (this.loopback) throw new Error('the loopback socket is already listening');
    const listener = await openLoopback(user, (req, res, authenticator) => this.dispatch(req, res, authenticator), this.server);
    this.loopback = listener;
    return { socketPath: listener.socketPath, token: listener.token };
  }

  async close(): Promise<void> {
    this.ready = false;
    await this.handler.stop();
    const loopback = this.loopback;
    this.loopback = undefined;
    await Promise.all([
      new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      }),
      loopback?.close(),
    ]);
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, authenticator: Authenticator): void {
    this.serve(req, res, authenticator).catch((err: unknown) => {
      if (timedOut(res)) return; // answered 504 already; the handler's late write has nowhere to go
      this.logger.error({ err: String(err) }, 'unhandled error serving request');
      if (!res.headersSent) writeStatus(res, internalError(err).status);
      else res.end();
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse, authenticator: Authenticator): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://localhost');
    let pathname: string;
    try {
      pathname = requestPath(req.url ?? '/');
    } catch (err) {
      if (err instanceof ApiError) return writeStatus(res, err.status);
      throw err;
    }
    // Routing and authorization read the decoded, un-normalized path (see request-path.ts), never url.pathname.
    const info = parseRequestInfo(req.method ?? 'GET', pathname, url.searchParams);
    res.on('finish', () => this.record(info, res.statusCode, started));
    armRequestTimeout(req, res, { ms: this.limits.requestTimeoutMs, longRunning: info.verb === 'watch' });

    this.clientCertExpiry.observe(req.socket, this.clock.now());
    let user: UserInfo;
    try {
      const result = await authenticator.authenticate({
        // Distinct values: repeated X-Remote-Group headers must stay separate groups (Node joins them in req.headers).
        headers: req.headersDistinct,
        peerCertificates: peerChain(req.socket as SocketWithChain),
      });
      if (!result) {
        this.metrics.authentication.inc({ result: 'failure' });
        return writeStatus(res, unauthorized().status);
      }
      user = result.user;
      this.metrics.authentication.inc({ result: 'success' });
    } catch (err) {
      this.metrics.authentication.inc({ result: 'error' });
      this.logger.info(authenticationFailureLogLine(err as Error));
      return writeStatus(res, unauthorized().status);
    }
    if (req.headers['impersonate-user'] !== undefined || req.headers['impersonate-group'] !== undefined || req.headers['impersonate-uid'] !== undefined) {
      try {
        user = await impersonate(user, req.headers, this.authorizer!);
      } catch (err) {
        if (err instanceof ApiError) return writeStatus(res, err.status);
        throw err;
      }
    }

    const attrs: AuthorizationAttributes = {
      user,
      verb: info.verb,
      resourceRequest: info.isResourceRequest,
      apiGroup: info.apiGroup,
      apiVersion: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      path: pathname,
    };
    const decision = await this.authorizer!.authorize(attrs);
    this.metrics.authorization.inc({ decision: decision.decision === 'allow' ? 'allowed' : 'denied' });
    if (decision.decision !== 'allow') return writeStatus(res, forbiddenError(attrs, decision.reason).status);

    if (ApiHandler.serves(pathname)) return this.handler.handle(req, res, { user, info, url });
    return this.serveNonResource(req, res, url, pathname);
  }

  private async serveNonResource(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return writeStatus(res, notFoundPath().status);
    if (path === '/version' || path === '/version/') {
      return sendJson(
        res,
        200,
        JSON.stringify({
          ...KUBE_VERSION,
          gitCommit: '',
          gitTreeState: 'clean',
          buildDate: '1970-01-01T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'node',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        }),
      );
    }
    if (path === '/metrics') {
      const extra = await Promise.all([...this.metricsSources].map((source) => source()));
      const body = (await this.metrics.registry.metrics()) + extra.join('');
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
      res.end(body);
      return;
    }
    const health = /^\/(healthz|livez|readyz)(?:\/([a-z-]+))?\/?$/.exec(path);
    if (health) return this.serveHealth(res, health[1]!, health[2], url.searchParams.has('verbose'));
    return writeStatus(res, notFoundPath().status);
  }

  private async serveHealth(res: ServerResponse, kind: string, only: string | undefined, verbose: boolean): Promise<void> {
    const checks: [string, () => Promise<void>][] = [['ping', async () => undefined]];
    if (kind !== 'livez') {
      checks.push([
        this.o.storage.kind === 'etcd' ? 'etcd' : 'storage',
        () =>
          Promise.race([
            this.o.storage.currentRevision().then(() => undefined),
            new Promise<void>((_, reject) => setTimeout(() => reject(new Error('storage did not answer within 2s')), 2000).unref()),
          ]),
      ]);
    }
    if (kind === 'readyz') checks.push(['shutdown', async () => (this.ready ? undefined : Promise.reject(new Error('server is shutting down')))]);
    const selected = only ? checks.filter(([n]) => n === only) : checks;
    if (only && selected.length === 0) return writeStatus(res, notFoundPath().status);
    const lines: string[] = [];
    let failed = false;
    for (const [name, check] of selected) {
      try {
        await check();
        lines.push(`[+]${name} ok`);
      } catch (err) {
        failed = true;
        lines.push(`[-]${name} failed: reason withheld`);
        this.logger.warn({ check: name, err: (err as Error).message }, `${kind} check failed`);
      }
    }
    const body = failed ? `${lines.join('\n')}\n${kind} check failed\n` : verbose ? `${lines.join('\n')}\n${kind} check passed\n` : 'ok';
    res.writeHead(failed ? 500 : 200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  }

  private record(info: RequestInfo, code: number, started: bigint): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const scope = !info.isResourceRequest ? '' : info.namespace ? (info.name ? 'resource' : 'namespace') : info.name ? 'resource' : 'cluster';
    const labels = {
      verb: info.isResourceRequest ? info.verb.toUpperCase() : info.verb.toUpperCase(),
      group: info.apiGroup,
      version: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      scope,
      component: 'apiserver',
    };
    this.metrics.requests.inc({ ...labels, code: String(code) });
    if (info.verb !== 'watch') this.metrics.latency.observe(labels, seconds);
  }
}

