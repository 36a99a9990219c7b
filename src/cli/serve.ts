// `kubepki serve`: the Kubernetes-compatible certificate API server, with kube-apiserver's flag names.
// With only --data-dir it makes the cluster PKI in DIR/pki (kubepki init) when there is none and writes
// DIR/admin.conf, so `kubectl --kubeconfig DIR/admin.conf get csr` works at once; an existing PKI is used
// as it is, so several replicas can share one. Parsing and wiring only: the server is src/server.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import { addServeControllerFlags, serveControllersConfig, type ServeControllerFlags } from './controllers.js';
import type { ServeConfig } from '../server/build.js';

interface ServeFlags extends ServeControllerFlags {
  dataDir?: string;
  securePort: string;
  bindAddress: string;
  serviceClusterIpRange: string;
  advertiseAddress?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  storage: string;
  etcdServers?: string;
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  etcdPrefix: string;
  anonymousAuth: string;
  logLevel?: string;
  logFormat?: string;
  allowEmptyStorage?: boolean;
  requestheaderClientCaFile?: string;
  requestheaderAllowedNames?: string[];
  requestheaderUsernameHeaders?: string[];
  requestheaderGroupHeaders?: string[];
  requestheaderExtraHeadersPrefix?: string[];
  tokenAuthFile?: string;
  serviceAccountKeyFile?: string[];
  serviceAccountSigningKeyFile?: string;
  serviceAccountIssuer?: string[];
  apiAudiences?: string[];
  enableBootstrapTokenAuth?: string | boolean;
  authorizationMode?: string[];
  dashboard?: string | boolean;
  certReloadInterval: string;
  renewControlPlaneCertsAt: string;
  dashboardKubeconfig?: string;
}

/** pflag's StringSlice: repeatable, comma-separated. */
const slice = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command): void {
  addServeControllerFlags(program.command('serve'))
    .description('Run the Kubernetes-compatible API server for certificates.k8s.io CertificateSigningRequests and the objects they need')
    .option('--data-dir <dir>', 'state directory: the PKI (DIR/pki, made if missing), DIR/admin.conf and the SQLite database')
    .option('--secure-port <port>', 'the port on which to serve HTTPS with authentication and authorization', '6443')
    .option('--bind-address <ip>', 'the IP address on which to listen (0.0.0.0 for all interfaces; the default stays on loopback)', '127.0.0.1')
    .option('--service-cluster-ip-range <cidr>', 'the service CIDR; its first IP is the ClusterIP of the default/kubernetes Service (as init --service-cidr)', '10.96.0.0/12')
    .option('--advertise-address <ip>', 'the address written into DIR/admin.conf and the serving certificate; default: the bind address, or the host\'s first address when binding to all')
    .option('--tls-cert-file <file>', 'the x509 serving certificate (default with --data-dir: DIR/pki/apiserver.crt)')
    .option('--tls-private-key-file <file>', 'the serving certificate\'s private key (default with --data-dir: DIR/pki/apiserver.key)')
    .option('--client-ca-file <file>', 'CA bundle that client certificates are verified against (default with --data-dir: DIR/pki/ca.crt)')
    .option('--storage <backend>', 'storage backend: sqlite (in the data directory) or etcd', 'sqlite')
    .option('--etcd-servers <urls>', 'comma-separated etcd client URLs (with --storage etcd)')
    .option('--etcd-cafile <file>', 'CA bundle that verifies the etcd servers')
    .option('--etcd-certfile <file>', 'client certificate for etcd (apiserver-etcd-client.crt)')
    .option('--etcd-keyfile <file>', 'client key for etcd')
    .option('--etcd-prefix <prefix>', 'prefix of every key in etcd', '')
    .option('--anonymous-auth <bool>', 'treat requests without credentials as system:anonymous', 'true')
    .option('--log-level <level>', 'pino log level (info, debug, warn...)')
    .option('--log-format <format>', 'text (klog-like lines) or json; default: text when stderr is a terminal, else json')
    .option('--allow-empty-storage', 'start even when the storage is empty although the PKI in DIR/pki already served a cluster (DIR/pki/cluster-identity): a new, empty cluster')
    .option('--requestheader-client-ca-file <file>', 'CA bundle that front-proxy client certificates must chain to before their X-Remote-* headers are believed (default with --data-dir: DIR/pki/front-proxy-ca.crt)')
    .option('--requestheader-allowed-names <names>', 'common names the front proxy\'s certificate may have; empty = any certificate from that CA (default with the --data-dir CA: front-proxy-client)', slice)
    .option('--requestheader-username-headers <headers>', 'request headers to inspect for the user name (default X-Remote-User)', slice)
    .option('--requestheader-group-headers <headers>', 'request headers to inspect for groups (default X-Remote-Group)', slice)
    .option('--requestheader-extra-headers-prefix <prefixes>', 'request header prefixes to inspect for extra user information (default X-Remote-Extra-)', slice)
    .option('--token-auth-file <file>', 'static bearer tokens, one "token,user,uid,\"group1,group2\"" line each')
    .option('--service-account-key-file <file>', 'PEM public (or private) keys that verify service-account tokens; repeatable for key rotation (default with --data-dir: DIR/pki/sa.pub)', slice)
    .option('--service-account-signing-key-file <file>', 'private key that signs service-account tokens (default with --data-dir: DIR/pki/sa.key)')
    .option('--service-account-issuer <url>', 'issuer ("iss") of service-account tokens; repeatable, the first signs (default with --data-dir: https://kubernetes.default.svc.cluster.local)', slice)
    .option('--api-audiences <audiences>', 'audiences the API accepts tokens for (default: the service-account issuers)', slice)
    .option('--enable-bootstrap-token-auth [bool]', 'accept bootstrap tokens (Secrets bootstrap-token-<id> in kube-system) as bearer tokens (default: true with --data-dir, as kubeadm sets it)')
    .option('--authorization-mode <modes>', 'ordered authorization modes: Node, RBAC, AlwaysAllow (default: Node,RBAC with --data-dir as kubeadm sets it, else RBAC)', slice)
    .option('--cert-reload-interval <duration>', 'how often the CA bundles, serving certificate and service-account keys are re-read besides file-change events (kube: 1m)', '1m')
    .option('--renew-control-plane-certs-at <fraction>', 'with --data-dir: renew the serving, front-proxy client and kubeconfig certificates once this fraction of their life has passed (0 = never)', '0.667')
    .option('--dashboard [port]', 'also serve the trust dashboard (as `kubepki dashboard`) on 127.0.0.1:PORT (default 8080), acting as --dashboard-kubeconfig\'s identity')
    .option('--dashboard-kubeconfig <file>', 'kubeconfig whose identity the dashboard uses (default: DIR/admin.conf); RBAC decides what the page may see and approve')
    .action(async (flags: ServeFlags) => {
      const code = await runServe(flags);
      process.exitCode = code;
    });
}

