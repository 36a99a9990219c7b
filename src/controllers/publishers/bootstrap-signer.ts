// bootstrapsigner (pkg/controller/bootstrap/bootstrapsigner.go): keeps the cluster-info ConfigMap in
// kube-public signed — one `jws-kubeconfig-<token-id>` entry per bootstrap token that is valid, unexpired
// and marked usage-bootstrap-signing, each a detached JWS of data.kubeconfig — so a joining node that knows
// only a token can check that the CA it downloads anonymously is the cluster's. Signatures of tokens that
// are gone or expired are removed. kubeadm creates cluster-info at init; given the server and CA, this
// controller creates it the same way when it is missing.
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import {
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  bootstrapTokenExpiration,
  bootstrapTokenSecretName,
  isValidBootstrapTokenId,
  KEY_TOKEN_ID,
  KEY_TOKEN_SECRET,
  KEY_USAGE_SIGNING,
} from '../../auth/bootstrap-token-secret.js';
import { secretDataString } from '../../auth/objects.js';
import { RESOURCES, type KubeClient, type ResourceClient } from '../../client/interface.js';
import type { ControllerMetrics } from '../metrics.js';
import { Controller } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import { retryable, waiting, type Outcome } from '../runtime/outcome.js';
import { computeDetachedSignature } from '../../apis/cluster-info.js';
import { CLUSTER_INFO_CONFIGMAP, JWS_SIGNATURE_KEY_PREFIX, KUBECONFIG_KEY, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM } from '../../apis/names.js';
import { type ConfigMap, type Secret, deepCopy } from '../../apis/objects.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apis/status.js';

/** The kubeconfig kubeadm puts in cluster-info: one unnamed cluster, nothing else (clientcmd.Write of it). */
export function clusterInfoKubeconfig(server: string, caPem: string): string {
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    `    server: ${server}`,
    '  name: ""',
    'contexts: null',
    'current-context: ""',
    'kind: Config',
    'preferences: {}',
    'users: null',
    '',
  ].join('\n');
}

/** validateSecretForSigning: the token id and secret of a token that may sign now, or why not. */
export function signingToken(secret: Secret, now: Date): { id: string; secret: string; expiresAt?: Date } | null {
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) return null;
  const id = secretDataString(secret, KEY_TOKEN_ID) ?? '';
  if (!isValidBootstrapTokenId(id) || secret.metadata.name !== bootstrapTokenSecretName(id)) return null;
  const tokenSecret = secretDataString(secret, KEY_TOKEN_SECRET) ?? '';
  if (tokenSecret === '') return null;
  const { expires, invalid } = bootstrapTokenExpiration(secret);
  if (invalid || (expires && expires.getTime() <= now.getTime())) return null;
  if (secretDataString(secret, KEY_USAGE_SIGNING) !== 'true') return null;
  return expires ? { id, secret: tokenSecret, expiresAt: expires } : { id, secret: tokenSecret };
}

/** The signatures cluster-info should carry for `kubeconfig` and these tokens; null when nothing changes. */
export function signedClusterInfo(cm: ConfigMap, tokens: { id: string; secret: string }[]): ConfigMap | null {
  const content = cm.data?.[KUBECONFIG_KEY];
  if (content === undefined) return null;
  const next = deepCopy(cm);
  const data: Record<string, string> = {};
  const old = new Map<string, string>();
  for (const [k, v] of Object.entries(cm.data ?? {})) {
    if (k.startsWith(JWS_SIGNATURE_KEY_PREFIX)) old.set(k, v);
    else data[k] = v;
  }
  let changed = false;
  for (const t of tokens) {
    const key = JWS_SIGNATURE_KEY_PREFIX + t.id;
    if (key in data) continue; // duplicate token id: the first wins, as in kube
    const sig = computeDetachedSignature(content, t.id, t.secret);
    if (old.get(key) !== sig) changed = true;
    old.delete(key);
    data[key] = sig;
  }
  if (old.size > 0) changed = true;
  if (!changed) return null;
  next.data = data;
  return next;
}

