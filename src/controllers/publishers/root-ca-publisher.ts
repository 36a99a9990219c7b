// root-ca-cert-publisher (pkg/controller/certificates/rootcacertpublisher): a ConfigMap kube-root-ca.crt with
// the cluster CA under ca.crt in every namespace — created when a namespace appears, put back when it is
// deleted or changed, updated when the CA changes — with kube's description annotation.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import type { ControllerMetrics } from '../metrics.js';
import { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, terminal, type Outcome } from '../runtime/outcome.js';
import { type ConfigMap, type Namespace, deepCopy } from '../../apis/objects.js';
import { isNotFound } from '../../apis/status.js';
import { ROOT_CA_CONFIGMAP } from '../../apis/names.js';

export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCAPublisherOptions {
  client: KubeClient;
  namespaceInformer: Informer<Namespace>;
  /** Informer over ConfigMaps in all namespaces (ideally narrowed to metadata.name=kube-root-ca.crt). */
  configMapInformer: Informer<ConfigMap>;
  /** PEM to publish (--root-ca-file, else the kubeconfig's CA). */
  rootCA: string;
  clock: Clock;
  workers?: number;
  logger?: Logger;
  metrics?: ControllerMetrics;
}

/** The ConfigMap to write so that `existing` matches, or null when it already does. */
export function desiredRootCAConfigMap(namespace: string, rootCA: string, existing: ConfigMap | undefined): ConfigMap | null {
  if (!existing) {
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION } },
      data: { 'ca.crt': rootCA },
    };
  }
  const data = existing.data ?? {};
  const dataMatches = Object.keys(data).length === 1 && data['ca.crt'] === rootCA && !existing.binaryData;
  if (dataMatches && (existing.metadata.annotations?.[DESCRIPTION_ANNOTATION] ?? '').length > 0) return null;
  const cm = deepCopy(existing);
  cm.data = { 'ca.crt': rootCA };
  delete cm.binaryData;
  cm.metadata.annotations = { ...(cm.metadata.annotations ?? {}), [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION };
  return cm;
}

export class RootCAPublisherController {
  readonly controller: Controller;
  private readonly configMaps: ResourceClient<ConfigMap>;

  constructor(private readonly options: RootCAPublisherOptions) {
    this.configMaps = options.client.resource<ConfigMap>(RESOURCES.configMaps);
    const logger: Logger = options.logger ?? silentLogger;
    this.controller = new Controller({
      name: 'root-ca-cert-publisher',
      reconcile: (ns) => this.reconcile(ns),
      clock: options.clock,
      workers: options.workers ?? 2,
      logger,
      metrics: options.metrics,
      metricsName: 'root_ca_cert_publisher',
    });
    const onNamespace = (ns: Namespace) => {
      if (ns.status?.phase === undefined || ns.status.phase === 'Active') this.controller.enqueue(ns.metadata.name!);
    };
    options.namespaceInformer.addEventHandler({ onAdd: onNamespace, onUpdate: (_o, ns) => onNamespace(ns) });
    const onConfigMap = (cm: ConfigMap) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP && cm.metadata.namespace) this.controller.enqueue(cm.metadata.namespace);
    };
    options.configMapInformer.addEventHandler({ onUpdate: (_o, cm) => onConfigMap(cm), onDelete: onConfigMap });
  }

  async reconcile(namespace: string): Promise<Outcome> {
    const ns = this.options.namespaceInformer.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return terminal('namespace gone or terminating');
    const existing = this.options.configMapInformer.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const desired = desiredRootCAConfigMap(namespace, this.options.rootCA, existing);
    if (!desired) return terminal('up to date');
    try {
      if (existing) await this.configMaps.update(desired);
      else await this.configMaps.create(desired);
    } catch (err) {
      // Don't retry a create into a namespace that is gone or terminating (kube's NamespaceTerminatingCause).
      if (!existing && (isNotFound(err) || /terminat/i.test((err as Error).message))) return terminal('namespace gone or terminating');
      return retryable(err);
    }
    return terminal(existing ? 'updated' : 'created');
  }

  run(signal: AbortSignal): Promise<void> {
    return this.controller.run(signal);
  }
}