async function runServe(flags: ServeFlags): Promise<number> {
  const [path, { createLogger }, { buildServer }, { resolveLogFormat }] = await Promise.all([import('node:path'), import('../util/logger.js'), import('../server/build.js'), import('../util/log-format.js')]);
  const logger = createLogger({ name: 'kubepki-serve', level: flags.logLevel, format: resolveLogFormat(flags.logFormat, process.stderr.isTTY) });
  const config = { ...serveConfigFromFlags(flags, path.resolve), logger };
  // SIGINT and SIGTERM stop the server cleanly, also while it is starting (the stop waits for the start).
  let detach = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`received ${signal}, shutting down`);
      detach();
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    detach = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  const server = await buildServer(config).catch((err: unknown) => {
    detach();
    throw err;
  });
  // Serving the controllers' first list of every CSR, or thousands of watches opening, is a burst too.
  const heapAfterBursts = await import('../server/heap-after-bursts.js');
  const stopCollecting = heapAfterBursts.collectHeapAfterBursts(heapAfterBursts.SERVE_HEAP_AFTER_BURSTS);
  const dashboard = flags.dashboard
    ? await startServeDashboard({ flags, dataDir: config.dataDir, serverUrl: server.url, logger }).catch(async (err: unknown) => {
        detach();
        await server.stop();
        throw err;
      })
    : undefined;
  await stopped;
  stopCollecting();
  await dashboard?.stop();
  await server.stop();
  return 0;
}

/** `serve --dashboard`: the dashboard against this very server, as --dashboard-kubeconfig (default DIR/admin.conf). */
async function startServeDashboard(o: { flags: ServeFlags; dataDir: string | undefined; serverUrl: string; logger: import('../util/logger.js').Logger }) {
  const path = await import('node:path');
  const { startDashboardFor, parsePort } = await import('./dashboard.js');
  const kubeconfig = o.flags.dashboardKubeconfig ?? (o.dataDir ? path.join(o.dataDir, 'admin.conf') : undefined);
  if (!kubeconfig) throw new KubepkiError('InvalidArgument', '--dashboard needs --dashboard-kubeconfig (or --data-dir, whose admin.conf it uses)');
  const local = new URL(o.serverUrl);
  if (local.hostname === '0.0.0.0' || local.hostname === '[::]') local.hostname = '127.0.0.1';
  return startDashboardFor({
    kubeconfig,
    port: o.flags.dashboard === true ? 8080 : parsePort(String(o.flags.dashboard), '--dashboard'),
    address: '127.0.0.1',
    serverUrl: local.origin,
    ...(o.dataDir ? { certDir: path.join(o.dataDir, 'pki'), kubeconfigDir: o.dataDir } : {}),
    logger: o.logger,
  });
}

