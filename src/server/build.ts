// `kubepki serve` assembled from its configuration: the cluster PKI made in the data directory when there is
// none (as `kubepki init`), TLS material, the authentication/authorization chain, storage, the API server,
// and the in-process controllers in their worker thread. The CLI only turns flags into a ServeConfig.
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AuthConfig, AuthFlags } from '../auth/config.js';
import type { LiveMaterial } from './dynamic-certs.js';
import type { Storage } from '../storage/interface.js';
import { KubepkiError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { ControllersWorker } from './controllers-worker.js';
import type { ServeControllersConfig } from './controllers.js';
import { readBoundedFile } from '../util/bounded-file.js';

export interface ServeConfig {
  /** State directory: DIR/pki (made if missing), DIR/admin.conf, the SQLite database; the default of every file below. */
  dataDir?: string;
  bindAddress: string;
  /** kube-apiserver's --service-cluster-ip-range: its first IP is default/kubernetes's ClusterIP. */
  serviceClusterIpRange?: string;
  /** 0 = any free port. */
  port: number;
  /** Written into DIR/admin.conf and the serving certificate when the PKI is made. */
  advertiseAddress?: string;
  tls: { certFile?: string; keyFile?: string; clientCAFile?: string };
  storage: { kind: 'sqlite' } | { kind: 'etcd'; endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string; prefix: string };
  /** The authentication/authorization flags; those left out default from the data directory as kubeadm sets them. */
  auth: Omit<AuthFlags, 'clientCAFile'>;
  /** The in-process controllers; undefined when switched off. */
  controllers?: ServeControllersConfig;
  /** --allow-empty-storage: start an empty cluster although DIR/pki already served one (cluster-identity.ts). */
  allowEmptyStorage?: boolean;
  /** How often the reloadable trust and certificate files are re-read besides file-change events (kube: 1 min). */
  certReloadIntervalMs: number;
  /** With a data directory: renew the control plane's own leaves once this fraction of their life has passed (0 = never). */
  renewControlPlaneCertsAt: number;
  logger: Logger;
}

export interface RunningServer {
  readonly url: string;
  /** Stops the controllers, the server and the storage, in that order. */
  stop(): Promise<void>;
}

const exists = (f: string) => access(f).then(() => true, () => false);

/** kubeadm's service-account issuer. */
const DEFAULT_SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * Builds and starts the server; resolves once it listens and its controllers run. Nothing is left running
 * when it rejects.
 */
export async function buildServer(config: ServeConfig): Promise<RunningServer> {
  const { dataDir, logger } = config;
  if (dataDir) await ensureClusterPki(config, dataDir);
  const pki = (f: string) => path.join(dataDir ?? '', 'pki', f);
  const certFile = config.tls.certFile ?? pki('apiserver.crt');
  const keyFile = config.tls.keyFile ?? pki('apiserver.key');
  const clientCAFile = config.tls.clientCAFile ?? pki('ca.crt');
  const read = async (f: string, flag: string) => {
    try {
      return await readBoundedFile(f);
    } catch (err) {
      throw new KubepkiError('FileMissing', `${flag}: cannot read ${f}: ${(err as Error).message}`);
    }
  };
  const cert = await read(certFile, '--tls-cert-file');
  const key = await read(keyFile, '--tls-private-key-file');
  const clientCA = await read(clientCAFile, '--client-ca-file');
  const { parseCertificatesPem } = await import('../x509/certificate.js');
  const roots = parseCertificatesPem(clientCA, clientCAFile);
  // The in-process controllers' signing CA is checked before anything opens (a CA bundle is refused here).
  const controllers = config.controllers ? await (await import('./controllers.js')).prepareServeControllers(config.controllers, { dataDir, logger }) : undefined;
  const authConfig = await resolveAuthConfig(config.auth, clientCAFile, dataDir ? pki : undefined);
  // A PKI that already served a cluster refuses a missing, empty or foreign database (cluster-identity.ts).
  const identity = dataDir ? await clusterIdentityGuard(config, dataDir) : undefined;
  identity?.checkBeforeOpen();
  const storage = await openStorage(config);
  await identity?.checkStorage(storage).catch(async (err: unknown) => {
    await storage.close().catch(() => undefined);
    throw err;
  });

  const [{ ApiServer }, { x509Authenticator }, { ServerAuth }, { builtinResources }] = await Promise.all([
    import('./server.js'),
    import('../auth/authn/x509.js'),
    import('./auth.js'),
    import('../resources/index.js'),
  ]);
  // Trust and certificates reloaded while running (dynamic-certs.ts); client certificates counted by issuing CA.
  const live = await openServeLiveMaterial({ config, authConfig, certFile, keyFile, ...(dataDir ? { pkiDir: pki('') } : {}) });
  const liveRoots = () => live.auth.clientCA()?.certificates ?? roots;
  const { ClientCAUsage } = await import('./client-ca-usage.js');
  const caUsage = new ClientCAUsage();
  let apiHandler: import('../api/handler.js').ApiHandler | undefined;
  const auth = new ServerAuth({ config: authConfig, x509: caUsage.wrap(x509Authenticator({ roots: liveRoots })), rootCAPem: clientCA, logger, live: live.auth });
  const server = new ApiServer({
    storage,
    tls: { cert, key, clientCA },
    authenticator: auth.authenticator,
    authorizer: auth.authorizer,
    resources: auth.withResources(builtinResources()),
    bootstrap: async (handler) => {
      await auth.bootstrap(handler);
      apiHandler = handler;
    },
    bindAddress: config.bindAddress,
    serviceClusterIpRange: config.serviceClusterIpRange,
    port: config.port,
    logger,
  });
  live.attach(server);
  caUsage.register(server.metrics.registry);
  try {
    const { url } = await server.start();
    await identity?.record(storage);
    logger.info({ storage: storage.kind }, `serving securely on ${url}`);
    process.stderr.write(`kubepki serve: listening on ${url}\n`);
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw new KubepkiError('InvalidConfig', `cannot start the API server: ${(err as Error).message}`, { cause: err });
  }
  const expiry = (await import('./expiry.js')).startServeExpiry({
    server,
    ...(dataDir ? { dataDir } : {}),
    files: [certFile, clientCAFile, ...(authConfig.requestHeader ? [authConfig.requestHeader.file] : [])],
    logger,
  });
  const closeServer = async () => {
    expiry.stop();
    await server.close();
    auth.stop();
    live.close();
    await storage.close();
  };
  let worker: ControllersWorker | undefined;
  let removeMetrics = (): void => undefined;
  let restarting: Promise<void> = Promise.resolve();
  if (controllers) {
    try {
      const { controllersLoopback } = await import('./controllers.js');
      const loopback = await controllersLoopback({ controllers, authenticator: auth.authenticator, server, logger });
      const start = async () => {
        const w = await controllers.start({ serverUrl: server.url, clientCA: live.auth.clientCA()?.pem ?? clientCA, loopback });
        removeMetrics = server.addMetricsSource(() => w.metrics());
        return w;
      };
      worker = await start();
      // New trust or a new signing CA (a CA rotation): the controllers start again with it, one restart at a time;
      // changes that arrive before a queued restart begins are taken by it (it reads the live material).
      let restartQueued = false;
      live.onControllerInputsChange(() => {
        if (restartQueued) return;
        restartQueued = true;
        restarting = restarting.then(async () => {
          restartQueued = false;
          removeMetrics();
          await worker?.stop();
          worker = await start().catch((err: unknown) => {
            logger.error({ err: (err as Error).message }, 'the controllers did not start again after a CA change');
            return undefined;
          });
          logger.info('controllers restarted with the new CA material');
        });
      });
    } catch (err) {
      await server.close();
      live.close();
      await storage.close().catch(() => undefined);
      throw err;
    }
  }
  // A CA rotation run on any control-plane node reaches this replica through the storage (ca-rotation-follower.ts).
  live.onControllerInputsChange(() => auth.resyncLegacyTokenSecrets());
  const follower = dataDir && apiHandler && !config.tls.clientCAFile ? await startFollower({ dataDir, handler: apiHandler, url: server.url, config, live }) : undefined;
  const renewal = dataDir && config.renewControlPlaneCertsAt > 0 ? await startServeRenewal({ dataDir, renewAt: config.renewControlPlaneCertsAt, live, logger }) : undefined;
  return {
    url: server.url,
    stop: async () => {
      await renewal?.stop();
      await follower?.stop();
      await restarting;
      removeMetrics();
      await worker?.stop();
      await closeServer();
    },
  };
}

/** With only a data directory, the cluster PKI and admin.conf are made there when missing (kubepki init). */
async function ensureClusterPki(config: ServeConfig, dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pkiDir = path.join(dataDir, 'pki');
  const needInit = !(await exists(path.join(pkiDir, 'ca.crt'))) || !(await exists(path.join(dataDir, 'admin.conf')));
  if (!needInit || config.tls.certFile) return;
  const { resolveClusterConfig } = await import('../cluster/config.js');
  const { initClusterPki } = await import('../cluster/init.js');
  const unspecified = config.bindAddress === '0.0.0.0' || config.bindAddress === '::';
  const advertiseAddress = config.advertiseAddress ?? (unspecified ? undefined : config.bindAddress);
  const cluster = resolveClusterConfig(
    { bindPort: config.port, advertiseAddress, apiServerCertSANs: ['127.0.0.1', 'localhost'] },
    { names: { bindPort: '--secure-port', advertiseAddress: config.advertiseAddress ? '--advertise-address' : '--bind-address' } },
  );
  const summary = await initClusterPki({ certDir: pkiDir, kubeconfigDir: dataDir, config: cluster });
  for (const w of summary.warnings) config.logger.warn(w);
  config.logger.info({ written: summary.written.length }, `cluster PKI ready in ${pkiDir}; admin kubeconfig ${path.join(dataDir, 'admin.conf')}`);
}

async function clusterIdentityGuard(config: ServeConfig, dataDir: string) {
  const { ClusterIdentityGuard } = await import('./cluster-identity.js');
  const s = config.storage;
  const sqlitePath = path.join(dataDir, 'kubepki.db');
  return new ClusterIdentityGuard({
    pkiDir: path.join(dataDir, 'pki'),
    storageName: s.kind === 'etcd' ? `etcd at ${s.endpoints.join(',')}${s.prefix ? ` (prefix ${s.prefix})` : ''}` : `the SQLite database ${sqlitePath}`,
    ...(s.kind === 'sqlite' ? { sqlitePath } : {}),
    allowEmptyStorage: config.allowEmptyStorage === true,
    now: () => new Date(),
    logger: config.logger,
  });
}

async function openStorage(config: ServeConfig): Promise<Storage> {
  const s = config.storage;
  if (s.kind === 'etcd') {
    const { EtcdStorage } = await import('../storage/etcd.js');
    return new EtcdStorage({ endpoints: s.endpoints, caFile: s.caFile, certFile: s.certFile, keyFile: s.keyFile, prefix: s.prefix });
  }
  const { SqliteStorage } = await import('../storage/sqlite.js');
  return new SqliteStorage({ path: path.join(config.dataDir!, 'kubepki.db') });
}

/**
 * The authentication/authorization configuration, checked (src/auth/config.ts). With a data directory the
 * defaults are kubeadm's kube-apiserver manifest: front-proxy CA with allowed name front-proxy-client,
 * sa.pub/sa.key, the cluster's issuer, bootstrap tokens on, Node,RBAC.
 */
async function resolveAuthConfig(flags: ServeConfig['auth'], clientCAFile: string, pki: ((f: string) => string) | undefined) {
  const { validateAuthConfig } = await import('../auth/config.js');
  const fromDir = async (f: string) => (pki && (await exists(pki(f))) ? pki(f) : undefined);
  const requestHeaderClientCAFile = flags.requestHeaderClientCAFile ?? (await fromDir('front-proxy-ca.crt'));
  const defaultedRequestHeader = !flags.requestHeaderClientCAFile && requestHeaderClientCAFile !== undefined;
  const serviceAccountKeyFiles = flags.serviceAccountKeyFiles ?? (await fromDir('sa.pub').then((f) => (f ? [f] : undefined)));
  const serviceAccountSigningKeyFile = flags.serviceAccountSigningKeyFile ?? (await fromDir('sa.key'));
  return validateAuthConfig({
    ...flags,
    clientCAFile,
    requestHeaderClientCAFile,
    requestHeaderAllowedNames: flags.requestHeaderAllowedNames ?? (defaultedRequestHeader ? ['front-proxy-client'] : []),
    serviceAccountKeyFiles,
    serviceAccountSigningKeyFile,
    serviceAccountIssuers: flags.serviceAccountIssuers ?? (pki && (serviceAccountKeyFiles || serviceAccountSigningKeyFile) ? [DEFAULT_SERVICE_ACCOUNT_ISSUER] : undefined),
    enableBootstrapTokenAuth: flags.enableBootstrapTokenAuth ?? pki !== undefined,
    authorizationModes: flags.authorizationModes ?? (pki ? ['Node', 'RBAC'] : ['RBAC']),
  });
}

async function startFollower(o: { dataDir: string; handler: import('../api/handler.js').ApiHandler; url: string; config: ServeConfig; live: LiveMaterial }) {
  const { startCARotationFollower } = await import('./ca-rotation-follower.js');
  // Reached by other nodes at the advertised address when serve listens on all of them.
  const host = o.config.advertiseAddress?.includes(':') ? `[${o.config.advertiseAddress}]` : o.config.advertiseAddress;
  const url = host ? o.url.replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, `//${host}`) : o.url;
  return startCARotationFollower({ dataDir: o.dataDir, url, handler: o.handler, reload: () => o.live.checkAll(), logger: o.config.logger });
}

