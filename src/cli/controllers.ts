// `kubepki controllers --kubeconfig FILE`: kube-controller-manager's certificate controllers against any
// compatible API server, with its flag names; the same flags on `kubepki serve`, which runs the controllers
// in-process (through the API, as system:kube-controller-manager). Parsing and wiring only: the controllers
// are src/controllers.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import type { Logger } from '../util/logger.js';
import type { ControllerManagerOptions } from '../controllers/manager.js';
import type { SigningFiles } from '../controllers/signer/ca.js';
import type { LoopbackEndpoint } from '../controllers/client/rest.js';

export interface ControllerFlags {
  controllers?: string[];
  clusterSigningCertFile?: string;
  clusterSigningKeyFile?: string;
  clusterSigningKubeletServingCertFile?: string;
  clusterSigningKubeletServingKeyFile?: string;
  clusterSigningKubeletClientCertFile?: string;
  clusterSigningKubeletClientKeyFile?: string;
  clusterSigningKubeApiserverClientCertFile?: string;
  clusterSigningKubeApiserverClientKeyFile?: string;
  clusterSigningLegacyUnknownCertFile?: string;
  clusterSigningLegacyUnknownKeyFile?: string;
  clusterSigningDuration: string;
  rootCaFile?: string;
  leaderElect: string | boolean;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  csrCleanerApprovedAfter: string;
  csrCleanerDeniedAfter: string;
  csrCleanerFailedAfter: string;
  csrCleanerPendingAfter: string;
  kubeletServingApproveCidrs?: string[];
  kubeletServingApproveDnsSuffixes?: string[];
  kubeletServingMaxExpirationSeconds?: string;
}

