// Follows the custom CA trust the cluster asks for and keeps the node's trust store on it (seed 001: "the
// cluster polls the Secret and updates the nodes"): a list+watch of kube-system/custom-ca-trust-secret with
// the node's own credentials (RBAC allows exactly that Secret), re-listed every resync period as a fallback;
// each change is applied whole by the CustomCaTrustStore, a failure is retried with backoff, and what the
// node applied is reported in its Lease `<node>-custom-ca-trust` in kube-node-lease and in metrics.
// An invalid Secret (written before validation existed, or straight into storage) is never applied: the
// node keeps its last good set and reports why.
import { RestKubeClient } from '../client/rest.js';
import { RESOURCES } from '../client/interface.js';
import type { ClientConfig } from '../client/kubeconfig.js';
import type { Lease, Secret } from '../apis/objects.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  ANNOTATION_APPLIED_AT,
  ANNOTATION_APPLIED_COUNT,
  ANNOTATION_APPLIED_SHA256,
  ANNOTATION_ERROR,
  ANNOTATION_ERROR_SINCE,
  ANNOTATION_SOURCE,
  ANNOTATION_WANTED_SHA256,
  CUSTOM_CA_TRUST_LABEL,
  CUSTOM_CA_TRUST_NAMESPACE,
  CUSTOM_CA_TRUST_SECRET,
  NODE_LEASE_NAMESPACE,
  customCaTrustLeaseName,
} from '../apis/custom-ca-trust.js';
import { customCaBundleSha256, customCasFromSecretData, type CustomCa } from '../cluster/custom-ca-trust.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { describeApiError, statusCodeOf } from './csr-client.js';
import { listWatchLoop } from './list-watch.js';
import type { CustomCaTrustStore } from './custom-ca-trust.js';

/** What the cluster asks the node to trust, as one source read it. */
export interface WantedCustomCas {
  /** Where it came from, for the report (`secret/kube-system/custom-ca-trust-secret`, `clustertrustbundles`). */
  source: string;
  certificates: CustomCa[];
  /** Why the source cannot be applied (an invalid Secret); the node keeps its last good set. */
  invalid?: string;
}

/** A source of wanted custom CAs: calls `changed` with each new value until `signal` aborts. */
export interface CustomCaSource {
  follow(options: { kubeConfig: () => ClientConfig; changed: (w: WantedCustomCas) => void; signal: AbortSignal }): Promise<void>;
}

export interface CustomCaTrustFollowerOptions {
  nodeName: string;
  store: CustomCaTrustStore;
  /** The node's credentials (its current client certificate); called per connection. */
  kubeConfig: () => ClientConfig;
  /** Certificates of --custom-ca-trust-certificates: installed before bootstrap, kept alongside the Secret's. */
  fileCas?: CustomCa[];
  source?: CustomCaSource;
  /** Re-read period (watch timeout) of the source. Default 60 s. */
  resyncMs?: number;
  backoff?: BackoffOptions;
  clock?: Clock;
  logger?: Logger;
  /** The agent's metrics registry. */
  registry?: Registry;
}

