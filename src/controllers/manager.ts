// The certificate half of kube-controller-manager: which controllers run (--controllers), their shared
// informers, and leader election, so that of several replicas only the lease holder acts. Used by
// `kubepki controllers` against any API server and by `kubepki serve` in-process.
import os from 'node:os';
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../util/clock.js';
import { KubepkiError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE } from '../auth/bootstrap-token-secret.js';
import { RESOURCES, type KubeClient } from '../client/interface.js';
import { ControllerMetrics } from './metrics.js';
import { Informer } from './runtime/informer.js';
import { compactForCache } from './runtime/informer-transforms.js';
import { trimSettledRequest, type CachedCertificateSigningRequest } from './csr-cache.js';
import { LeaderElector, LeaseLock, LEADER_ELECTION_DEFAULTS } from './runtime/leader-election.js';
import { loadSigningAuthority, resolveSigningFiles, type SigningFiles } from './signer/ca.js';
import type { SigningAuthority } from './signer/issue.js';
import { CSRSigningController } from './signer/controller.js';
import type { SignerDefinition } from './signer/signer.js';
import { signerTable } from './signer/signers/index.js';
import { CSRApprovingController } from './approver/controller.js';
import type { KubeletServingPolicy } from './approver/kubelet-serving.js';
import { CSRCleanerController, type CSRCleanerDurations } from './cleaner/csr-cleaner.js';
import { TokenCleanerController } from './cleaner/token-cleaner.js';
import { RootCAPublisherController } from './publishers/root-ca-publisher.js';
import { CtbPublisherController } from './publishers/ctb-publisher.js';
import { trustBundleSources } from './publishers/ctb-sources.js';
import type { ClusterTrustBundle } from '../apis/clustertrustbundle.js';
import { BootstrapSignerController } from './publishers/bootstrap-signer.js';
import { CLUSTER_INFO_CONFIGMAP, ROOT_CA_CONFIGMAP, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM } from '../apis/names.js';
import type { ConfigMap, KubeObject, Lease, Namespace, Secret } from '../apis/objects.js';