/** The flags, checked, as the server's configuration (files are read by buildServer). */
function serveConfigFromFlags(flags: ServeFlags, resolvePath: (p: string) => string): Omit<ServeConfig, 'logger'> {
  const renewAt = Number(flags.renewControlPlaneCertsAt);
  if (!(renewAt >= 0 && renewAt < 1)) throw new KubepkiError('InvalidArgument', `--renew-control-plane-certs-at: "${flags.renewControlPlaneCertsAt}" is not a fraction in [0, 1)`);
  const port = Number(flags.securePort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KubepkiError('InvalidArgument', `--secure-port: "${flags.securePort}" is not a valid port`);
  if (!['true', 'false'].includes(flags.anonymousAuth)) throw new KubepkiError('InvalidArgument', `--anonymous-auth: "${flags.anonymousAuth}" is not true or false`);
  if (flags.storage !== 'sqlite' && flags.storage !== 'etcd') throw new KubepkiError('InvalidArgument', `--storage: "${flags.storage}" is not sqlite or etcd`);
  const dataDir = flags.dataDir ? resolvePath(flags.dataDir) : undefined;
  if (!dataDir && !(flags.tlsCertFile && flags.tlsPrivateKeyFile && flags.clientCaFile)) {
    throw new KubepkiError('InvalidArgument', 'give --data-dir, or all of --tls-cert-file, --tls-private-key-file and --client-ca-file');
  }
  if (flags.storage === 'sqlite' && !dataDir) throw new KubepkiError('InvalidArgument', '--storage sqlite keeps its database in --data-dir; give --data-dir');
  if (flags.storage === 'etcd' && !flags.etcdServers) throw new KubepkiError('InvalidArgument', '--storage etcd needs --etcd-servers');
  if (!['true', 'false', true, undefined].includes(flags.enableBootstrapTokenAuth)) {
    throw new KubepkiError('InvalidArgument', `--enable-bootstrap-token-auth: "${String(flags.enableBootstrapTokenAuth)}" is not true or false`);
  }
  return {
    dataDir,
    bindAddress: flags.bindAddress,
    serviceClusterIpRange: flags.serviceClusterIpRange,
    port,
    advertiseAddress: flags.advertiseAddress,
    tls: { certFile: flags.tlsCertFile, keyFile: flags.tlsPrivateKeyFile, clientCAFile: flags.clientCaFile },
    storage:
      flags.storage === 'etcd'
        ? {
            kind: 'etcd',
            endpoints: flags.etcdServers!.split(',').map((s) => s.trim()).filter(Boolean),
            caFile: flags.etcdCafile,
            certFile: flags.etcdCertfile,
            keyFile: flags.etcdKeyfile,
            prefix: flags.etcdPrefix,
          }
        : { kind: 'sqlite' },
    auth: {
      requestHeaderClientCAFile: flags.requestheaderClientCaFile,
      requestHeaderAllowedNames: flags.requestheaderAllowedNames,
      requestHeaderUsernameHeaders: flags.requestheaderUsernameHeaders,
      requestHeaderGroupHeaders: flags.requestheaderGroupHeaders,
      requestHeaderExtraHeadersPrefix: flags.requestheaderExtraHeadersPrefix,
      tokenAuthFile: flags.tokenAuthFile,
      serviceAccountKeyFiles: flags.serviceAccountKeyFile,
      serviceAccountSigningKeyFile: flags.serviceAccountSigningKeyFile,
      serviceAccountIssuers: flags.serviceAccountIssuer,
      apiAudiences: flags.apiAudiences,
      enableBootstrapTokenAuth: flags.enableBootstrapTokenAuth === undefined ? undefined : flags.enableBootstrapTokenAuth !== 'false',
      anonymousAuth: flags.anonymousAuth === 'true',
      authorizationModes: flags.authorizationMode,
    },
    controllers: serveControllersConfig(flags),
    allowEmptyStorage: flags.allowEmptyStorage === true,
    certReloadIntervalMs: parseGoDuration(flags.certReloadInterval),
    renewControlPlaneCertsAt: renewAt,
  };
}
