// The node agent: what the kubelet does for its certificates, wired together. At start it keeps a usable
// --kubeconfig or bootstraps one with the bootstrap token (pkg/kubelet/certificate/bootstrap); then the
// client certificate manager (and, with --rotate-server-certificates, the serving one) keep them valid.
import os from 'node:os';
import path from 'node:path';
import type { ClientConfig } from '../client/kubeconfig.js';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { canonicalIp, isValidDnsName, privateKeyToPem, type Certificate, type SubjectAltNames } from '../x509/index.js';
import { CertificateStore, type CertKeyPair, type StoreFs } from './cert-store.js';
import { KubernetesCsrClient, type CsrApi } from './csr-client.js';
import { AgentMetrics, startHealthServer, type HealthServer } from './health.js';
import { registerNodeExpirationGauge } from './expiry-metrics.js';
import { runNodeExpiryEvents } from './expiry-events.js';
import {
  caCertificatesOf,
  certificateKubeconfig,
  clusterAccessOf,
  inspectNodeKubeconfig,
  loadKubeconfig,
  writeNodeKubeconfig,
  type ClusterAccess,
} from './kubeconfig.js';
import { CertificateManager } from './rotation.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { fetchPublishedCa } from './cluster-info.js';
import { followCaBundle, type TrustUpdate } from './trust.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBELET_SERVING_SIGNER, GROUP_NODES, NODE_USER_PREFIX } from '../apis/names.js';
import { CustomCaTrustFollower, type CustomCaTrustFollowerOptions } from './custom-ca-trust-follower.js';
import { bootstrapKubeconfigByDiscovery, type TokenDiscoveryOptions } from './discovery.js';

export interface NodeAgentOptions {
  /** --kubeconfig: written after bootstrap, used as is while its certificate is usable. */
  kubeconfig: string;
  /** --bootstrap-kubeconfig: server, CA and bootstrap token (with `discovery`: where discovery writes it). */
  bootstrapKubeconfig?: string;
  /** --server/--token/--discovery-token-ca-cert-hash: find and verify the cluster as `kubeadm join` does. */
  discovery?: Omit<TokenDiscoveryOptions, 'clock' | 'logger' | 'signal'>;
  /** --cert-dir (kubelet default /var/lib/kubelet/pki). */
  certDir: string;
  /** --node-name; defaults to --hostname-override, then the host name. */
  nodeName?: string;
  /** --hostname-override: the DNS name in the serving certificate. */
  hostnameOverride?: string;
  /** --node-ip: IPs in the serving certificate. */
  nodeIPs?: string[];
  /** --rotate-certificates: keep renewing the client certificate (otherwise only bootstrap). */
  rotateCertificates?: boolean;
  /** --rotate-server-certificates: request and renew a kubelet-serving certificate. */
  rotateServerCertificates?: boolean;
  /** --healthz-port; undefined or negative: no health server; 0: any free port. */
  healthzPort?: number;
  /** --healthz-bind-address (loopback only). */
  healthzBindAddress?: string;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  backoff?: BackoffOptions;
  /** Interval of the CSR client's polling fallback and re-list after a dropped watch. */
  pollIntervalMs?: number;
  /** Disk operations (tests inject faults). */
  fs?: StoreFs;
  /**
   * How often the CA published in cluster-info / kube-root-ca.crt is read and followed (only as far as the
   * trusted CA signs it in). Default 5 min; 0 disables.
   */
  /** How often to check for CertificateExpirationWarning Events (default 1 h). */
  expiryCheckIntervalMs?: number;
  caSyncIntervalMs?: number;
  /** One request to the API server from its start to its answer (default: the CSR client's 30 s). */
  requestTimeoutMs?: number;
  /** --enable-custom-ca-trust: install and follow the cluster's custom CAs (custom-ca-trust-follower.ts). */
  customCaTrust?: Omit<CustomCaTrustFollowerOptions, 'nodeName' | 'kubeConfig' | 'clock' | 'logger' | 'registry'>;
}

