// `kubepki serve`: the Kubernetes-compatible certificate API server, with kube-apiserver's flag names.
// With only --data-dir it makes the cluster PKI in DIR/pki (kubepki init) when there is none and writes
// DIR/admin.conf, so `kubectl --kubeconfig DIR/admin.conf get csr` works at once; an existing PKI is used
// as it is, so several replicas can share one. Parsing and wiring only: the server is src/server.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { addServeControllerFlags, prepareServeControllers, type ServeControllerFlags } from './controllers.js';

interface ServeFlags extends ServeControllerFlags {
  dataDir?: string;
  securePort: string;
  bindAddress: string;
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
  allowEmptyStorage?: boolean;
}

/** pflag's StringSlice: repeatable, comma-separated. */
const slice = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function register(program: Command): void {
  addServeControllerFlags(program.command('serve'))
    .description('Run the Kubernetes-compatible API server for certificates.k8s.io CertificateSigningRequests and the objects they need')
    .option('--data-dir <dir>', 'state directory: the PKI (DIR/pki, made if missing), DIR/admin.conf and the SQLite database')
    .option('--secure-port <port>', 'the port on which to serve HTTPS with authentication and authorization', '6443')
    .option('--bind-address <ip>', 'the IP address on which to listen (0.0.0.0 for all interfaces; the default stays on loopback)', '127.0.0.1')
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
    .option('--allow-empty-storage', 'start even when the storage is empty although the PKI in DIR/pki already served a cluster (DIR/pki/cluster-identity): a new, empty cluster')
    .option('--authorization-mode <modes>', 'ordered authorization modes: Node, RBAC, AlwaysAllow (default: Node,RBAC with --data-dir as kubeadm sets it, else RBAC)', slice)
    .action(async (flags: ServeFlags) => {
      const code = await runServe(flags);
      process.exitCode = code;
    });
}