/** pflag's StringSlice: repeatable, comma-separated. */
const slice = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** The controller-manager flags, shared by `kubepki controllers` and `kubepki serve`. */
export function addControllerFlags(cmd: Command, defaults: { controllers: string; signingDefaultHint?: string }): Command {
  const hint = defaults.signingDefaultHint ? ` (default: ${defaults.signingDefaultHint})` : '';
  return cmd
    .option('--controllers <names>', `controllers to run: * (every one on by default), name to enable, -name to disable; off by default: bootstrapsigner, tokencleaner (default "${defaults.controllers}")`, slice)
    .option('--cluster-signing-cert-file <file>', `PEM CA certificate (one, not a bundle) that signs the kubernetes.io signers' certificates${hint}`)
    .option('--cluster-signing-key-file <file>', 'PEM private key of --cluster-signing-cert-file')
    .option('--cluster-signing-kubelet-serving-cert-file <file>', 'CA certificate for kubernetes.io/kubelet-serving only')
    .option('--cluster-signing-kubelet-serving-key-file <file>', 'its private key')
    .option('--cluster-signing-kubelet-client-cert-file <file>', 'CA certificate for kubernetes.io/kube-apiserver-client-kubelet only')
    .option('--cluster-signing-kubelet-client-key-file <file>', 'its private key')
    .option('--cluster-signing-kube-apiserver-client-cert-file <file>', 'CA certificate for kubernetes.io/kube-apiserver-client only')
    .option('--cluster-signing-kube-apiserver-client-key-file <file>', 'its private key')
    .option('--cluster-signing-legacy-unknown-cert-file <file>', 'CA certificate for kubernetes.io/legacy-unknown only')
    .option('--cluster-signing-legacy-unknown-key-file <file>', 'its private key')
    .option('--cluster-signing-duration <duration>', 'the longest lifetime of a signed certificate (Go duration: 8760h, 40s); spec.expirationSeconds may ask for less', '8760h0m0s')
    .option('--root-ca-file <file>', 'CA bundle published in every namespace as ConfigMap kube-root-ca.crt (default: the API server\'s CA)')
    .option('--leader-elect [bool]', 'campaign for a coordination.k8s.io Lease and run the controllers only while holding it', 'true')
    .option('--leader-elect-lease-duration <duration>', 'how long a candidate waits after the last observed renewal before taking over', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before it steps down', '10s')
    .option('--leader-elect-retry-period <duration>', 'how long candidates wait between attempts', '2s')
    .option('--leader-elect-resource-namespace <ns>', 'namespace of the Lease', 'kube-system')
    .option('--leader-elect-resource-name <name>', 'name of the Lease', 'kube-controller-manager')
    .option('--csr-cleaner-approved-after <duration>', 'delete approved and issued CSRs this long after approval', '1h')
    .option('--csr-cleaner-denied-after <duration>', 'delete denied CSRs this long after denial', '1h')
    .option('--csr-cleaner-failed-after <duration>', 'delete failed CSRs this long after failure', '1h')
    .option('--csr-cleaner-pending-after <duration>', 'delete CSRs still pending this long after creation', '24h')
    .option('--kubelet-serving-approve-cidrs <cidrs>', 'opt in to approving kubelet serving CSRs whose IP SANs all lie in these CIDRs (and the node is the requester)', slice)
    .option('--kubelet-serving-approve-dns-suffixes <suffixes>', 'DNS suffixes allowed in approved kubelet serving CSRs: <node>.<...>.<suffix>', slice)
    .option('--kubelet-serving-max-expiration-seconds <n>', 'largest spec.expirationSeconds an approved kubelet serving CSR may ask for');
}

function duration(value: string, flag: string): number {
  try {
    return parseGoDuration(value);
  } catch {
    throw new KubepkiError('InvalidArgument', `${flag}: invalid duration "${value}": use Go syntax such as 8760h, 30m or 40s`);
  }
}

function bool(value: string | boolean, flag: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new KubepkiError('InvalidArgument', `${flag}: "${String(value)}" is not true or false`);
}

/** The manager's options from the flags (files are read later, by ControllerManager.create). */
export function controllerOptionsFromFlags(
  flags: ControllerFlags,
  defaults: { controllers: string; signing?: { certFile: string; keyFile: string } },
): Omit<ControllerManagerOptions, 'client'> {
  const pair = (certFile?: string, keyFile?: string) => (certFile || keyFile ? { ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) } : undefined);
  const files: SigningFiles = {};
  const d = pair(flags.clusterSigningCertFile, flags.clusterSigningKeyFile);
  const perSigner = {
    kubeletServing: pair(flags.clusterSigningKubeletServingCertFile, flags.clusterSigningKubeletServingKeyFile),
    kubeletClient: pair(flags.clusterSigningKubeletClientCertFile, flags.clusterSigningKubeletClientKeyFile),
    kubeAPIServerClient: pair(flags.clusterSigningKubeApiserverClientCertFile, flags.clusterSigningKubeApiserverClientKeyFile),
    legacyUnknown: pair(flags.clusterSigningLegacyUnknownCertFile, flags.clusterSigningLegacyUnknownKeyFile),
  };
  if (d) files.default = d;
  for (const [k, v] of Object.entries(perSigner)) if (v) files[k as keyof typeof perSigner] = v;
  if (!d && !Object.values(perSigner).some(Boolean) && defaults.signing) files.default = defaults.signing;

  const signingDurationMs = duration(flags.clusterSigningDuration, '--cluster-signing-duration');
  if (signingDurationMs <= 0) throw new KubepkiError('InvalidArgument', '--cluster-signing-duration must be positive');
  const leaderElection = {
    enabled: bool(flags.leaderElect, '--leader-elect'),
    leaseDurationMs: duration(flags.leaderElectLeaseDuration, '--leader-elect-lease-duration'),
    renewDeadlineMs: duration(flags.leaderElectRenewDeadline, '--leader-elect-renew-deadline'),
    retryPeriodMs: duration(flags.leaderElectRetryPeriod, '--leader-elect-retry-period'),
    namespace: flags.leaderElectResourceNamespace,
    name: flags.leaderElectResourceName,
  };
  if (leaderElection.enabled && !(leaderElection.leaseDurationMs > leaderElection.renewDeadlineMs && leaderElection.renewDeadlineMs > 1.2 * leaderElection.retryPeriodMs)) {
    throw new KubepkiError('InvalidArgument', 'leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > 1.2 × --leader-elect-retry-period');
  }
  const cidrs = flags.kubeletServingApproveCidrs;
  const suffixes = flags.kubeletServingApproveDnsSuffixes;
  let maxExpirationSeconds: number | undefined;
  if (flags.kubeletServingMaxExpirationSeconds !== undefined) {
    maxExpirationSeconds = Number(flags.kubeletServingMaxExpirationSeconds);
    if (!Number.isInteger(maxExpirationSeconds) || maxExpirationSeconds < 600) {
      throw new KubepkiError('InvalidArgument', `--kubelet-serving-max-expiration-seconds: "${flags.kubeletServingMaxExpirationSeconds}" is not a whole number of at least 600`);
    }
  }
  return {
    controllers: flags.controllers ?? [defaults.controllers],
    signing: { files },
    signingDurationMs,
    leaderElection,
    cleanerDurations: {
      approvedMs: duration(flags.csrCleanerApprovedAfter, '--csr-cleaner-approved-after'),
      deniedMs: duration(flags.csrCleanerDeniedAfter, '--csr-cleaner-denied-after'),
      failedMs: duration(flags.csrCleanerFailedAfter, '--csr-cleaner-failed-after'),
      pendingMs: duration(flags.csrCleanerPendingAfter, '--csr-cleaner-pending-after'),
    },
    ...(cidrs || suffixes
      ? { kubeletServing: { allowedCidrs: cidrs ?? [], dnsSuffixes: suffixes ?? [], ...(maxExpirationSeconds !== undefined ? { maxExpirationSeconds } : {}) } }
      : {}),
  };
}

