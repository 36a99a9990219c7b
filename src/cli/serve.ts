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
}

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
    .action(async (flags: ServeFlags) => {
      const code = await runServe(flags);
      process.exitCode = code;
    });
}

async function runServe(flags: ServeFlags): Promise<number> {
  const path = await import('node:path');
  const { readFile, access, mkdir } = await import('node:fs/promises');
  const { createLogger } = await import('../util/logger.js');
  const logger = createLogger({ name: 'kubepki-serve', ...(flags.logLevel ? { level: flags.logLevel } : {}) });

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
  const [cert, key, clientCA] = await Promise.all([read(certFile, '--tls-cert-file'), read(keyFile, '--tls-private-key-file'), read(clientCAFile, '--client-ca-file')]);
  const { parseCertificatesPem } = await import('../x509/certificate.js');
  const roots = parseCertificatesPem(clientCA, clientCAFile);
  // The in-process controllers' flags and signing CA are checked before anything opens (a CA bundle is refused here).
  const controllers = await prepareServeControllers({ flags, ...(dataDir ? { dataDir } : {}), logger });

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
    storage = new SqliteStorage({ path: path.join(dataDir!, 'kubepki.db') });
  }

  const [{ ApiServer }, { x509Authenticator }, { unionAuthenticator }, { alwaysAllowMasters }] = await Promise.all([
    import('../server/server.js'),
    import('../auth/authn/x509.js'),
    import('../auth/authn/union.js'),
    import('../auth/authz/minimal.js'),
  ]);
  const server = new ApiServer({
    storage,
    tls: { cert, key, clientCA },
    authenticator: unionAuthenticator({ authenticators: [x509Authenticator({ roots })], anonymous: flags.anonymousAuth === 'true' }),
    authorizer: alwaysAllowMasters,
    bindAddress: flags.bindAddress,
    port,
    logger,
  });
  try {
    const { url } = await server.start();
    logger.info({ storage: storage.kind }, `serving securely on ${url}`);
    process.stderr.write(`kubepki serve: listening on ${url}\n`);
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw new KubepkiError('InvalidConfig', `cannot start the API server: ${(err as Error).message}`, { cause: err });
  }
  const runningControllers = await controllers?.start(server.url, clientCA).catch(async (err: unknown) => {
    await server.close();
    await storage.close().catch(() => undefined);
    throw err;
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info(`received ${signal}, shutting down`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await runningControllers?.stop();
  await server.close();
  await storage.close();
  return 0;
}
