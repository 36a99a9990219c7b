// The node's certificates on the agent's /metrics under the same name serve uses for the control plane
// (kubepki_certificate_expiration_timestamp_seconds{source, subject}), so one alert rule covers both.
import { Gauge, type Registry } from 'prom-client';
import { formatName } from '../x509/names.js';
import type { CertificateManager } from './rotation.js';

export function registerNodeExpirationGauge(registry: Registry, o: { managers: () => CertificateManager[]; sourceOf: (manager: CertificateManager) => string }): void {
  new Gauge({
    name: 'kubepki_certificate_expiration_timestamp_seconds',
    help: 'Time (Unix seconds) after which the certificate is no longer valid, for every certificate kubepki knows, by source and subject.',
    labelNames: ['source', 'subject', 'serial'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of o.managers()) {
        const cert = m.status().pair?.certificate;
        if (cert) this.set({ source: o.sourceOf(m), subject: formatName(cert.subject), serial: cert.serialNumber }, Math.floor(cert.notAfter.getTime() / 1000));
      }
    },
  });
}
