// The dashboard's HTTP server: the page and its scripts, a Server-Sent Events stream of snapshots (one per
// change, coalesced), and the one state-changing call, a CSR decision through the API's /approval
// subresource as the kubeconfig's identity (the API server decides whether it may). Never a proxy: the page
// gets the dashboard's own summaries only, so no credential or Secret value can pass through.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { isApiError } from '../apis/status.js';
import { KubepkiError } from '../util/errors.js';
import type { RestKubeClient } from '../client/rest.js';
import type { CertificateSigningRequest } from '../apis/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { indexHtml, signInHtml, STYLE_CSS } from './assets.js';
import { peerIsSameUser } from './same-user-peer.js';
import { DEFAULT_ACCEPT_HOSTS, SECURITY_HEADERS, Sessions, hostAccepted, parseAcceptHosts, sessionKeyFor } from './security.js';
import { DashboardSources } from './sources.js';
import { TrustModel } from './trust-model.js';
import { rotationFromSecrets } from './rotation.js';
import type { DashboardSnapshot } from './view.js';

export interface DashboardOptions {
  client: RestKubeClient;
  /** Shown on the page: who the dashboard acts as. */
  identity: string;
  port: number;
  address?: string;
  acceptHosts?: string;
  certDir?: string;
  kubeconfigDir?: string;
  clock?: Clock;
  logger?: Logger;
  /**
   * The kubeconfig's own secret (client key, token or password), from which the session key is derived
   * (security.ts sessionKeyFor): sessions and the access URL then outlive a restart. Random when absent.
   */
  sessionSecret?: string;
  /** Coalescing delay between a change and the snapshot sent for it. */
  debounceMs?: number;
}

export interface RunningDashboard {
  /** The access URL, with the token that opens a session (`/?token=…`). */
  url: string;
  stop(): Promise<void>;
}

/** The page's modules (compiled from src/dashboard/page by its own tsconfig), the only files served. */
const PAGE_MODULES = new Set(['app.js', 'graph.js', 'timeline.js', 'csrs.js', 'nodes.js', 'rotation.js', 'dom.js', 'details.js']);
const MAX_BODY = 16 * 1024;