export interface BootstrapSignerOptions {
  client: KubeClient;
  /** Informer over ConfigMaps in kube-public (ideally narrowed to cluster-info). */
  configMapInformer: Informer<ConfigMap>;
  /** Informer over Secrets in kube-system (ideally narrowed to bootstrap tokens). */
  secretInformer: Informer<Secret>;
  clock: Clock;
  /** When set, cluster-info is created with this server and CA if it does not exist. */
  clusterInfo?: { server: string; caPem: string };
  logger?: Logger;
  metrics?: ControllerMetrics;
}

const KEY = `${NAMESPACE_PUBLIC}/${CLUSTER_INFO_CONFIGMAP}`;

export class BootstrapSignerController {
  readonly controller: Controller;
  private readonly configMaps: ResourceClient<ConfigMap>;
  private readonly logger: Logger;

  constructor(private readonly options: BootstrapSignerOptions) {
    this.configMaps = options.client.resource<ConfigMap>(RESOURCES.configMaps);
    this.logger = options.logger ?? silentLogger;
    this.controller = new Controller({
      name: 'bootstrapsigner',
      reconcile: () => this.reconcile(),
      clock: options.clock,
      workers: 1,
      logger: this.logger,
      metrics: options.metrics,
    });
    const poke = () => this.controller.enqueue(KEY);
    const onConfigMap = (cm: ConfigMap) => {
      if (cm.metadata.namespace === NAMESPACE_PUBLIC && cm.metadata.name === CLUSTER_INFO_CONFIGMAP) poke();
    };
    options.configMapInformer.addEventHandler({ onAdd: onConfigMap, onUpdate: (_o, cm) => onConfigMap(cm), onDelete: onConfigMap });
    const onSecret = (s: Secret) => {
      if (s.type === BOOTSTRAP_TOKEN_SECRET_TYPE && s.metadata.namespace === NAMESPACE_SYSTEM) poke();
    };
    options.secretInformer.addEventHandler({ onAdd: onSecret, onUpdate: (_o, s) => onSecret(s), onDelete: onSecret });
  }

  /** Starts with one sync, so a missing cluster-info is created even before any event. */
  run(signal: AbortSignal): Promise<void> {
    this.controller.enqueue(KEY);
    return this.controller.run(signal);
  }

  async reconcile(): Promise<Outcome> {
    const now = this.options.clock.now();
    const cm = this.options.configMapInformer.get(KEY);
    if (!cm) {
      const info = this.options.clusterInfo;
      if (!info) return waiting('cluster-info does not exist');
      try {
        await this.configMaps.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: CLUSTER_INFO_CONFIGMAP, namespace: NAMESPACE_PUBLIC },
          data: { [KUBECONFIG_KEY]: clusterInfoKubeconfig(info.server, info.caPem) },
        });
      } catch (err) {
        if (isAlreadyExists(err)) return waiting('cluster-info appeared meanwhile');
        return retryable(err);
      }
      return waiting('created cluster-info; signing follows its watch event');
    }
    const tokens: { id: string; secret: string }[] = [];
    let nextExpiry: number | undefined;
    const candidates = this.options.secretInformer
      .list()
      .filter((s) => s.metadata.namespace === NAMESPACE_SYSTEM)
      .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const s of candidates) {
      const t = signingToken(s, now);
      if (!t) continue;
      tokens.push(t);
      if (t.expiresAt && (nextExpiry === undefined || t.expiresAt.getTime() < nextExpiry)) nextExpiry = t.expiresAt.getTime();
    }
    // Re-sign when the first of the signing tokens expires, even if the token cleaner has not run yet.
    const recheck = nextExpiry !== undefined ? Math.max(1, nextExpiry - now.getTime()) : undefined;
    const next = signedClusterInfo(cm, tokens);
    if (!next) return waiting('signatures are current', recheck);
    try {
      await this.configMaps.update(next);
    } catch (err) {
      // kube ignores Conflict and NotFound: a newer event brings the key back.
      if (isConflict(err) || isNotFound(err)) return waiting('cluster-info changed meanwhile', recheck);
      return retryable(err);
    }
    this.logger.info({ tokens: tokens.map((t) => t.id) }, 'signed cluster-info');
    return waiting('signed', recheck);
  }
}