export interface RunningControllers {
  stop(): Promise<void>;
  readonly signerNames: string[];
}

/**
 * Starts the controller manager with `client` (a RestKubeClient or an in-process one). Fails before anything
 * runs when the flags are bad or a signing file is refused (a CA bundle, a foreign key...).
 */
export async function startControllers(options: {
  kubeClient: import('../controllers/client/interface.js').KubeClient;
  flags: ControllerFlags;
  defaults: { controllers: string; signing?: { certFile: string; keyFile: string } };
  rootCA?: string;
  clusterInfo?: { server: string; caPem: string };
  logger: Logger;
  /** Where the controllers' metrics are registered (serve passes its own, so /metrics shows them). */
  registry?: import('prom-client').Registry;
  /** serve's in-process controllers: see ControllerManagerOptions.requestsVerifiedByServer. */
  requestsVerifiedByServer?: boolean;
}): Promise<RunningControllers & { registry: import('prom-client').Registry }> {
  const [{ ControllerManager }, { ControllerMetrics }, { readFile }] = await Promise.all([
    import('../controllers/manager.js'),
    import('../controllers/metrics.js'),
    import('node:fs/promises'),
  ]);
  const managerOptions = controllerOptionsFromFlags(options.flags, options.defaults);
  let rootCA = options.rootCA;
  if (options.flags.rootCaFile) {
    try {
      rootCA = await readFile(options.flags.rootCaFile, 'utf8');
    } catch (err) {
      throw new KubepkiError('FileMissing', `--root-ca-file: cannot read ${options.flags.rootCaFile}: ${(err as Error).message}`);
    }
  }
  const manager = await ControllerManager.create({
    ...managerOptions,
    client: options.kubeClient,
    logger: options.logger,
    metrics: new ControllerMetrics(options.registry),
    ...(rootCA ? { rootCA } : {}),
    ...(options.clusterInfo ? { clusterInfo: options.clusterInfo } : {}),
    ...(options.requestsVerifiedByServer ? { requestsVerifiedByServer: true } : {}),
  });
  const ac = new AbortController();
  const running = manager.run(ac.signal).catch((err: unknown) => options.logger.error({ err: String(err) }, 'controller manager stopped with an error'));
  options.logger.info({ controllers: [...manager.enabled], signers: manager.signerNames }, 'controller manager started');
  return {
    signerNames: manager.signerNames,
    registry: manager.metrics.registry,
    stop: async () => {
      ac.abort();
      await running;
    },
  };
}

interface StandaloneFlags extends ControllerFlags {
  kubeconfig?: string;
  context?: string;
  logLevel?: string;
  logFormat?: string;
  metricsBindAddress?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('controllers')
    .description('Run the certificate controllers of kube-controller-manager (csrapproving, csrsigning, csrcleaner, root-ca-cert-publisher, bootstrapsigner, tokencleaner) against an API server')
    .option('--kubeconfig <file>', 'kubeconfig of the API server and of the identity to act as (e.g. controller-manager.conf)')
    .option('--context <name>', 'kubeconfig context to use instead of the current one')
    .option('--log-level <level>', 'pino log level (info, debug, warn...)')
    .option('--log-format <format>', 'text (klog-like lines) or json; default: text when stderr is a terminal, else json')
    .option('--metrics-bind-address <host:port>', 'serve /metrics and /healthz over plain HTTP on this address (off when not given)');
  addControllerFlags(cmd, { controllers: '*' }).action(async (flags: StandaloneFlags) => {
    process.exitCode = await runStandalone(flags);
  });
}