/** Control-plane leaf renewal in DIR (control-plane-renewal.ts); what it writes is reloaded at once. */
async function startServeRenewal(o: { dataDir: string; renewAt: number; live: LiveMaterial; logger: Logger }) {
  const { startControlPlaneRenewal } = await import('./control-plane-renewal.js');
  return startControlPlaneRenewal({
    certDir: path.join(o.dataDir, 'pki'),
    kubeconfigDir: o.dataDir,
    renewAtFraction: o.renewAt,
    logger: o.logger,
    onRenewed: () => o.live.checkAll(),
  });
}

/** The reloadable material with the files the config (or the data directory's defaults) names. */
async function openServeLiveMaterial(o: { config: ServeConfig; authConfig: AuthConfig; certFile: string; keyFile: string; pkiDir?: string }): Promise<LiveMaterial> {
  const { openLiveMaterial } = await import('./dynamic-certs.js');
  const auth = o.config.auth;
  const saKeyFiles = auth.serviceAccountKeyFiles ?? (o.pkiDir && (await exists(path.join(o.pkiDir, 'sa.pub'))) ? [path.join(o.pkiDir, 'sa.pub')] : []);
  const saSigning = auth.serviceAccountSigningKeyFile ?? (o.pkiDir && (await exists(path.join(o.pkiDir, 'sa.key'))) ? path.join(o.pkiDir, 'sa.key') : undefined);
  return openLiveMaterial({
    config: o.authConfig,
    servingCertFile: o.certFile,
    servingKeyFile: o.keyFile,
    serviceAccountKeyFiles: saKeyFiles,
    ...(saSigning ? { serviceAccountSigningKeyFile: saSigning } : {}),
    // The rotation's extra trust applies where serve uses the data dir's own CA files.
    ...(o.pkiDir && !o.config.tls.clientCAFile ? { pkiDir: o.pkiDir } : {}),
    logger: o.config.logger,
    checkIntervalMs: o.config.certReloadIntervalMs,
  });
}
