// Certificate expiry you can alert on, from `kubepki serve`'s /metrics: every certificate the server knows
// (the PKI files, the kubeconfigs it wrote, the CA bundles it loads, kubernetes.io/tls Secrets in
// kube-system) as a not-after gauge labelled by source and subject, read at scrape time; and
// kube-apiserver's apiserver_client_certificate_expiration_seconds histogram, observed (as kube does, before
// verification) for every request that presents a client certificate.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { parseCertificatesPem } from '../x509/certificate.js';
import { formatName } from '../x509/names.js';
import { readOptional } from '../cluster/pki-dir.js';
import { parseKubeconfig } from '../cluster/kubeconfig.js';
import { everythingFields, everythingLabels } from '../api/selectors.js';
import type { ApiHandler } from '../api/handler.js';

export interface KnownCertificate {
  /** Where it lives: file:<path>, kubeconfig:<path>, kubeconfig-ca:<path>, secret:<ns>/<name>. */
  source: string;
  subject: string;
  serialNumber: string;
  notAfter: Date;
  /** A control-plane certificate (PKI file or kubeconfig), as opposed to a workload's TLS Secret. */
  controlPlane: boolean;
}

export const EXPIRATION_GAUGE = 'kubepki_certificate_expiration_timestamp_seconds';

/** kube-apiserver's buckets (k8s.io/apiserver authentication/request/x509): 0 to a year. */
const CLIENT_CERT_BUCKETS = [0, 1800, 3600, 7200, 21600, 43200, 86400, 172800, 345600, 604800, 2592000, 7776000, 15552000, 31104000];

function fromPem(pem: string, source: string, controlPlane: boolean): KnownCertificate[] {
  try {
    return parseCertificatesPem(pem, source).map((c) => ({ source, subject: formatName(c.subject), serialNumber: c.serialNumber, notAfter: c.notAfter, controlPlane }));
  } catch {
    return []; // not a certificate file (a key, a public key): nothing to export
  }
}

async function listFiles(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await listFiles(p, depth - 1)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** The certificates of a PKI directory (*.crt, one level of subdirectories) and of the kubeconfigs in a directory. */
export async function diskCertificates(options: { certDir?: string; kubeconfigDir?: string; files?: string[] }): Promise<KnownCertificate[]> {
  const out: KnownCertificate[] = [];
  const seen = new Set<string>();
  const certFiles = [...(options.certDir ? (await listFiles(options.certDir, 1)).filter((f) => f.endsWith('.crt')) : []), ...(options.files ?? [])];
  for (const file of certFiles) {
    const abs = path.resolve(file);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const text = await readOptional(abs).catch(() => undefined);
    if (text) out.push(...fromPem(text, `file:${abs}`, true));
  }
  if (options.kubeconfigDir) {
    for (const file of (await listFiles(options.kubeconfigDir, 0)).filter((f) => f.endsWith('.conf'))) {
      const text = await readOptional(file).catch(() => undefined);
      if (!text) continue;
      const kc = parseOrUndefined(text, file);
      if (kc?.clientCertPem) out.push(...fromPem(kc.clientCertPem, `kubeconfig:${file}`, true).slice(0, 1));
      if (kc?.caPem) out.push(...fromPem(kc.caPem, `kubeconfig-ca:${file}`, true));
    }
  }
  return out;
}

/** A kubeconfig that does not parse exports no series (the gauge covers what can be read). */
function parseOrUndefined(text: string, file: string): ReturnType<typeof parseKubeconfig> | undefined {
  try {
    return parseKubeconfig(text, file);
  } catch {
    return undefined;
  }
}

/** kubernetes.io/tls Secrets in kube-system: tls.crt (and ca.crt when present). */
export async function tlsSecretCertificates(handler: ApiHandler): Promise<KnownCertificate[]> {
  const store = handler.storeFor('', 'v1', 'secrets');
  if (!store) return [];
  const list = await store.list('kube-system', { labelSelector: everythingLabels, fieldSelector: everythingFields });
  const out: KnownCertificate[] = [];
  for (const item of list.items as { type?: string; metadata: { name?: string }; data?: Record<string, string> }[]) {
    if (item.type !== 'kubernetes.io/tls' || !item.data) continue;
    for (const key of ['tls.crt', 'ca.crt']) {
      const b64 = item.data[key];
      if (b64) out.push(...fromPem(Buffer.from(b64, 'base64').toString('utf8'), `secret:kube-system/${item.metadata.name}${key === 'ca.crt' ? '#ca.crt' : ''}`, false));
    }
  }
  return out;
}

/** Registers the not-after gauge; `known` is read on every scrape. */
export function registerExpirationGauge(registry: Registry, known: () => Promise<KnownCertificate[]>): void {
  new Gauge({
    name: EXPIRATION_GAUGE,
    help: 'Time (Unix seconds) after which the certificate is no longer valid, for every certificate kubepki knows, by source and subject.',
    labelNames: ['source', 'subject', 'serial'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await known().catch(() => [])) this.set({ source: c.source, subject: c.subject, serial: c.serialNumber }, Math.floor(c.notAfter.getTime() / 1000));
    },
  });
}

export interface ClientCertificateExpiration {
  /** Observes the remaining life of the client certificate on `socket`, if it presented one. */
  observe(socket: unknown, now: Date): void;
}

export function clientCertificateExpiration(registry: Registry): ClientCertificateExpiration {
  const histogram = new Histogram({
    name: 'apiserver_client_certificate_expiration_seconds',
    help: '[ALPHA] Distribution of the remaining lifetime on the certificate used to authenticate a request.',
    buckets: CLIENT_CERT_BUCKETS,
    registers: [registry],
  });
  // A connection's client certificate never changes: decode it (getPeerCertificate builds a whole object
  // from the DER) once per connection, not once per request.
  const notAfterOf = new WeakMap<object, number>();
  return {
    observe(socket, now) {
      if (typeof socket !== 'object' || socket === null) return;
      let notAfter = notAfterOf.get(socket);
      if (notAfter === undefined) {
        const peer = (socket as Partial<TLSSocket>).getPeerCertificate?.();
        notAfter = peer?.valid_to ? Date.parse(peer.valid_to) : NaN;
        notAfterOf.set(socket, notAfter);
      }
      if (!Number.isNaN(notAfter)) histogram.observe((notAfter - now.getTime()) / 1000);
    },
  };
}
