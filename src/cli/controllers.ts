// `kubepki controllers --kubeconfig FILE`: kube-controller-manager's certificate controllers against any
// compatible API server, with its flag names; the same flags on `kubepki serve`, which runs the controllers
// in-process (through the API, as system:kube-controller-manager). Parsing and wiring only: the controllers
// are src/controllers.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import type { ControllerManagerOptions } from '../controllers/manager.js';
import type { SigningFiles } from '../controllers/signer/ca.js';
import type { ServeControllersConfig } from '../server/controllers.js';
import { NAMESPACE_SYSTEM } from '../apis/names.js';

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
    .option('--leader-elect-resource-namespace <ns>', 'namespace of the Lease', NAMESPACE_SYSTEM)
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
      ? { kubeletServing: { allowedCidrs: cidrs ?? [], dnsSuffixes: suffixes ?? [], maxExpirationSeconds } }
      : {}),
  };
}

/** --root-ca-file's content, read now; undefined when the flag is not given. */
async function readRootCaFile(flags: ControllerFlags): Promise<string | undefined> {
  if (!flags.rootCaFile) return undefined;
  const { readBoundedFile } = await import('../util/bounded-file.js');
  try {
    return await readBoundedFile(flags.rootCaFile);
  } catch (err) {
    throw new KubepkiError('FileMissing', `--root-ca-file: cannot read ${flags.rootCaFile}: ${(err as Error).message}`);
  }
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
  const [{ createLogger }, { RestKubeClient }, { runControllerManager }, { resolveLogFormat }] = await Promise.all([
    import('../util/logger.js'),
    import('../client/rest.js'),
    import('../controllers/run.js'),
    import('../util/log-format.js'),
  ]);
  const logger = createLogger({ name: 'kubepki-controllers', level: flags.logLevel, format: resolveLogFormat(flags.logFormat, process.stderr.isTTY) });
  // Validate the flags before touching the kubeconfig, so a bad flag is one clear error.
  const managerOptions = controllerOptionsFromFlags(flags, { controllers: '*' });
  const metricsAddress = flags.metricsBindAddress ? parseHostPort(flags.metricsBindAddress) : undefined;
  const client = RestKubeClient.fromFile(flags.kubeconfig, { userAgent: 'kubepki-controllers', context: flags.context });
  // kube-controller-manager publishes --root-ca-file, else the CA its kubeconfig trusts.
  const rootCA = (await readRootCaFile(flags)) ?? client.clusterCA();
  const running = await runControllerManager({ ...managerOptions, client, rootCA, logger });
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
export const SERVE_CONTROLLERS = '*,bootstrapsigner,tokencleaner,clustertrustbundle-publisher';

/** serve's in-process controllers from the flags, checked; undefined when --in-process-controllers=false. */
export function serveControllersConfig(flags: ServeControllerFlags): ServeControllersConfig | undefined {
  if (!bool(flags.inProcessControllers, '--in-process-controllers')) return undefined;
  return {
    kubeconfig: flags.controllerManagerKubeconfig,
    // Without signing flags, serve signs with DIR/pki/ca.crt and ca.key (server/controllers.ts).
    managerOptions: controllerOptionsFromFlags(flags, { controllers: SERVE_CONTROLLERS }),
    rootCaFile: flags.rootCaFile,
  };
}