async function runStandalone(flags: StandaloneFlags): Promise<number> {
  if (!flags.kubeconfig) throw new KubepkiError('InvalidArgument', '--kubeconfig is required: the API server to watch and the identity to act as');
  const [{ createLogger }, { RestKubeClient }, { resolveLogFormat }] = await Promise.all([import('../util/logger.js'), import('../controllers/client/rest.js'), import('../util/log-format.js')]);
  const logger = createLogger({ name: 'kubepki-controllers', format: resolveLogFormat(flags.logFormat, process.stderr.isTTY), ...(flags.logLevel ? { level: flags.logLevel } : {}) });
  // Validate the flags before touching the kubeconfig, so a bad flag is one clear error.
  controllerOptionsFromFlags(flags, { controllers: '*' });
  const metricsAddress = flags.metricsBindAddress ? parseHostPort(flags.metricsBindAddress) : undefined;
  const client = RestKubeClient.fromFile(flags.kubeconfig, { userAgent: 'kubepki-controllers', ...(flags.context ? { context: flags.context } : {}) });
  // kube-controller-manager publishes --root-ca-file, else the CA its kubeconfig trusts.
  const running = await startControllers({ kubeClient: client, flags, defaults: { controllers: '*' }, ...withRootCA(client.clusterCA()), logger });
  const metricsServer = metricsAddress ? await serveMetrics(metricsAddress, running.registry) : undefined;
  process.stderr.write(`kubepki controllers: running against ${client.server}${metricsServer ? `; metrics on ${metricsServer.url}` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.stop();
  await metricsServer?.close();
  await client.close();
  return 0;
}

function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new KubepkiError('InvalidArgument', `--metrics-bind-address: "${value}" is not host:port`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

/** A plain-HTTP /metrics (Prometheus text) and /healthz endpoint for the standalone controllers. */
async function serveMetrics(address: { host: string; port: number }, registry: import('prom-client').Registry): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
      return;
    }
    res.writeHead(req.url === '/healthz' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/healthz' ? 'ok' : 'not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new KubepkiError('InvalidArgument', `--metrics-bind-address: cannot listen: ${err.message}`)));
    server.listen(address.port, address.host, () => resolve());
  });
  const a = server.address() as import('node:net').AddressInfo;
  return {
    url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const withRootCA = (pem: string | undefined) => (pem ? { rootCA: pem } : {});

export interface ServeControllerFlags extends ControllerFlags {
  inProcessControllers: string | boolean;
  controllerManagerKubeconfig?: string;
}

/** The in-process switch and identity of `kubepki serve` (besides addControllerFlags). */
export function addServeControllerFlags(cmd: Command): Command {
  return addControllerFlags(cmd, { controllers: SERVE_CONTROLLERS, signingDefaultHint: 'DIR/pki/ca.crt and ca.key with --data-dir' })
    .option('--in-process-controllers [bool]', 'run the certificate controllers inside the server (through its API, as the controller manager)', 'true')
    .option('--controller-manager-kubeconfig <file>', 'identity the in-process controllers act as (default with --data-dir: DIR/controller-manager.conf)');
}

/** kubeadm runs kube-controller-manager with --controllers=*,bootstrapsigner,tokencleaner. */
export const SERVE_CONTROLLERS = '*,bootstrapsigner,tokencleaner';

export interface ServeControllers {
  /** The controller-manager kubeconfig's client certificate chain (DER, leaf first), when it has one. */
  clientCertificate?: Uint8Array[];
  /**
   * Starts them against the server listening at `serverUrl`: through `loopback` as the identity the server
   * resolved for clientCertificate, or else over HTTPS with the kubeconfig's own credentials.
   */
  start(options: { serverUrl: string; clientCA: string; registry?: import('prom-client').Registry; loopback?: LoopbackEndpoint }): Promise<RunningControllers>;
}

/**
 * For `kubepki serve`: checks the controller flags and signing files before the server starts (so a CA
 * bundle is refused at start), and returns what starts the controllers once the server listens; undefined
 * when they are switched off. The controllers are API clients of the server like an external controller
 * manager, with the controller manager's identity, so RBAC, admission and watch behave exactly the same.
 */
export async function prepareServeControllers(options: {
  flags: ServeControllerFlags;
  dataDir?: string;
  logger: Logger;
}): Promise<ServeControllers | undefined> {
  const { flags, dataDir, logger } = options;
  if (!bool(flags.inProcessControllers, '--in-process-controllers')) return undefined;
  const { logFormatOf } = await import('../util/logger.js');
  const path = await import('node:path');
  const { access } = await import('node:fs/promises');
  const exists = (f: string) => access(f).then(() => true, () => false);
  const kubeconfig = flags.controllerManagerKubeconfig ?? (dataDir ? path.join(dataDir, 'controller-manager.conf') : undefined);
  if (!kubeconfig || !(await exists(kubeconfig))) {
    logger.warn('in-process controllers not started: no controller-manager kubeconfig (give --data-dir or --controller-manager-kubeconfig)');
    process.stderr.write('kubepki serve: in-process controllers off (no controller-manager kubeconfig)\n');
    return undefined;
  }
  const signing =
    dataDir && (await exists(path.join(dataDir, 'pki', 'ca.key')))
      ? { certFile: path.join(dataDir, 'pki', 'ca.crt'), keyFile: path.join(dataDir, 'pki', 'ca.key') }
      : undefined;
  const defaults = { controllers: SERVE_CONTROLLERS, ...(signing ? { signing } : {}) };
  // Fail now, before the port opens: bad flags, unreadable or refused signing files.
  const managerOptions = controllerOptionsFromFlags(flags, defaults);
  if (managerOptions.signing && 'files' in managerOptions.signing) {
    const { resolveSigningFiles, loadSigningAuthority } = await import('../controllers/signer/ca.js');
    for (const files of resolveSigningFiles(managerOptions.signing.files).values()) await loadSigningAuthority(files);
  }
  const clientCertificate = await kubeconfigClientCertificate(kubeconfig);
  return {
    ...(clientCertificate ? { clientCertificate } : {}),
    start: ({ serverUrl, clientCA, registry, loopback }) =>
      startControllersWorker({ kubeconfig, serverUrl, clientCA, flags: { ...flags }, defaults, logLevel: logger.level, logFormat: logFormatOf(logger), ...(loopback ? { loopback } : {}) }, logger, registry),
  };
}

/** The current user's client certificate chain in a kubeconfig (embedded or a file), as DER; undefined if none. */
async function kubeconfigClientCertificate(file: string): Promise<Uint8Array[] | undefined> {
  const [{ readFile }, path, { parseKubeconfig }, { decodePem }] = await Promise.all([
    import('node:fs/promises'),
    import('node:path'),
    import('../cluster/kubeconfig.js'),
    import('../x509/pem.js'),
  ]);
  try {
    const kc = await parseKubeconfig(await readFile(file, 'utf8'), file);
    // A relative client-certificate path is relative to the kubeconfig's directory, as kubectl reads it.
    const pem = kc.clientCertPem ?? (kc.clientCertFile ? await readFile(path.resolve(path.dirname(file), kc.clientCertFile), 'utf8') : undefined);
    const chain = pem ? decodePem(pem, file).filter((b) => b.type === 'CERTIFICATE').map((b) => b.der) : [];
    return chain.length > 0 ? chain : undefined;
  } catch {
    return undefined; // the worker's own loading of the kubeconfig reports what is wrong with it
  }
}

/** What the controllers' worker thread needs to run serve's controllers (structured-clonable). */
export interface ServeControllersWorkerData {
  kubeconfig: string;
  serverUrl: string;
  clientCA: string;
  flags: ServeControllerFlags;
  defaults: { controllers: string; signing?: { certFile: string; keyFile: string } };
  logLevel: string;
  logFormat: import('../util/log-format.js').LogFormat;
  loopback?: LoopbackEndpoint;
}

/**
 * Serve's controllers on this thread: an API client of the server at `serverUrl` (this very process),
 * through its loopback socket when given, else over HTTPS with the controller-manager kubeconfig's
 * credentials. Run by the controllers' worker thread.
 */
export async function startServeControllersHere(data: ServeControllersWorkerData, logger: Logger): Promise<RunningControllers & { registry: import('prom-client').Registry }> {
  const { kubeconfig, serverUrl, clientCA, flags, defaults } = data;
  const [{ KubeConfig }, { RestKubeClient }] = await Promise.all([import('@kubernetes/client-node'), import('../controllers/client/rest.js')]);
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubepkiError('InvalidConfig', `${kubeconfig}: no current cluster`);
  // Talk to this very server on the address it listens on; publish the advertised one in cluster-info.
  const local = new URL(serverUrl);
  if (local.hostname === '0.0.0.0' || local.hostname === '[::]') local.hostname = '127.0.0.1';
  const self = new KubeConfig();
  self.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: local.origin } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  const client = new RestKubeClient(self, { userAgent: 'kubepki-serve/controllers', ...(data.loopback ? { loopback: data.loopback } : {}) });
  const running = await startControllers({
    kubeClient: client,
    flags,
    defaults,
    rootCA: clientCA,
    clusterInfo: { server: cluster.server, caPem: clientCA },
    logger,
    // This process's own API server checked every request's signature at create.
    requestsVerifiedByServer: true,
  });
  return {
    signerNames: running.signerNames,
    registry: running.registry,
    stop: async () => {
      await running.stop();
      await client.close();
    },
  };
}

/** Messages between serve and its controllers' worker thread. */
export type ControllersWorkerMessage =
  | { type: 'started'; signerNames: string[] }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'metrics'; id: number; text: string }
  | { type: 'stopped' };

/**
 * Runs serve's controllers in a worker thread, so their client work (watch decoding, JSON, TLS) does not
 * compete with the API server's main thread. Their metrics are appended to `registry`'s /metrics output
 * (the server asks the worker on each scrape); their logs go to the same stderr with the same name and
 * level. A worker that dies unexpectedly is logged and restarted after a second.
 */
async function startControllersWorker(data: ServeControllersWorkerData, logger: Logger, registry?: import('prom-client').Registry): Promise<RunningControllers> {
  const [{ Worker }, { metricsSources }] = await Promise.all([import('node:worker_threads'), import('../server/metrics.js')]);
  let worker: import('node:worker_threads').Worker;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();

  const spawn = (): Promise<string[]> =>
    new Promise((resolve, reject) => {
      let started = false;
      const w = new Worker(new URL('./controllers-worker.js', import.meta.url), { workerData: data });
      worker = w;
      w.on('message', (m: ControllersWorkerMessage) => {
        if (m.type === 'started') {
          started = true;
          resolve(m.signerNames);
        } else if (m.type === 'failed') {
          reject(new KubepkiError((m.code ?? 'InvalidConfig') as never, m.message));
        } else if (m.type === 'metrics') {
          pending.get(m.id)?.(m.text);
          pending.delete(m.id);
        }
      });
      w.on('error', (err) => {
        logger.error({ err: String(err) }, 'controllers worker crashed');
        if (!started) reject(err);
      });
      w.on('exit', (code) => {
        for (const done of pending.values()) done('');
        pending.clear();
        if (!started) return reject(new KubepkiError('InvalidConfig', `controllers worker exited with code ${code} before starting`));
        if (stopping || worker !== w) return;
        logger.error({ code }, 'controllers worker exited unexpectedly; restarting it in 1s');
        restartTimer = setTimeout(() => {
          spawn().catch((err: unknown) => logger.error({ err: String(err) }, 'controllers worker restart failed'));
        }, 1000);
      });
    });

  const signerNames = await spawn();
  const workerMetrics = (): Promise<string> =>
    new Promise((resolve) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve('');
      }, 5000);
      pending.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      worker.postMessage({ type: 'metrics', id });
    });
  if (registry) metricsSources.set(registry, workerMetrics);
  return {
    signerNames,
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      if (registry) metricsSources.delete(registry);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' });
      // A stop racing the controllers' start can leave a request in flight: give the worker 2 s, then end it.
      const kill = setTimeout(() => {
        logger.warn('controllers worker did not stop within 2s; terminating it');
        void worker.terminate();
      }, 2000);
      await exited;
      clearTimeout(kill);
    },
  };
}