async function runServe(flags: ServeFlags): Promise<number> {
  const path = await import('node:path');
  const { readFile, access, mkdir } = await import('node:fs/promises');
  const [{ createLogger }, { resolveLogFormat }] = await Promise.all([import('../util/logger.js'), import('../util/log-format.js')]);
  const logger = createLogger({ name: 'kubepki-serve', format: resolveLogFormat(flags.logFormat, process.stderr.isTTY), ...(flags.logLevel ? { level: flags.logLevel } : {}) });

  const port = Number(flags.securePort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KubepkiError('InvalidArgument', `--secure-port: "${flags.securePort}" is not a valid port`);
  if (!['true', 'false'].includes(flags.anonymousAuth)) throw new KubepkiError('InvalidArgument', `--anonymous-auth: "${flags.anonymousAuth}" is not true or false`);
  if (flags.storage !== 'sqlite' && flags.storage !== 'etcd') throw new KubepkiError('InvalidArgument', `--storage: "${flags.storage}" is not sqlite or etcd`);
  const dataDir = flags.dataDir ? path.resolve(flags.dataDir) : undefined;
  if (!dataDir && !(flags.tlsCertFile && flags.tlsPrivateKeyFile && flags.clientCaFile)) {
    throw new KubepkiError('InvalidArgument', 'give --data-dir, or all of --tls-cert-file, --tls-private-key-file and --client-ca-file');
  }
  if (flags.storage === 'sqlite' && !dataDir) throw new KubepkiError('InvalidArgument', '--storage sqlite keeps its database in --data-dir; give --data-dir');
  if (flags.storage === 'etcd' && !flags.etcdServers) throw new KubepkiError('InvalidArgument', '--storage etcd needs --etcd-servers');

  const exists = (f: string) => access(f).then(() => true, () => false);
  if (dataDir) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const pkiDir = path.join(dataDir, 'pki');
    const needInit = !(await exists(path.join(pkiDir, 'ca.crt'))) || !(await exists(path.join(dataDir, 'admin.conf')));
    if (needInit && !flags.tlsCertFile) {
      const { resolveClusterConfig } = await import('../cluster/config.js');
      const { initClusterPki } = await import('../cluster/init.js');
      const unspecified = flags.bindAddress === '0.0.0.0' || flags.bindAddress === '::';
      const config = resolveClusterConfig(
        {
          bindPort: port,
          ...(flags.advertiseAddress ? { advertiseAddress: flags.advertiseAddress } : unspecified ? {} : { advertiseAddress: flags.bindAddress }),
          apiServerCertSANs: ['127.0.0.1', 'localhost'],
        },
        { names: { bindPort: '--secure-port', advertiseAddress: flags.advertiseAddress ? '--advertise-address' : '--bind-address' } },
      );
      const summary = await initClusterPki({ certDir: pkiDir, kubeconfigDir: dataDir, config });
      for (const w of summary.warnings) logger.warn(w);
      logger.info({ written: summary.written.length }, `cluster PKI ready in ${pkiDir}; admin kubeconfig ${path.join(dataDir, 'admin.conf')}`);
    }
  }
  const pki = (f: string) => path.join(dataDir ?? '', 'pki', f);
  const certFile = flags.tlsCertFile ?? pki('apiserver.crt');
  const keyFile = flags.tlsPrivateKeyFile ?? pki('apiserver.key');
  const clientCAFile = flags.clientCaFile ?? pki('ca.crt');
  const read = async (f: string, flag: string) => {
    try {
      return await readFile(f, 'utf8');
    } catch (err) {
      throw new KubepkiError('FileMissing', `${flag}: cannot read ${f}: ${(err as Error).message}`);
    }
  };
  const cert = await read(certFile, '--tls-cert-file');
  const key = await read(keyFile, '--tls-private-key-file');
  const clientCA = await read(clientCAFile, '--client-ca-file');
  const { parseCertificatesPem } = await import('../x509/certificate.js');
  const roots = parseCertificatesPem(clientCA, clientCAFile);
  // The in-process controllers' flags and signing CA are checked before anything opens (a CA bundle is refused here).
  const controllers = await prepareServeControllers({ flags, ...(dataDir ? { dataDir } : {}), logger });
  const authConfig = await resolveAuthConfig(flags, clientCAFile, dataDir ? pki : undefined, exists);

  const { ClusterIdentityGuard } = await import('../server/cluster-identity.js');
  const sqlitePath = dataDir ? path.join(dataDir, 'kubepki.db') : undefined;
  const identity = dataDir
    ? new ClusterIdentityGuard({
        pkiDir: path.join(dataDir, 'pki'),
        storageName: flags.storage === 'etcd' ? `etcd at ${flags.etcdServers}${flags.etcdPrefix ? ` (prefix ${flags.etcdPrefix})` : ''}` : `the SQLite database ${sqlitePath}`,
        ...(flags.storage === 'sqlite' ? { sqlitePath: sqlitePath! } : {}),
        allowEmptyStorage: flags.allowEmptyStorage === true,
        now: () => new Date(),
        logger,
      })
    : undefined;
  identity?.checkBeforeOpen();
  let storage;
  if (flags.storage === 'etcd') {
    const { EtcdStorage } = await import('../storage/etcd.js');
    storage = new EtcdStorage({
      endpoints: flags.etcdServers!.split(',').map((s) => s.trim()).filter(Boolean),
      ...(flags.etcdCafile ? { caFile: flags.etcdCafile } : {}),
      ...(flags.etcdCertfile ? { certFile: flags.etcdCertfile } : {}),
      ...(flags.etcdKeyfile ? { keyFile: flags.etcdKeyfile } : {}),
      prefix: flags.etcdPrefix,
    });
  } else {
    const { SqliteStorage } = await import('../storage/sqlite.js');
    storage = new SqliteStorage({ path: sqlitePath! });
  }
  await identity?.checkStorage(storage).catch(async (err: unknown) => {
    await storage.close().catch(() => undefined);
    throw err;
  });

  const [{ ApiServer }, { x509Authenticator }, { ServerAuth }, { builtinResources }] = await Promise.all([
    import('../server/server.js'),
    import('../auth/authn/x509.js'),
    import('../server/auth.js'),
    import('../resources/index.js'),
  ]);
  const auth = new ServerAuth({ config: authConfig, x509: x509Authenticator({ roots }), rootCAPem: clientCA, logger });
  const server = new ApiServer({
    storage,
    tls: { cert, key, clientCA },
    authenticator: auth.authenticator,
    authorizer: auth.authorizer,
    resources: auth.withResources(builtinResources()),
    bootstrap: (handler) => auth.bootstrap(handler),
    bindAddress: flags.bindAddress,
    port,
    logger,
  });
  try {
    const { url } = await server.start();
    await identity?.record(storage);
    logger.info({ storage: storage.kind }, `serving securely on ${url}`);
    process.stderr.write(`kubepki serve: listening on ${url}\n`);
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw new KubepkiError('InvalidConfig', `cannot start the API server: ${(err as Error).message}`, { cause: err });
  }
  // Listening from here on: a SIGTERM while the controllers (a worker thread) start is a clean stop too.
  let onSignal = (_signal: string): void => undefined;
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  const detach = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  const stopped = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info(`received ${signal}, shutting down`);
      detach();
      resolve();
    };
  });
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const loopback = controllers ? await loopbackFor(controllers, auth.authenticator, server, logger) : undefined;
  const runningControllers = await controllers?.start({ serverUrl: server.url, clientCA, registry: server.metrics.registry, ...(loopback ? { loopback } : {}) }).catch(async (err: unknown) => {
    detach();
    await server.close();
    await storage.close().catch(() => undefined);
    throw err;
  });
  await stopped;
  await runningControllers?.stop();
  await server.close();
  auth.stop();
  await storage.close();
  return 0;
}