const CLIENT_USAGES = ['digital signature', 'client auth'];
// ECDSA keys: no key encipherment (the kubelet adds it only for RSA serving keys).
const SERVING_USAGES = ['digital signature', 'server auth'];

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function defaultNodeName(options: Pick<NodeAgentOptions, 'nodeName' | 'hostnameOverride'>): string {
  return (options.nodeName ?? options.hostnameOverride ?? os.hostname()).trim().toLowerCase();
}

export class NodeAgent {
  readonly nodeName: string;
  readonly clientStore: CertificateStore;
  readonly serverStore: CertificateStore;
  clientManager: CertificateManager | null = null;
  servingManager: CertificateManager | null = null;
  readonly metrics: AgentMetrics;
  private readonly o: NodeAgentOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private cluster: ClusterAccess | null = null;
  private bootstrapKc: ClientConfig | null = null;
  private health: HealthServer | null = null;
  private stopping = new AbortController();
  private kubeconfigPointsAtStore = false;
  private bootstrapLoop: Promise<void> | null = null;
  private trustLoop: Promise<void> | null = null;
  private expiryLoop: Promise<void> | null = null;
  private readonly kubeconfigWritten = deferred();
  readonly customCaTrust: CustomCaTrustFollower | null;

  constructor(options: NodeAgentOptions) {
    if (!options.kubeconfig) throw new KubepkiError('InvalidArgument', '--kubeconfig is required');
    if (!options.certDir) throw new KubepkiError('InvalidArgument', '--cert-dir is required');
    this.o = { ...options, kubeconfig: path.resolve(options.kubeconfig), certDir: path.resolve(options.certDir) };
    this.nodeName = defaultNodeName(options);
    if (!isValidDnsName(this.nodeName) || this.nodeName.includes('*')) {
      throw new KubepkiError('InvalidArgument', `node name "${this.nodeName}" is not a valid DNS subdomain`);
    }
    for (const ip of options.nodeIPs ?? []) {
      if (canonicalIp(ip) === null) throw new KubepkiError('InvalidArgument', `--node-ip: "${ip}" is not an IP address`);
    }
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ node: this.nodeName });
    const storeOptions = { certDir: this.o.certDir, clock: this.clock, ...(options.fs ? { fs: options.fs } : {}) };
    this.clientStore = new CertificateStore({ ...storeOptions, pairName: 'kubelet-client' });
    this.serverStore = new CertificateStore({ ...storeOptions, pairName: 'kubelet-server' });
    this.metrics = new AgentMetrics({ clock: this.clock, managers: () => [this.clientManager, this.servingManager].filter((m): m is CertificateManager => m !== null) });
    this.customCaTrust = options.customCaTrust
      ? new CustomCaTrustFollower({ ...options.customCaTrust, nodeName: this.nodeName, kubeConfig: () => loadKubeconfig(this.o.kubeconfig), clock: this.clock, logger: this.logger, registry: this.metrics.registry })
      : null;
    registerNodeExpirationGauge(this.metrics.registry, { managers: () => [this.clientManager, this.servingManager].filter((m): m is CertificateManager => m !== null), sourceOf: (m) => `file:${(m.name === 'client' ? this.clientStore : this.serverStore).currentPath()}` });
  }

  /** The health server's port, once started. */
  get healthzPort(): number | null {
    return this.health?.port ?? null;
  }

  /**
   * Checks the configuration (bad flags or kubeconfigs are one clear error), starts the health server and
   * the managers. Resolves once the node has a usable client certificate and --kubeconfig refers to it;
   * until then it retries, logging why each attempt failed.
   */
  async start(): Promise<void> {
    const now = this.clock.now();
    await this.customCaTrust?.installFileCas();
    const inspection = inspectNodeKubeconfig(this.o.kubeconfig, { now });
    if (this.o.discovery) {
      const file = this.o.bootstrapKubeconfig ?? path.join(path.dirname(this.o.kubeconfig), 'bootstrap-kubelet.conf');
      const trusted = inspection.status === 'usable' ? inspection.cluster : null;
      this.bootstrapKc = await bootstrapKubeconfigByDiscovery({ ...this.o.discovery, file, trusted, clock: this.clock, logger: this.logger, signal: this.stopping.signal });
    } else if (this.o.bootstrapKubeconfig) {
      this.bootstrapKc = loadKubeconfig(this.o.bootstrapKubeconfig, 'bootstrap kubeconfig');
      clusterAccessOf(this.bootstrapKc, `bootstrap kubeconfig ${this.o.bootstrapKubeconfig}`);
    }
    let initialPair: { certPem: string; keyPem: string } | undefined;
    if (inspection.status === 'usable') {
      this.cluster = inspection.cluster;
      this.kubeconfigPointsAtStore = inspection.certFile === this.clientStore.currentPath();
      if (!this.kubeconfigPointsAtStore) {
        initialPair = { certPem: inspection.pair.chain.map((c) => c.pem).join(''), keyPem: privateKeyToPem(inspection.pair.privateKey) };
      }
      this.logger.info({ kubeconfig: this.o.kubeconfig }, 'the kubeconfig is usable; no bootstrap needed');
    } else {
      if (!this.bootstrapKc) {
        const why = inspection.status === 'missing' ? `${this.o.kubeconfig} does not exist` : inspection.reason;
        throw new KubepkiError('InvalidConfig', `cannot use --kubeconfig (${why}) and no --bootstrap-kubeconfig was given`);
      }
      this.cluster = clusterAccessOf(this.bootstrapKc, `bootstrap kubeconfig ${this.o.bootstrapKubeconfig}`);
      caCertificatesOf(this.cluster, `bootstrap kubeconfig ${this.o.bootstrapKubeconfig}`);
      this.logger.info(
        { reason: inspection.status === 'missing' ? 'the kubeconfig does not exist' : inspection.reason },
        'using the bootstrap kubeconfig to request a client certificate',
      );
    }

    this.clientManager = new CertificateManager({
      name: 'client',
      store: this.clientStore,
      signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
      usages: CLIENT_USAGES,
      usage: 'client auth',
      template: () => ({ subject: { commonName: `${NODE_USER_PREFIX}${this.nodeName}`, organization: [GROUP_NODES] } }),
      csrApi: (current) => this.csrApiFor(current),
      roots: () => this.roots(),
      signingCAKeyId: () => this.signingCAKeyId,
      bootstrapKeyFile: path.join(this.o.certDir, 'kubelet-client.key.tmp'),
      ...(initialPair && this.o.rotateCertificates ? { initialPair } : {}),
      clock: this.clock,
      ...(this.o.random ? { random: this.o.random } : {}),
      logger: this.logger,
      observer: {
        rotated: (info) => {
          this.metrics.rotated(info);
          void this.afterClientRotation().catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'cannot write the kubeconfig'));
        },
        failed: (info) => this.metrics.failed(info),
      },
      waitTimeoutMs: inspection.status === 'usable' ? 15 * 60_000 : 60 * 60_000,
      ...(this.o.backoff ? { backoff: this.o.backoff } : {}),
    });
    await this.clientManager.init();

    if (this.o.healthzPort !== undefined && this.o.healthzPort >= 0) {
      this.health = await startHealthServer({
        port: this.o.healthzPort,
        ...(this.o.healthzBindAddress ? { host: this.o.healthzBindAddress } : {}),
        registry: this.metrics.registry,
        health: () => this.healthCheck(),
      });
    }

    let needsBootstrap = inspection.status !== 'usable';
    if (needsBootstrap && this.clientManager.current()) {
      // The kubeconfig is gone or unusable but the cert dir holds a valid pair for this cluster: refer to it.
      await this.afterClientRotation();
      needsBootstrap = false;
    }
    if (this.o.rotateCertificates) {
      this.clientManager.start();
    } else if (needsBootstrap) {
      this.bootstrapLoop = this.bootstrapOnce(this.stopping.signal);
    }
    await this.waitForClientCertificate(needsBootstrap);
    if (this.stopping.signal.aborted) return;
    if (this.o.rotateServerCertificates) await this.startServing();
    this.customCaTrust?.start();
    const every = this.o.caSyncIntervalMs ?? 5 * 60_000;
    if (every > 0) this.trustLoop = this.followTrust(every, this.stopping.signal);
    this.expiryLoop = runNodeExpiryEvents({ kubeConfig: () => certificateKubeconfig(this.cluster!, this.clientStore.currentPath()), nodeName: this.nodeName, managers: () => [this.clientManager, this.servingManager].filter((m): m is CertificateManager => m !== null), clock: this.clock, logger: this.logger, everyMs: this.o.expiryCheckIntervalMs ?? 3600_000, signal: this.stopping.signal });
  }

  private async followTrust(every: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.clock.sleep(every, signal).catch(() => undefined);
      if (signal.aborted) return;
      await this.syncTrust().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'cannot read the published cluster CA'));
    }
  }

  /**
   * Reads the CA the cluster publishes and follows it as far as the CA trusted now signs it in (trust.ts);
   * a change is written into --kubeconfig as certificate-authority-data. Never trust on first use.
   */
  async syncTrust(): Promise<TrustUpdate | null> {
    if (!this.kubeconfigPointsAtStore) return null; // not the agent's kubeconfig to rewrite
    const published = await fetchPublishedCa(loadKubeconfig(this.o.kubeconfig));
    const update = followCaBundle({ trusted: this.roots(), published: published.certificates, now: this.clock.now() });
    for (const r of update.rejected) {
      this.logger.warn(
        { source: published.source, subject: r.certificate.subject.commonName, serial: r.certificate.serialNumber, reason: r.reason },
        'not following a published CA certificate',
      );
    }
    this.followSigner(published.certificates, update.trusted);
    if (update.changed) {
      const { caFile: _dropped, ...rest } = this.cluster!;
      this.cluster = { ...rest, caPem: update.trusted.map((c) => c.pem).join('') };
      await writeNodeKubeconfig(this.o.kubeconfig, { cluster: this.cluster, pemPath: this.clientStore.currentPath() });
      this.logger.info(
        { source: published.source, added: update.added.map((c) => c.subject.commonName), removed: update.removed.map((c) => c.subject.commonName) },
        'followed a change of the cluster CA',
      );
    }
    return update;
  }

  /** The key id of the CA that signs now (the first of the published bundle, once trusted); see followSigner. */
  private signingCAKeyId: string | undefined;

  /**
   * The cluster publishes its signing CA first (serve's bundle is ca.crt, then a rotation's extra trust): when
   * that changes to a CA this node trusts, the certificates from the previous signer are rotated early.
   */
  private followSigner(published: Certificate[], trusted: Certificate[]): void {
    const first = published[0];
    if (!first?.subjectKeyId || !trusted.some((t) => t.subjectKeyId === first.subjectKeyId)) return;
    if (this.signingCAKeyId === first.subjectKeyId) return;
    this.signingCAKeyId = first.subjectKeyId;
    // The managers compare their certificate's issuer with it and rotate at once when it differs.
    this.clientManager?.kick();
    this.servingManager?.kick();
  }

  /** Resolves when the client certificate is usable and --kubeconfig refers to it (or the agent stops). */
  private async waitForClientCertificate(needsBootstrap: boolean): Promise<void> {
    if (!needsBootstrap || this.kubeconfigPointsAtStore) return;
    const signal = this.stopping.signal;
    let onAbort = () => undefined as void;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    await Promise.race([this.kubeconfigWritten.promise, aborted]);
    signal.removeEventListener('abort', onAbort);
  }

  /** Without --rotate-certificates the kubelet still bootstraps once; so does the agent, retrying until it works. */
  private async bootstrapOnce(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.o.backoff, this.o.random ?? Math.random);
    while (!signal.aborted && !(await this.clientManager!.rotateOnce(signal))) {
      const delay = backoff.next();
      this.logger.info({ certificate: 'client', retryInSeconds: Math.round(delay / 100) / 10 }, 'will retry the certificate request');
      await this.clock.sleep(delay, signal).catch(() => undefined);
    }
  }

  private async afterClientRotation(): Promise<void> {
    if (this.kubeconfigPointsAtStore) return;
    await writeNodeKubeconfig(this.o.kubeconfig, { cluster: this.cluster!, pemPath: this.clientStore.currentPath() });
    this.kubeconfigPointsAtStore = true;
    this.kubeconfigWritten.resolve();
    this.logger.info({ kubeconfig: this.o.kubeconfig, pem: this.clientStore.currentPath() }, 'wrote the kubeconfig referring to the client certificate');
  }

  private async startServing(): Promise<void> {
    const hostname = (this.o.hostnameOverride ?? os.hostname()).trim().toLowerCase();
    const sans: SubjectAltNames = {
      dnsNames: isValidDnsName(hostname) ? [hostname] : [],
      ipAddresses: (this.o.nodeIPs ?? []).map((ip) => canonicalIp(ip)!),
      emailAddresses: [],
      uris: [],
    };
    this.servingManager = new CertificateManager({
      name: 'serving',
      store: this.serverStore,
      signerName: KUBELET_SERVING_SIGNER,
      usages: SERVING_USAGES,
      usage: 'server auth',
      template: () => ({ subject: { commonName: `${NODE_USER_PREFIX}${this.nodeName}`, organization: [GROUP_NODES] }, sans }),
      // Serving requests authenticate as the node (selfnodeserver) with --kubeconfig, never with the bootstrap token.
      csrApi: () => this.client(loadKubeconfig(this.o.kubeconfig)),
      signingCAKeyId: () => this.signingCAKeyId,
      clock: this.clock,
      ...(this.o.random ? { random: this.o.random } : {}),
      logger: this.logger,
      observer: { rotated: (i) => this.metrics.rotated(i), failed: (i) => this.metrics.failed(i) },
      ...(this.o.backoff ? { backoff: this.o.backoff } : {}),
    });
    await this.servingManager.init();
    this.servingManager.start();
  }

  /** client-go's ClientsetFn: the current certificate when valid, otherwise the bootstrap credentials. */
  private csrApiFor(current: CertKeyPair | null): CsrApi {
    if (current) return this.clientCsrApi();
    if (this.bootstrapKc) return this.client(this.bootstrapKc);
    throw new KubepkiError('InvalidConfig', 'the client certificate is not valid and no --bootstrap-kubeconfig was given to request a new one');
  }

  private clientCsrApi(): CsrApi {
    // Reads kubelet-client-current.pem at each connection, so a rotation takes effect at once.
    return this.client(certificateKubeconfig(this.cluster!, this.clientStore.currentPath()));
  }

  private client(kubeConfig: ClientConfig): CsrApi {
    return new KubernetesCsrClient({
      kubeConfig,
      clock: this.clock,
      logger: this.logger,
      ...(this.o.pollIntervalMs ? { pollIntervalMs: this.o.pollIntervalMs } : {}),
      ...(this.o.requestTimeoutMs ? { requestTimeoutMs: this.o.requestTimeoutMs } : {}),
    });
  }

  private roots(): Certificate[] {
    return caCertificatesOf(this.cluster!);
  }

  private healthCheck(): { ok: true } | { ok: false; message: string } {
    if (this.clientManager?.current()) return { ok: true };
    const last = this.clientManager?.status().lastError;
    return { ok: false, message: `no valid client certificate${last ? ` (last error: ${last})` : ''}` };
  }

  /** Stops the managers, any request in flight and the health server. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.clientManager?.stop(), this.servingManager?.stop(), this.bootstrapLoop, this.trustLoop, this.customCaTrust?.stop(), this.expiryLoop]);
    await this.health?.close();
    this.health = null;
  }
}