/** What the node last reported; the Lease carries the same. */
export interface CustomCaTrustReport {
  /** SHA-256 of the source's set last applied; undefined before the first success. */
  appliedSha256?: string;
  appliedAt?: string;
  appliedCertificates?: number;
  wantedSha256?: string;
  source?: string;
  error?: string;
  errorSince?: string;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Source: the Secret kube-system/custom-ca-trust-secret (list+watch by name; re-listed each resync). */
export function secretSource(options: { resyncMs: number; clock: Clock; logger: Logger; backoff?: BackoffOptions }): CustomCaSource {
  const what = `secret/${CUSTOM_CA_TRUST_NAMESPACE}/${CUSTOM_CA_TRUST_SECRET}`;
  const wantedOf = (s: Secret | null): WantedCustomCas => {
    const set = customCasFromSecretData(s?.data, options.clock.now());
    if (set.problems.length === 0) return { source: what, certificates: set.certificates };
    return { source: what, certificates: [], invalid: `the Secret is invalid: ${set.problems.map((p) => (p.key ? `data[${p.key}]: ${p.detail}` : `data: ${p.detail}`)).join('; ')}` };
  };
  return {
    follow: ({ kubeConfig, changed, signal }) =>
      listWatchLoop<Secret>({
        ...options,
        what: 'the custom CA trust Secret',
        kubeConfig,
        signal,
        resource: RESOURCES.secrets,
        selection: { namespace: CUSTOM_CA_TRUST_NAMESPACE, fieldSelector: `metadata.name=${CUSTOM_CA_TRUST_SECRET}` },
        onList: (items) => changed(wantedOf(items[0] ?? null)),
        onEvent: (type, s) => changed(wantedOf(type === 'DELETED' ? null : s)),
      }),
  };
}

export class CustomCaTrustFollower {
  private readonly o: CustomCaTrustFollowerOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private wanted: WantedCustomCas | undefined;
  private applied: { sha256: string; source: string } | undefined;
  private report: CustomCaTrustReport = {};
  private reported: string | undefined;
  private wake: (() => void) | undefined;
  private dirty = false;
  private stopping = new AbortController();
  private loops: Promise<void>[] = [];
  private readonly metrics: { attempts?: Counter<'result'> } = {};

  constructor(options: CustomCaTrustFollowerOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'custom-ca-trust' });
    if (options.registry) this.registerMetrics(options.registry);
  }

  /** --custom-ca-trust-certificates: installed before the node bootstraps (it may need them to reach the API server). */
  async installFileCas(): Promise<void> {
    if (!this.o.fileCas?.length) return;
    await this.o.store.apply(this.o.fileCas);
    this.logger.info({ certificates: this.o.fileCas.length }, 'installed the custom CA certificates of --custom-ca-trust-certificates');
  }

  /** Starts following the source and applying what it asks for. */
  start(): void {
    const signal = this.stopping.signal;
    const source = this.o.source ?? secretSource({ resyncMs: this.o.resyncMs ?? 60_000, clock: this.clock, logger: this.logger, ...(this.o.backoff ? { backoff: this.o.backoff } : {}) });
    this.loops.push(
      source.follow({ kubeConfig: this.o.kubeConfig, changed: (w) => this.setWanted(w), signal }).catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'stopped following the custom CA trust')),
      this.work(signal),
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await Promise.all(this.loops);
  }

  /** The node's current report (also in its Lease). */
  status(): CustomCaTrustReport {
    return { ...this.report };
  }

  private setWanted(w: WantedCustomCas): void {
    this.wanted = w;
    this.dirty = true;
    this.wake?.();
  }

  /** Sleeps until something changes, or `ms` passes (a retry). */
  private async idle(ms: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.dirty || signal.aborted) return;
    const woken = new Promise<void>((resolve) => (this.wake = resolve));
    await (ms === undefined ? woken : Promise.race([woken, this.clock.sleep(ms, signal).catch(() => undefined)]));
    this.wake = undefined;
  }

  private async work(signal: AbortSignal): Promise<void> {
    const backoff = () => new Backoff(this.o.backoff ?? { initialMs: 1000, capMs: 60_000 });
    let retry = backoff();
    let retryIn: number | undefined;
    while (!signal.aborted) {
      await this.idle(retryIn, signal);
      if (signal.aborted) return;
      this.dirty = false;
      const ok = await this.reconcile();
      if (ok) {
        retry = backoff();
        retryIn = undefined;
      } else retryIn = retry.next();
    }
  }

  /** Applies the wanted set when it differs from the applied one, then reports. False: retry later. */
  private async reconcile(): Promise<boolean> {
    const w = this.wanted;
    if (!w) return true;
    const now = this.clock.now();
    let ok = true;
    let error: string | undefined;
    const wantedSha = w.invalid ? undefined : customCaBundleSha256(w.certificates);
    if (w.invalid) {
      error = w.invalid; // wait for a new value; retrying cannot fix it
    } else if (this.applied?.sha256 !== wantedSha || this.report.error) {
      try {
        const result = await this.o.store.apply([...(this.o.fileCas ?? []), ...w.certificates]);
        this.applied = { sha256: wantedSha!, source: w.source };
        this.report = { ...this.report, appliedSha256: wantedSha!, appliedAt: rfc3339(now), appliedCertificates: result.certificates };
        this.metrics.attempts?.inc({ result: 'success' });
      } catch (err) {
        error = (err as Error).message;
        ok = false;
        this.metrics.attempts?.inc({ result: 'failure' });
        this.logger.error({ err: error }, 'cannot apply the custom CA certificates; the previous set stays in place');
      }
    }
    const { error: _e, errorSince: _s, ...rest } = this.report;
    this.report = { ...rest, source: w.source, ...(wantedSha ? { wantedSha256: wantedSha } : {}), ...(error ? { error, errorSince: this.report.error ? this.report.errorSince! : rfc3339(now) } : {}) };
    if (w.invalid) delete this.report.wantedSha256;
    return (await this.sendReport()) && ok;
  }

  private async sendReport(): Promise<boolean> {
    const r = this.report;
    const annotations: Record<string, string> = {};
    const set = (k: string, v: string | number | undefined) => v !== undefined && (annotations[k] = String(v));
    set(ANNOTATION_APPLIED_SHA256, r.appliedSha256);
    set(ANNOTATION_APPLIED_AT, r.appliedAt);
    set(ANNOTATION_APPLIED_COUNT, r.appliedCertificates);
    set(ANNOTATION_WANTED_SHA256, r.wantedSha256);
    set(ANNOTATION_SOURCE, r.source);
    set(ANNOTATION_ERROR, r.error);
    set(ANNOTATION_ERROR_SINCE, r.errorSince);
    const key = JSON.stringify(annotations);
    if (key === this.reported) return true;
    const name = customCaTrustLeaseName(this.o.nodeName);
    try {
      // The node's credentials as of now (read per request: the certificate rotates).
      const leases = new RestKubeClient(this.o.kubeConfig(), { userAgent: 'kubepki-agent', oneShot: true }).resource<Lease>(RESOURCES.leases);
      let lease: Lease | undefined;
      try {
        lease = await leases.get(name, NODE_LEASE_NAMESPACE);
      } catch (err) {
        if (statusCodeOf(err) !== 404) throw err;
      }
      const metadata = { name, namespace: NODE_LEASE_NAMESPACE, labels: { ...(lease?.metadata.labels ?? {}), [CUSTOM_CA_TRUST_LABEL]: 'true' }, annotations };
      const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec: { holderIdentity: this.o.nodeName } };
      if (lease) await leases.update({ ...body, metadata: { ...metadata, resourceVersion: lease.metadata.resourceVersion! } });
      else await leases.create(body);
      this.reported = key;
      return true;
    } catch (err) {
      this.logger.warn({ err: describeApiError(err) }, 'cannot report the applied custom CA trust, retrying');
      return false;
    }
  }

  private registerMetrics(registry: Registry): void {
    const self = this;
    new Gauge({
      name: 'kubepki_agent_custom_ca_trust_certificates',
      help: 'Custom CA certificates installed in the node trust store.',
      registers: [registry],
      collect() {
        this.set(self.report.appliedCertificates ?? 0);
      },
    });
    new Gauge({
      name: 'kubepki_agent_custom_ca_trust_last_applied_timestamp_seconds',
      help: 'When the current custom CA set was applied (Unix seconds; 0 before the first success).',
      registers: [registry],
      collect() {
        this.set(self.report.appliedAt ? Date.parse(self.report.appliedAt) / 1000 : 0);
      },
    });
    new Gauge({
      name: 'kubepki_agent_custom_ca_trust_in_sync',
      help: '1 when the node has applied the custom CA set the cluster asks for, 0 otherwise.',
      registers: [registry],
      collect() {
        const r = self.report;
        this.set(r.appliedSha256 !== undefined && r.appliedSha256 === r.wantedSha256 && !r.error ? 1 : 0);
      },
    });
    this.metrics.attempts = new Counter({
      name: 'kubepki_agent_custom_ca_trust_apply_total',
      help: 'Attempts to apply a custom CA set, by result (success, failure).',
      labelNames: ['result'],
      registers: [registry],
    });
  }
}
