// The node's own CertificateExpirationWarning Events (30, 7 and 1 days before its client or serving
// certificate expires), written as the node (the Node authorizer lets a node create events) in "default"
// about its Node object, as the kubelet reports node events. Named per certificate serial and threshold,
// so a restart does not report one again.
import { RestKubeClient } from '../client/rest.js';
import { RESOURCES } from '../client/interface.js';
import type { ClientConfig } from '../client/kubeconfig.js';
import type { KubeObject } from '../apis/objects.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { EXPIRY_EVENT_REASON, crossedThreshold } from '../util/expiry-thresholds.js';
import type { CertificateManager } from './rotation.js';
import { statusCodeOf } from './csr-client.js';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function reportNodeExpiry(o: { kubeConfig: ClientConfig; nodeName: string; managers: CertificateManager[]; clock: Clock; logger: Logger }): Promise<number> {
  const events = new RestKubeClient(o.kubeConfig, { userAgent: 'kubepki-agent', oneShot: true }).resource<KubeObject>(RESOURCES.events);
  const now = o.clock.now();
  let created = 0;
  for (const m of o.managers) {
    const cert = m.status().pair?.certificate;
    if (!cert) continue;
    const days = crossedThreshold(cert.notAfter, now);
    if (days === undefined) continue;
    const message = `the node's ${m.name} certificate (serial ${cert.serialNumber}) expires ${iso(cert.notAfter)}, in less than ${days} day${days === 1 ? '' : 's'}`;
    try {
      await events.create({
        metadata: { name: `${o.nodeName}.kubepki-certificate-expiration.${m.name}.${cert.serialNumber.slice(0, 16)}.${days}d`, namespace: 'default' },
        involvedObject: { apiVersion: 'v1', kind: 'Node', name: o.nodeName, uid: o.nodeName },
        reason: EXPIRY_EVENT_REASON,
        type: 'Warning',
        message,
        source: { component: 'kubepki-agent', host: o.nodeName },
        reportingComponent: 'kubepki-agent',
        reportingInstance: o.nodeName,
        count: 1,
        firstTimestamp: iso(now),
        lastTimestamp: iso(now),
      });
      created++;
      o.logger.warn({ certificate: m.name, days }, message);
    } catch (err) {
      // 409 AlreadyExists: reported before (the name is per serial and threshold).
      if (statusCodeOf(err) !== 409) o.logger.warn({ err: (err as Error).message }, 'cannot record a certificate expiration event');
    }
  }
  return created;
}

/** Checks at once and then every `everyMs` until `signal` aborts (a failed check is logged, not fatal). */
export async function runNodeExpiryEvents(o: { kubeConfig: () => ClientConfig; nodeName: string; managers: () => CertificateManager[]; clock: Clock; logger: Logger; everyMs: number; signal: AbortSignal }): Promise<void> {
  while (!o.signal.aborted) {
    await reportNodeExpiry({ kubeConfig: o.kubeConfig(), nodeName: o.nodeName, managers: o.managers(), clock: o.clock, logger: o.logger }).catch((err: unknown) =>
      o.logger.warn({ err: (err as Error).message }, 'certificate expiration check failed'),
    );
    await o.clock.sleep(o.everyMs, o.signal).catch(() => undefined);
  }
}
