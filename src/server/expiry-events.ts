// Warning Events (reason CertificateExpirationWarning) 30, 7 and 1 days before a control-plane certificate
// expires. Each (certificate, threshold) pair has a fixed Event name, so a restart — or a second replica —
// that finds the Event already there does not report it again. When several thresholds are crossed at once
// (a server started 5 days before expiry) only the nearest one is reported.
import { createHash } from 'node:crypto';
import type { ApiHandler } from '../api/handler.js';
import { ApiError } from '../apis/status.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { KnownCertificate } from './expiry-metrics.js';
import { EXPIRY_EVENT_REASON, EXPIRY_WARNING_DAYS, crossedThreshold } from '../util/expiry-thresholds.js';

export { EXPIRY_WARNING_DAYS, EXPIRY_EVENT_REASON, crossedThreshold };

/** Event name: stable per certificate (source and serial) and threshold. */
export function expiryEventName(c: KnownCertificate, days: number): string {
  return `kubepki-certificate-expiration.${createHash('sha256').update(`${c.source}\n${c.serialNumber}`).digest('hex').slice(0, 16)}.${days}d`;
}

export interface ExpiryEventsOptions {
  handler: ApiHandler;
  known: () => Promise<KnownCertificate[]>;
  clock: Clock;
  logger: Logger;
  /** How often to look (default 1 h). */
  intervalMs?: number;
  /** involvedObject of the Events. */
  component?: string;
}

export function startExpiryEvents(o: ExpiryEventsOptions): { stop(): void; check(): Promise<number> } {
  const check = async (): Promise<number> => {
    const store = o.handler.storeFor('', 'v1', 'events');
    if (!store) return 0;
    const now = o.clock.now();
    let created = 0;
    for (const c of await o.known()) {
      if (!c.controlPlane) continue;
      const days = crossedThreshold(c.notAfter, now);
      if (days === undefined) continue;
      const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: expiryEventName(c, days), namespace: 'kube-system' },
        involvedObject: { apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' },
        reason: EXPIRY_EVENT_REASON,
        type: 'Warning',
        message: `certificate ${c.source.replace(/^[a-z-]+:/, '')} (${c.subject}, serial ${c.serialNumber}) expires ${c.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')}, in less than ${days} day${days === 1 ? '' : 's'}; renew it: kubepki certs renew`,
        source: { component: o.component ?? 'kubepki-serve' },
        reportingComponent: o.component ?? 'kubepki-serve',
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
      };
      try {
        await store.create('kube-system', event, o.handler.systemContext(), { dryRun: false });
        created++;
        o.logger.warn({ source: c.source, days }, event.message);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 409)) o.logger.warn({ err: (err as Error).message }, 'cannot record a certificate expiration event');
      }
    }
    return created;
  };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const loop = () => {
    if (stopped) return;
    check()
      .catch((err: unknown) => o.logger.warn({ err: (err as Error).message }, 'certificate expiration check failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, o.intervalMs ?? 3600_000).unref();
      });
  };
  loop();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    check,
  };
}
