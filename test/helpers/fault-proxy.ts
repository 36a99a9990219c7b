// A fault-injecting HTTPS reverse proxy to put in front of a real `kubepki serve`: it terminates TLS with a
// certificate it is given (e.g. the API server's own serving pair, so clients verify it against the cluster
// CA as usual), forwards every request to the real server — Authorization header and all — and streams the
// answer back, watches included. Tests use it to see which requests a client made (create/get/list/watch,
// in kube-apiserver's verb words) and to make the network misbehave: refuse or reset chosen requests, drop
// every open connection. Client certificates end at the proxy (it cannot present them upstream): send
// bearer tokens through it, or connect to the server directly to test certificate authentication.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Verb = 'create' | 'get' | 'list' | 'watch' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'other';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  verb: Verb;
  /** The resource (e.g. certificatesigningrequests) and, when the path names one, the object. */
  resource: string;
  name: string;
  subresource: string;
  /** What the proxy did with it. */
  outcome: 'forwarded' | 'refused' | 'reset';
  /** The real server's HTTP status, once it answered (undefined while it has not, or when it never will). */
  status?: number;
}

export interface Refusal {
  code: number;
  reason: string;
  message: string;
}

export interface FaultProxyOptions {
  /** The real server's base URL (https://host:port). */
  target: string;
  /** CA bundle that verifies the real server. */
  targetCa: string;
  /** The pair the proxy presents to its clients. */
  tls: { cert: string; key: string };
}

/** kube-apiserver's RequestInfo, enough of it: /api/v1/... and /apis/<group>/<version>/..., namespaced or not. */
export function requestInfo(method: string, url: string): Pick<ProxiedRequest, 'verb' | 'resource' | 'name' | 'subresource'> {
  const u = new URL(url, 'https://proxy.invalid');
  let parts = u.pathname.split('/').filter(Boolean);
  if (parts[0] === 'api') parts = parts.slice(2);
  else if (parts[0] === 'apis') parts = parts.slice(3);
  else return { verb: 'other', resource: '', name: '', subresource: '' };
  let watchPath = false;
  if (parts[0] === 'watch') {
    watchPath = true;
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces' && parts.length >= 3) parts = parts.slice(2);
  const [resource = '', name = '', subresource = ''] = parts;
  const watch = watchPath || ['true', '1'].includes(u.searchParams.get('watch') ?? '');
  const verbs: Record<string, Verb> = { POST: 'create', PUT: 'update', PATCH: 'patch' };
  let verb: Verb = verbs[method] ?? 'other';
  if (method === 'GET') verb = watch ? 'watch' : name ? 'get' : 'list';
  if (method === 'DELETE') verb = name ? 'delete' : 'deletecollection';
  return { verb, resource, name, subresource };
}

export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  /** When it returns a refusal, the request is answered with that Status and never forwarded. */
  refuse: ((r: ProxiedRequest) => Refusal | undefined) | null = null;
  /** When it returns true, the client's connection is destroyed without an answer (a reset). */
  reset: ((r: ProxiedRequest) => boolean) | null = null;
  private server: https.Server | null = null;
  private readonly sockets = new Set<Socket>();
  private readonly upstream: https.Agent;

  constructor(private readonly options: FaultProxyOptions) {
    this.upstream = new https.Agent({ keepAlive: true, ca: options.targetCa });
  }

  /** Starts listening on 127.0.0.1 (port 0: any free port). */
  async start(port = 0): Promise<this> {
    const server = https.createServer({ cert: this.options.tls.cert, key: this.options.tls.key }, (req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    return this;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** The requests seen, optionally only those of one verb (and resource); `answered`: only those the real server answered. */
  count(verb?: Verb, options: { resource?: string; answered?: boolean } = {}): number {
    return this.requests.filter((r) => (!verb || r.verb === verb) && (!options.resource || r.resource === options.resource) && (!options.answered || r.status !== undefined)).length;
  }

  /** Destroys every open client connection (and the requests forwarded for it), as a network failure would. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = null;
    this.dropConnections();
    this.upstream.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const r: ProxiedRequest = { method, url, ...requestInfo(method, url), outcome: 'forwarded' };
    this.requests.push(r);
    if (this.reset?.(r)) {
      r.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    const refusal = this.refuse?.(r);
    if (refusal) {
      r.outcome = 'refused';
      req.resume();
      res
        .writeHead(refusal.code, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: refusal.message, reason: refusal.reason, code: refusal.code }));
      return;
    }
    const headers = { ...req.headers };
    delete headers['host'];
    delete headers['connection'];
    let done = false;
    const up = https.request(new URL(url, this.options.target), { method, headers, agent: this.upstream }, (upRes) => {
      r.status = upRes.statusCode ?? 502;
      res.writeHead(r.status, upRes.headers);
      res.flushHeaders();
      upRes.on('data', (chunk: Buffer) => res.write(chunk));
      upRes.on('end', () => {
        done = true;
        res.end();
      });
      upRes.on('error', () => req.socket.destroy());
    });
    // The real server unreachable or gone mid-answer: the client's connection fails too.
    up.on('error', () => req.socket.destroy());
    // The client gone (or dropped by dropConnections) mid-answer: so is the forwarded request, a watch included.
    res.on('close', () => {
      if (!done) up.destroy();
    });
    req.pipe(up);
  }
}

/** Starts a proxy in front of `target`; it is closed after the test. */
export async function startFaultProxy(t: { after: (fn: () => Promise<void>) => void }, options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = await new FaultProxy(options).start();
  t.after(() => proxy.close());
  return proxy;
}