/** Controller names, kube's short (--controllers) names first; the long names are accepted too. */
export const CONTROLLER_NAMES = ['csrsigning', 'csrapproving', 'csrcleaner', 'root-ca-cert-publisher', 'bootstrapsigner', 'tokencleaner', 'clustertrustbundle-publisher'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

const ALIASES: Record<string, ControllerName> = {
  'certificatesigningrequest-signing-controller': 'csrsigning',
  'certificatesigningrequest-approving-controller': 'csrapproving',
  'certificatesigningrequest-cleaner-controller': 'csrcleaner',
  'root-ca-certificate-publisher-controller': 'root-ca-cert-publisher',
  'bootstrap-signer-controller': 'bootstrapsigner',
  'token-cleaner-controller': 'tokencleaner',
  'kube-apiserver-serving-clustertrustbundle-publisher-controller': 'clustertrustbundle-publisher',
};

/** Off unless named, as in kube-controller-manager (kubeadm turns them on: --controllers=*,bootstrapsigner,tokencleaner). */
export const DISABLED_BY_DEFAULT: readonly ControllerName[] = ['bootstrapsigner', 'tokencleaner', 'clustertrustbundle-publisher'];

/**
 * kube's --controllers syntax: `*` = every controller on by default, `name` enables, `-name` disables.
 * Throws naming an unknown controller.
 */
export function selectControllers(spec: readonly string[] = ['*']): Set<ControllerName> {
  const canonical = (n: string): ControllerName => {
    const name = (ALIASES[n] ?? n) as ControllerName;
    if (!CONTROLLER_NAMES.includes(name)) {
      throw new KubepkiError('InvalidArgument', `"${n}" is not in the list of known controllers: ${CONTROLLER_NAMES.join(', ')}`);
    }
    return name;
  };
  const on = new Set<ControllerName>();
  const off = new Set<ControllerName>();
  let star = false;
  for (const raw of spec.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    if (raw === '*') star = true;
    else if (raw.startsWith('-')) off.add(canonical(raw.slice(1)));
    else on.add(canonical(raw));
  }
  const out = new Set<ControllerName>();
  for (const n of CONTROLLER_NAMES) {
    if (off.has(n)) continue;
    if (on.has(n) || (star && !DISABLED_BY_DEFAULT.includes(n))) out.add(n);
  }
  return out;
}

export interface LeaderElectionConfig {
  enabled: boolean;
  identity?: string;
  namespace?: string;
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ControllerManagerOptions {
  client: KubeClient;
  clock?: Clock;
  logger?: Logger;
  metrics?: ControllerMetrics;
  /** --controllers (default ['*']). */
  controllers?: readonly string[];
  /** Signing CAs from files (loaded and checked at start), or ready authorities by signerName. */
  signing?: { files: SigningFiles } | { authorities: ReadonlyMap<string, SigningAuthority> };
  /** --cluster-signing-duration (ms). */
  signingDurationMs?: number;
  /** PEM published as kube-root-ca.crt (the publisher does not run without it). */
  rootCA?: string;
  /** Lets the bootstrap signer create cluster-info when it is missing. */
  clusterInfo?: { server: string; caPem: string };
  cleanerDurations?: Partial<CSRCleanerDurations>;
  kubeletServing?: KubeletServingPolicy;
  leaderElection?: LeaderElectionConfig;
  /** --concurrent-* workers. */
  workers?: { signing?: number; approving?: number };
  /** Signers besides the four kubernetes.io ones (e.g. a CA rotation's custom signer), each with its CA in `signing`. */
  signers?: readonly SignerDefinition[];
  /**
   * The API server is kubepki's own in this process, which verified every request's signature when the CSR
   * was created (spec is immutable afterwards): the signer need not check it again. Never set for an
   * external API server.
   */
  requestsVerifiedByServer?: boolean;
}

interface Runnable {
  name: string;
  run(signal: AbortSignal): Promise<void>;
}

export class ControllerManager {
  readonly metrics: ControllerMetrics;
  readonly enabled: Set<ControllerName>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** Informers and controllers of the current leadership term (for tests and status). */
  informers: Informer<KubeObject>[] = [];
  runnables: Runnable[] = [];
  elector: LeaderElector | undefined;

  private constructor(
    private readonly options: ControllerManagerOptions,
    private readonly authorities: ReadonlyMap<string, SigningAuthority>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new ControllerMetrics();
    this.enabled = selectControllers(options.controllers);
  }

  /** Loads and checks the signing CAs (refusing bundles) before anything runs. */
  static async create(options: ControllerManagerOptions): Promise<ControllerManager> {
    const enabled = selectControllers(options.controllers);
    let authorities: ReadonlyMap<string, SigningAuthority> = new Map();
    if (options.signing && 'authorities' in options.signing) authorities = options.signing.authorities;
    else if (options.signing && enabled.has('csrsigning')) {
      const loaded = new Map<string, SigningAuthority>();
      const byFile = new Map<string, Promise<SigningAuthority>>();
      for (const [signerName, files] of resolveSigningFiles(options.signing.files)) {
        const k = `${files.certFile}\0${files.keyFile}`;
        if (!byFile.has(k)) byFile.set(k, loadSigningAuthority(files));
        loaded.set(signerName, await byFile.get(k)!);
      }
      authorities = loaded;
    }
    return new ControllerManager(options, authorities);
  }

  /** The signer names this manager can sign for. */
  get signerNames(): string[] {
    return [...this.authorities.keys()];
  }

  /** Runs until `signal` aborts; with leader election, only while holding the lease. */
  async run(signal: AbortSignal): Promise<void> {
    setMaxListeners(0, signal);
    const le = this.options.leaderElection;
    if (!le?.enabled) return this.runControllers(signal);
    const lease = { namespace: le.namespace ?? NAMESPACE_SYSTEM, name: le.name ?? 'kube-controller-manager' };
    const identity = le.identity ?? `${os.hostname()}_${randomUUID()}`;
    while (!signal.aborted) {
      let term: Promise<void> = Promise.resolve();
      this.elector = new LeaderElector({
        lock: new LeaseLock(this.options.client.resource<Lease>(RESOURCES.leases), lease.namespace, lease.name),
        identity,
        clock: this.clock,
        leaseDurationMs: le.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs,
        renewDeadlineMs: le.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs,
        retryPeriodMs: le.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs,
        releaseOnCancel: true,
        logger: this.logger,
        onStartedLeading: (leading) => {
          this.metrics.leader.set({ lease: lease.name }, 1);
          term = this.runControllers(leading);
        },
        onStoppedLeading: () => this.metrics.leader.set({ lease: lease.name }, 0),
        onNewLeader: (id) => this.logger.info({ leader: id }, 'new leader elected'),
      });
      await this.elector.run(signal);
      await term;
    }
  }

  /** Builds the informers and controllers for one term and runs them until `signal` aborts. */
  async runControllers(signal: AbortSignal): Promise<void> {
    // Every informer, queue and timer of the term listens on this one signal.
    setMaxListeners(0, signal);
    const informers: Informer<KubeObject>[] = [];
    const shared = new Map<string, Informer<KubeObject>>();
    const { client } = this.options;
    const term: TermContext = {
      options: this.options,
      authorities: this.authorities,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      informer: <T extends KubeObject>(name: string, resource: (typeof RESOURCES)[keyof typeof RESOURCES], narrowing: InformerNarrowing<T> = {}) => {
        // One informer per name for the term, shared by every controller that asks for it (kube's shared informers).
        let inf = shared.get(name);
        if (!inf) {
          const { transform, ...where } = narrowing;
          inf = new Informer<T>({
            name, listerWatcher: client.resource<T>(resource), clock: this.clock, logger: this.logger,
            transform: transform ? (o) => compactForCache(transform(o)) : compactForCache, ...where,
          }) as unknown as Informer<KubeObject>;
          shared.set(name, inf);
          informers.push(inf);
        }
        return inf as unknown as Informer<T>;
      },
    };
    const runnables: Runnable[] = [];
    for (const name of CONTROLLER_NAMES) {
      if (!this.enabled.has(name)) continue;
      const run = CONTROLLER_BUILDERS[name](term);
      if (run) runnables.push({ name, run });
    }

    this.informers = informers;
    this.runnables = runnables;
    const informersDone = informers.map((i) => i.run(signal));
    try {
      await Promise.all(informers.map((i) => i.waitForSync(signal)));
    } catch {
      await Promise.all(informersDone);
      return;
    }
    // Stopped as the caches synced: start no controller after the stop.
    if (signal.aborted) {
      await Promise.all(informersDone);
      return;
    }
    this.logger.info({ controllers: runnables.map((r) => r.name) }, 'controllers started');
    await Promise.all([...runnables.map((r) => r.run(signal)), ...informersDone]);
  }
}

/** What a controller builder gets for one leadership term. */
interface TermContext {
  options: ControllerManagerOptions;
  authorities: ReadonlyMap<string, SigningAuthority>;
  clock: Clock;
  logger: Logger;
  metrics: ControllerMetrics;
  /** The term's shared informer of that name (made on first use). */
  informer<T extends KubeObject>(name: string, resource: (typeof RESOURCES)[keyof typeof RESOURCES], narrowing?: InformerNarrowing<T>): Informer<T>;
}

/** What a shared informer is narrowed to, and what its objects become before compactForCache (which then copies the top-level object, so a property added here stays on one hidden class). */
interface InformerNarrowing<T> {
  namespace?: string;
  fieldSelector?: string;
  transform?: (obj: T) => T;
}

/** Builds one controller for a term, or says (in the log) why it does not run and gives undefined. */
type ControllerBuilder = (term: TermContext) => ((signal: AbortSignal) => Promise<void>) | undefined;

/** Every CSR controller shares it; settled requests are cached without their request and certificate (csr-cache.ts). */
const csrInformer = (t: TermContext) =>
  t.informer<CachedCertificateSigningRequest>('certificatesigningrequests', RESOURCES.certificateSigningRequests, { transform: trimSettledRequest });
const tokenInformer = (t: TermContext) =>
  t.informer<Secret>('bootstrap-tokens', RESOURCES.secrets, { namespace: NAMESPACE_SYSTEM, fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });

/** kube-controller-manager's NewControllerDescriptors: controller name → how it is built. */
const CONTROLLER_BUILDERS: Record<ControllerName, ControllerBuilder> = {
  csrsigning: (t) => {
    if (t.authorities.size === 0) {
      t.logger.warn('csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file given; not signing');
      return undefined;
    }
    const { options: o } = t;
    const c = new CSRSigningController({
      client: o.client, informer: csrInformer(t), authorities: t.authorities, clock: t.clock, logger: t.logger, metrics: t.metrics,
      signers: signerTable(o.signers),
      ...(o.signingDurationMs !== undefined ? { signingDurationMs: o.signingDurationMs } : {}),
      ...(o.workers?.signing !== undefined ? { workers: o.workers.signing } : {}),
      ...(o.requestsVerifiedByServer ? { requestsVerifiedByServer: true } : {}),
    });
    return (s) => c.run(s);
  },
  csrapproving: (t) => {
    const { options: o } = t;
    const c = new CSRApprovingController({
      client: o.client, informer: csrInformer(t), clock: t.clock, logger: t.logger, metrics: t.metrics,
      ...(o.workers?.approving !== undefined ? { workers: o.workers.approving } : {}),
      ...(o.kubeletServing ? { kubeletServing: o.kubeletServing } : {}),
    });
    return (s) => c.run(s);
  },
  csrcleaner: (t) => {
    const { options: o } = t;
    const c = new CSRCleanerController({ client: o.client, informer: csrInformer(t), clock: t.clock, logger: t.logger, metrics: t.metrics, ...(o.cleanerDurations ? { durations: o.cleanerDurations } : {}) });
    return (s) => c.run(s);
  },
  'root-ca-cert-publisher': (t) => {
    const { options: o } = t;
    if (!o.rootCA) {
      t.logger.warn('root-ca-cert-publisher: no root CA known; not publishing');
      return undefined;
    }
    const c = new RootCAPublisherController({
      client: o.client,
      namespaceInformer: t.informer<Namespace>('namespaces', RESOURCES.namespaces),
      configMapInformer: t.informer<ConfigMap>('root-ca-configmaps', RESOURCES.configMaps, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` }),
      rootCA: o.rootCA, clock: t.clock, logger: t.logger, metrics: t.metrics,
    });
    return (s) => c.run(s);
  },
  bootstrapsigner: (t) => {
    const { options: o } = t;
    const c = new BootstrapSignerController({
      client: o.client,
      configMapInformer: t.informer<ConfigMap>('cluster-info', RESOURCES.configMaps, { namespace: NAMESPACE_PUBLIC, fieldSelector: `metadata.name=${CLUSTER_INFO_CONFIGMAP}` }),
      secretInformer: tokenInformer(t), clock: t.clock, logger: t.logger, metrics: t.metrics,
      ...(o.clusterInfo ? { clusterInfo: o.clusterInfo } : {}),
    });
    return (s) => c.run(s);
  },
  tokencleaner: (t) => {
    const c = new TokenCleanerController({ client: t.options.client, informer: tokenInformer(t), clock: t.clock, logger: t.logger, metrics: t.metrics });
    return (s) => c.run(s);
  },
  'clustertrustbundle-publisher': (t) => {
    const { options: o } = t;
    const sources = trustBundleSources({ ...(o.signing ? { signing: o.signing } : {}), authorities: t.authorities, ...(o.rootCA ? { rootCA: o.rootCA } : {}) });
    const c = new CtbPublisherController({ client: o.client, informer: t.informer<ClusterTrustBundle>('clustertrustbundles', RESOURCES.clusterTrustBundles), sources, clock: t.clock, logger: t.logger, metrics: t.metrics });
    return (s) => c.run(s);
  },
};
