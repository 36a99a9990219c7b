// The agent's /healthz and /metrics on a loopback port (the kubelet's healthz port): healthy while it holds
// an unexpired client certificate; metrics give seconds until each certificate expires, rotations and
// failures by reason. One registry per agent, so many agents can live in one process (the fleet test).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { CertificateManager, ManagerObserver } from './rotation.js';
import { isLoopbackAddress } from '../util/socket-host.js';

export class AgentMetrics implements ManagerObserver {
  readonly registry = new Registry();
  private readonly rotations: Counter<'certificate'>;
  private readonly failures: Counter<'certificate' | 'reason'>;
  private readonly lived: Histogram<'certificate'>;

  constructor(options: { clock?: Clock; managers: () => CertificateManager[] }) {
    const clock = options.clock ?? systemClock;
    new Gauge({
      name: 'kubepki_agent_certificate_expiration_seconds',
      help: 'Seconds until the certificate in use expires (negative once expired).',
      labelNames: ['certificate'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of options.managers()) {
          const pair = m.status().pair;
          if (pair) this.set({ certificate: m.name }, (pair.certificate.notAfter.getTime() - clock.now().getTime()) / 1000);
        }
      },
    });
    this.rotations = new Counter({
      name: 'kubepki_agent_certificate_rotations_total',
      help: 'Certificates obtained and put in use (bootstrap included).',
      labelNames: ['certificate'],
      registers: [this.registry],
    });
    this.failures = new Counter({
      name: 'kubepki_agent_certificate_renewal_failures_total',
      help: 'Failed certificate requests, by reason (denied, failed, unauthorized, expired, api, store, invalid-certificate, no-credentials).',
      labelNames: ['certificate', 'reason'],
      registers: [this.registry],
    });
    this.lived = new Histogram({
      name: 'kubepki_agent_certificate_rotation_seconds',
      help: 'How long the previous certificate had been valid when it was replaced (client-go certificate_manager rotation histogram).',
      labelNames: ['certificate'],
      buckets: [60, 3600, 14400, 86400, 604800, 2592000, 7776000, 15552000, 31104000, 62208000],
      registers: [this.registry],
    });
  }

  rotated(info: Parameters<NonNullable<ManagerObserver['rotated']>>[0]): void {
    this.rotations.inc({ certificate: info.manager });
    if (info.previous) this.lived.observe({ certificate: info.manager }, (info.now.getTime() - info.previous.certificate.notBefore.getTime()) / 1000);
  }

  failed(info: Parameters<NonNullable<ManagerObserver['failed']>>[0]): void {
    this.failures.inc({ certificate: info.manager, reason: info.reason });
  }
}

export type HealthCheck = () => { ok: true } | { ok: false; message: string };

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz and /metrics on a loopback address only (they reveal node state, never secrets). */
export async function startHealthServer(options: { host?: string; port: number; registry: Registry; health: HealthCheck }): Promise<HealthServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host)) throw new KubepkiError('InvalidArgument', `--healthz-bind-address ${host}: only a loopback address is allowed`);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (url.pathname === '/healthz') {
      const h = options.health();
      res.writeHead(h.ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(h.ok ? 'ok' : `unhealthy: ${h.message}\n`);
      return;
    }
    if (url.pathname === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String((err as Error).message)),
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new KubepkiError('InvalidArgument', `cannot listen on ${host}:${options.port} for /healthz: ${err.message}`, { cause: err })),
    );
    server.listen(options.port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
