// ClusterTrustBundle publisher (kube-controller-manager's clustertrustbundlepublisher, which publishes the
// kube-apiserver-serving CA): for each signer it serves, one signer-linked ClusterTrustBundle named
// `<signer with / → :>:<sha256 of the bundle>` holding that signer's CA certificates, and no other bundle
// for that signer. The CA is re-read from its source (the signing CA file) on every resync, so a CA
// rotation — a new file, or a file holding old and new CA — is published without a restart.
import { createHash } from 'node:crypto';
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { CTB_API_VERSION, ctbNamePrefix, type ClusterTrustBundle } from '../../apis/clustertrustbundle.js';
import { trustBundleCertificates } from '../../cluster/trust-bundle.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import { isAlreadyExists, isNotFound } from '../../apis/status.js';
import type { ControllerMetrics } from '../metrics.js';
import { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, terminal, type Outcome } from '../runtime/outcome.js';


/** Where one signer's CA comes from: read again at each reconcile. */
export interface TrustBundleSource {
  signerName: string;
  read(): Promise<string>;
}

export interface CtbPublisherOptions {
  client: KubeClient;
  informer: Informer<ClusterTrustBundle>;
  sources: TrustBundleSource[];
  /** How often every source is read again (default 1 min). */
  resyncMs?: number;
  clock: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

/** The bundle to publish for a signer: its certificates in order, deduplicated, named after their hash. */
export function desiredTrustBundle(signerName: string, caPem: string): ClusterTrustBundle {
  const trustBundle = trustBundleCertificates(caPem)
    .map((c) => c.pem)
    .join('');
  const digest = createHash('sha256').update(trustBundle).digest('hex');
  return { apiVersion: CTB_API_VERSION, kind: 'ClusterTrustBundle', metadata: { name: `${ctbNamePrefix(signerName)}${digest}` }, spec: { signerName, trustBundle } };
}

export class CtbPublisherController {
  readonly controller: Controller;
  private readonly bundles: ResourceClient<ClusterTrustBundle>;
  private readonly logger: Logger;

  constructor(private readonly options: CtbPublisherOptions) {
    this.bundles = options.client.resource<ClusterTrustBundle>(RESOURCES.clusterTrustBundles);
    this.logger = options.logger ?? silentLogger;
    this.controller = new Controller({
      name: 'clustertrustbundle-publisher',
      reconcile: (signer) => this.reconcile(signer),
      clock: options.clock,
      workers: 1,
      logger: this.logger,
      metrics: options.metrics,
      metricsName: 'clustertrustbundle_publisher',
    });
    const signers = new Set(options.sources.map((s) => s.signerName));
    const onBundle = (b: ClusterTrustBundle) => {
      const s = b.spec?.signerName;
      if (s && signers.has(s)) this.controller.enqueue(s);
    };
    options.informer.addEventHandler({ onAdd: onBundle, onUpdate: (_o, b) => onBundle(b), onDelete: onBundle });
  }

  async reconcile(signerName: string): Promise<Outcome> {
    const source = this.options.sources.find((s) => s.signerName === signerName);
    if (!source) return terminal('not a published signer');
    let desired: ClusterTrustBundle;
    try {
      desired = desiredTrustBundle(signerName, await source.read());
    } catch (err) {
      return retryable(err);
    }
    const name = desired.metadata.name!;
    try {
      const existing = this.options.informer.get(name);
      if (!existing) {
        await this.bundles.create(desired).catch((err: unknown) => {
          if (!isAlreadyExists(err)) throw err;
        });
        this.logger.info({ signerName, bundle: name }, 'published the signer CA as a ClusterTrustBundle');
      } else if (existing.spec.trustBundle !== desired.spec.trustBundle || existing.spec.signerName !== signerName) {
        await this.bundles.update({ ...existing, spec: desired.spec });
      }
      // Only the current bundle stays linked to the signer (kube's publisher deletes the others).
      for (const b of this.options.informer.list()) {
        if (b.spec?.signerName !== signerName || b.metadata.name === name) continue;
        await this.bundles.delete(b.metadata.name!).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        this.logger.info({ signerName, bundle: b.metadata.name }, 'deleted a ClusterTrustBundle of a previous signer CA');
      }
    } catch (err) {
      return retryable(err);
    }
    return terminal('up to date');
  }

  async run(signal: AbortSignal): Promise<void> {
    const every = this.options.resyncMs ?? 60_000;
    const resync = (async () => {
      await this.options.informer.waitForSync(signal).catch(() => undefined);
      while (!signal.aborted) {
        for (const s of this.options.sources) this.controller.enqueue(s.signerName);
        await this.options.clock.sleep(every, signal).catch(() => undefined);
      }
    })();
    await Promise.all([this.controller.run(signal), resync]);
  }
}