/**
 * The loopback socket for serve's controllers, acting as the identity their kubeconfig's client certificate
 * authenticates as here (checked once, now). None when the kubeconfig has other credentials, its
 * certificate is refused, or no socket can be made (say, a TMPDIR too long for a socket path): the
 * controllers then use HTTPS with the kubeconfig itself.
 */
async function loopbackFor(
  controllers: import('./controllers.js').ServeControllers,
  authenticator: import('../auth/types.js').Authenticator,
  server: import('../server/server.js').ApiServer,
  logger: import('../util/logger.js').Logger,
): Promise<import('../controllers/client/rest.js').LoopbackEndpoint | undefined> {
  const chain = controllers.clientCertificate;
  const who = chain ? await authenticator.authenticate({ headers: {}, peerCertificates: chain }).catch(() => null) : null;
  if (!who || who.user.username === 'system:anonymous') {
    logger.info('in-process controllers reach the API server over HTTPS with their kubeconfig');
    return undefined;
  }
  let endpoint;
  try {
    endpoint = await server.listenLoopback(who.user);
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'cannot open the loopback socket; in-process controllers reach the API server over HTTPS with their kubeconfig');
    return undefined;
  }
  logger.info({ user: who.user.username, socket: endpoint.socketPath }, 'in-process controllers reach the API server through the loopback socket');
  return endpoint;
}

/**
 * The authentication/authorization flags, checked (src/auth/config.ts). With --data-dir the defaults are
 * kubeadm's kube-apiserver manifest: front-proxy CA with allowed name front-proxy-client, sa.pub/sa.key,
 * the cluster's issuer, bootstrap tokens on.
 */
async function resolveAuthConfig(flags: ServeFlags, clientCAFile: string, pki: ((f: string) => string) | undefined, exists: (f: string) => Promise<boolean>) {
  const { validateAuthConfig } = await import('../auth/config.js');
  const fromDir = async (f: string) => (pki && (await exists(pki(f))) ? pki(f) : undefined);
  if (!['true', 'false', true, undefined].includes(flags.enableBootstrapTokenAuth)) {
    throw new KubepkiError('InvalidArgument', `--enable-bootstrap-token-auth: "${String(flags.enableBootstrapTokenAuth)}" is not true or false`);
  }
  const requestHeaderCA = flags.requestheaderClientCaFile ?? (await fromDir('front-proxy-ca.crt'));
  const defaultedRequestHeader = !flags.requestheaderClientCaFile && requestHeaderCA !== undefined;
  const keyFiles = flags.serviceAccountKeyFile ?? (await fromDir('sa.pub').then((f) => (f ? [f] : undefined)));
  const signingKey = flags.serviceAccountSigningKeyFile ?? (await fromDir('sa.key'));
  const issuers = flags.serviceAccountIssuer ?? (pki && (keyFiles || signingKey) ? ['https://kubernetes.default.svc.cluster.local'] : undefined);
  return validateAuthConfig({
    clientCAFile,
    ...(requestHeaderCA ? { requestHeaderClientCAFile: requestHeaderCA } : {}),
    requestHeaderAllowedNames: flags.requestheaderAllowedNames ?? (defaultedRequestHeader ? ['front-proxy-client'] : []),
    ...(flags.requestheaderUsernameHeaders ? { requestHeaderUsernameHeaders: flags.requestheaderUsernameHeaders } : {}),
    ...(flags.requestheaderGroupHeaders ? { requestHeaderGroupHeaders: flags.requestheaderGroupHeaders } : {}),
    ...(flags.requestheaderExtraHeadersPrefix ? { requestHeaderExtraHeadersPrefix: flags.requestheaderExtraHeadersPrefix } : {}),
    ...(flags.tokenAuthFile ? { tokenAuthFile: flags.tokenAuthFile } : {}),
    ...(keyFiles ? { serviceAccountKeyFiles: keyFiles } : {}),
    ...(signingKey ? { serviceAccountSigningKeyFile: signingKey } : {}),
    ...(issuers ? { serviceAccountIssuers: issuers } : {}),
    ...(flags.apiAudiences ? { apiAudiences: flags.apiAudiences } : {}),
    enableBootstrapTokenAuth: flags.enableBootstrapTokenAuth === undefined ? pki !== undefined : flags.enableBootstrapTokenAuth !== 'false',
    anonymousAuth: flags.anonymousAuth === 'true',
    authorizationModes: flags.authorizationMode ?? (pki ? ['Node', 'RBAC'] : ['RBAC']),
  });
}