export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const accept = parseAcceptHosts(options.acceptHosts ?? DEFAULT_ACCEPT_HOSTS);
  const clock = options.clock ?? systemClock;
  // Made once the port is known (the session cookie's name carries it); no request arrives before.
  let sessions!: Sessions;
  const model = new TrustModel();
  const streams = new Set<http.ServerResponse>();
  let snapshotJson = '';
  let timer: NodeJS.Timeout | undefined;

  const build = (): string => {
    const s = sources;
    const secrets = s.secrets.list();
    const ca = options.client.clusterCA();
    const rotation = rotationFromSecrets(secrets);
    const snapshot: DashboardSnapshot = model.build({
      now: clock.now(),
      identity: options.identity,
      server: options.client.server,
      ...(ca ? { clusterCaPem: ca } : {}),
      csrs: s.csrs.list(),
      secrets,
      configMaps: s.configMaps.list(),
      leases: s.leases.list(),
      files: s.files,
      ...(rotation ? { rotation } : {}),
      errors: { ...s.errors },
    });
    return JSON.stringify(snapshot);
  };
  let lastPublish = 0;
  const publish = () => {
    timer = undefined;
    lastPublish = Date.now();
    try {
      snapshotJson = build();
    } catch (err) {
      // Whatever the cluster holds, the dashboard stays up: the pages keep the last snapshot.
      options.logger?.error({ err: (err as Error).message }, 'dashboard: cannot build the snapshot');
      return;
    }
    for (const res of streams) res.write(`event: snapshot\ndata: ${snapshotJson}\n\n`);
  };
  const changed = () => {
    // A big cluster's snapshot is megabytes that every open page parses and draws: under a storm of changes
    // they are sent at most about once per second per half megabyte (a change waits 2 s at most), so the pages stay
    // responsive; a small cluster's still come within debounceMs.
    const debounce = options.debounceMs ?? 100;
    const gap = Math.min(2000, Math.max(debounce, snapshotJson.length / 500));
    timer ??= setTimeout(publish, Math.max(debounce, lastPublish + gap - Date.now()));
  };
  const sources = new DashboardSources({
    client: options.client,
    ...(options.certDir ? { certDir: options.certDir } : {}),
    ...(options.kubeconfigDir ? { kubeconfigDir: options.kubeconfigDir } : {}),
    clock,
    ...(options.logger ? { logger: options.logger } : {}),
    onChange: changed,
  });

  const pageDir = new URL('./page/', import.meta.url);
  const send = (res: http.ServerResponse, code: number, type: string, body: string | Buffer) => {
    res.writeHead(code, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const json = (res: http.ServerResponse, code: number, body: unknown) => send(res, code, 'application/json; charset=utf-8', JSON.stringify(body));

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger?.error({ err: (err as Error).message }, 'dashboard request failed');
      if (!res.headersSent) json(res, 500, { message: 'internal error' });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAccepted(req, accept)) {
      // kubectl proxy answers a rejected host with 403 and no further detail.
      return send(res, 403, 'text/plain; charset=utf-8', 'Forbidden: Host header not accepted\n');
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard');
    } catch {
      return json(res, 400, { message: 'bad request path' });
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // The page's code and look are no secret; everything about the cluster needs a session.
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204, SECURITY_HEADERS);
        return void res.end();
      }
      if (url.pathname === '/static/style.css') return send(res, 200, 'text/css; charset=utf-8', STYLE_CSS);
      const m = /^\/static\/([a-z]+\.js)$/.exec(url.pathname);
      if (m && PAGE_MODULES.has(m[1]!)) return send(res, 200, 'text/javascript; charset=utf-8', await readFile(new URL(m[1]!, pageDir)));
      const cross = sessions.refuseCrossSite(req);
      if (cross && url.pathname === '/') return send(res, 403, 'text/html; charset=utf-8', signInHtml('The dashboard does not open from another site\'s page: paste its access link into the address bar.'));
      if (cross) return json(res, 403, { message: `refused: ${cross}` });
      if (url.pathname === '/') {
        const token = url.searchParams.get('token');
        if (token !== null) {
          if (!sessions.tokenValid(token)) return send(res, 401, 'text/html; charset=utf-8', signInHtml('This access link is not (or no longer) valid.'));
          // Trade the token for a session cookie, and take it out of the address bar and the history.
          if (!sessions.session(req)) sessions.startSession(res);
          res.writeHead(303, { ...SECURITY_HEADERS, location: '/', 'content-length': 0 });
          return void res.end();
        }
        // A browser of the dashboard's own OS user opens the bare address; anyone else needs the access link.
        const session = sessions.session(req) ?? ((await peerIsSameUser(req.socket)) ? sessions.startSession(res) : undefined);
        if (!session) return send(res, 401, 'text/html; charset=utf-8', signInHtml());
        return send(res, 200, 'text/html; charset=utf-8', indexHtml(sessions.csrfToken(session)));
      }
      if (url.pathname === '/api/session') {
        if (!sessions.session(req)) return json(res, 401, { message: 'no dashboard session: open the access URL kubepki dashboard printed' });
        return json(res, 200, { identity: options.identity, server: options.client.server });
      }
      if (url.pathname === '/api/events') {
        if (!sessions.session(req)) return json(res, 401, { message: 'no dashboard session: open the access URL kubepki dashboard printed' });
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
        res.write(`retry: 2000\n\n`);
        snapshotJson ||= build();
        res.write(`event: snapshot\ndata: ${snapshotJson}\n\n`);
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }
      return json(res, 404, { message: 'not found' });
    }
    if (req.method === 'POST') {
      const refused = sessions.refuseStateChange(req);
      if (refused) return json(res, 403, { message: `refused: ${refused}` });
      const m = /^\/api\/csr\/([^/]+)\/(approve|deny)$/.exec(url.pathname);
      if (!m) return json(res, 404, { message: 'not found' });
      let name: string;
      try {
        name = decodeURIComponent(m[1]!);
      } catch {
        return json(res, 400, { message: 'the CSR name in the path is not valid percent-encoding' });
      }
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return json(res, 415, { message: 'content-type must be application/json' });
      const body = await readBody(req);
      if (body === undefined) return json(res, 413, { message: 'request body too large' });
      let decision: { message?: unknown };
      try {
        decision = JSON.parse(body) as { message?: unknown };
      } catch {
        return json(res, 400, { message: 'request body is not JSON' });
      }
      const message = typeof decision?.message === 'string' ? decision.message.slice(0, 1024) : '';
      const out = await decide({ client: options.client, name, approve: m[2] === 'approve', message, now: clock.now() });
      return json(res, out.code, out);
    }
    res.setHeader('allow', 'GET, HEAD, POST');
    return json(res, 405, { message: 'method not allowed' });
  }

  const address = options.address ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, address, () => resolve());
    });
  } catch (err) {
    await options.client.close();
    throw new KubepkiError('InvalidArgument', `cannot listen on ${address}:${options.port}: ${(err as Error).message}`, { cause: err });
  }
  // Watch only once listening: a port in use leaves nothing running behind.
  // A comment line now and then: idle proxies keep the stream open, and a gone page is noticed and dropped.
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(': keep-alive\n\n');
  }, 25_000);
  heartbeat.unref();
  const abort = new AbortController();
  const running = sources.run(abort.signal).catch((err: unknown) => options.logger?.error({ err: (err as Error).message }, 'dashboard sources stopped'));
  const port = (server.address() as AddressInfo).port;
  sessions = new Sessions(port, sessionKeyFor(options.sessionSecret, port));
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/?token=${sessions.accessToken}`,
    stop: async () => {
      abort.abort();
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running;
      await options.client.close();
    },
  };
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Approves or denies a CSR as `kubectl certificate approve|deny` does: read it, add the condition, PUT the
 * /approval subresource (a conflict means someone else changed it: the page sees the new state and may retry).
 */
async function decide(o: { client: RestKubeClient; name: string; approve: boolean; message: string; now: Date }): Promise<{ code: number; message: string; reason?: string }> {
  const path = `/apis/certificates.k8s.io/v1/certificatesigningrequests/${encodeURIComponent(o.name)}`;
  try {
    const csr = await o.client.request<CertificateSigningRequest>('GET', path);
    const conditions = csr.status?.conditions ?? [];
    const type = o.approve ? 'Approved' : 'Denied';
    if (conditions.some((c) => c.type === 'Approved' || c.type === 'Denied')) {
      return { code: 409, reason: 'AlreadyDecided', message: `certificatesigningrequest ${o.name} is already ${conditions.find((c) => c.type === 'Approved' || c.type === 'Denied')!.type.toLowerCase()}` };
    }
    const time = o.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const condition = {
      type,
      status: 'True',
      reason: o.approve ? 'DashboardApprove' : 'DashboardDeny',
      message: o.message || `This CSR was ${o.approve ? 'approved' : 'denied'} in the kubepki dashboard.`,
      lastUpdateTime: time,
      lastTransitionTime: time,
    };
    await o.client.request('PUT', `${path}/approval`, { ...csr, status: { ...csr.status, conditions: [...conditions, condition] } });
    return { code: 200, message: `certificatesigningrequest ${o.name} ${o.approve ? 'approved' : 'denied'}` };
  } catch (err) {
    if (isApiError(err)) return { code: err.code, reason: err.reason ?? '', message: err.message };
    throw err;
  }
}

