// Wires certificate expiry into a running serve: the not-after gauge on /metrics and the expiration Events.
import path from 'node:path';
import type { Logger } from '../util/logger.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { ApiServer } from './server.js';
import { diskCertificates, registerExpirationGauge, tlsSecretCertificates } from './expiry-metrics.js';
import { startExpiryEvents } from './expiry-events.js';

export function startServeExpiry(o: { server: ApiServer; dataDir?: string; files: string[]; logger: Logger; clock?: Clock }): { stop(): void } {
  const disk = () => diskCertificates({ ...(o.dataDir ? { certDir: path.join(o.dataDir, 'pki'), kubeconfigDir: o.dataDir } : {}), files: o.files });
  registerExpirationGauge(o.server.metrics.registry, async () => [...(await disk()), ...(await tlsSecretCertificates(o.server.handler).catch(() => []))]);
  return startExpiryEvents({ handler: o.server.handler, known: disk, clock: o.clock ?? systemClock, logger: o.logger });
}
