// serve's in-process controllers: checked before the server listens (signing files, kubeconfig), then run
// in a worker thread (controllers-worker.ts) as API clients of this server — through the loopback socket
// when the controller-manager kubeconfig's client certificate authenticates here, else over HTTPS with that
// kubeconfig — so RBAC, admission and watch treat them exactly as an external controller manager.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ControllerManagerOptions } from '../controllers/manager.js';
import type { LoopbackEndpoint } from '../client/rest.js';
import type { Authenticator } from '../auth/types.js';
import { USER_ANONYMOUS } from '../apis/names.js';
import { KubepkiError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { ApiServer } from './server.js';
import { startControllersWorker, type ControllersWorker } from './controllers-worker.js';
import { logFormatOf } from '../util/logger.js';
import { readBoundedFile } from '../util/bounded-file.js';

/** The in-process controllers' part of the serve configuration. */
export interface ServeControllersConfig {
  /** --controller-manager-kubeconfig (default with a data directory: DIR/controller-manager.conf). */
  kubeconfig?: string;
  /** From the controller flags; with no signing files given, DIR/pki/ca.crt and ca.key are used when present. */
  managerOptions: Omit<ControllerManagerOptions, 'client' | 'logger' | 'metrics' | 'clock'>;
  /** --root-ca-file (default: the client CA the server trusts). */
  rootCaFile?: string;
}

export interface PreparedControllers {
  /** The controller-manager kubeconfig's client certificate chain (DER, leaf first), when it has one. */
  clientCertificate?: Uint8Array[];
  /**
   * Starts them in a worker thread against the server listening at `serverUrl`: through `loopback` as the
   * identity the server resolved for clientCertificate, or else over HTTPS with the kubeconfig's own
   * credentials.
   */
  start(options: { serverUrl: string; clientCA: string; loopback?: LoopbackEndpoint }): Promise<ControllersWorker>;
}

const exists = (f: string) => access(f).then(() => true, () => false);

/**
 * Checks what the controllers need before the server starts (so a CA bundle as signing file is refused at
 * start); undefined when there is no controller-manager kubeconfig.
 */
export async function prepareServeControllers(config: ServeControllersConfig, options: { dataDir?: string; logger: Logger }): Promise<PreparedControllers | undefined> {
  const { dataDir, logger } = options;
  const kubeconfig = config.kubeconfig ?? (dataDir ? path.join(dataDir, 'controller-manager.conf') : undefined);
  if (!kubeconfig || !(await exists(kubeconfig))) {
    logger.warn('in-process controllers not started: no controller-manager kubeconfig (give --data-dir or --controller-manager-kubeconfig)');
    process.stderr.write('kubepki serve: in-process controllers off (no controller-manager kubeconfig)\n');
    return undefined;
  }
  const managerOptions = structuredClone(config.managerOptions);
  const signing = managerOptions.signing && 'files' in managerOptions.signing ? managerOptions.signing : undefined;
  if (signing && Object.keys(signing.files).length === 0 && dataDir && (await exists(path.join(dataDir, 'pki', 'ca.key')))) {
    signing.files.default = { certFile: path.join(dataDir, 'pki', 'ca.crt'), keyFile: path.join(dataDir, 'pki', 'ca.key') };
  }
  // Fail now, before the port opens: unreadable or refused signing files.
  if (signing) {
    const { resolveSigningFiles, loadSigningAuthority } = await import('../controllers/signer/ca.js');
    for (const files of resolveSigningFiles(signing.files).values()) await loadSigningAuthority(files);
  }
  let rootCA: string | undefined;
  if (config.rootCaFile) {
    try {
      rootCA = await readBoundedFile(config.rootCaFile);
    } catch (err) {
      throw new KubepkiError('FileMissing', `--root-ca-file: cannot read ${config.rootCaFile}: ${(err as Error).message}`);
    }
  }
  return {
    clientCertificate: await kubeconfigClientCertificate(kubeconfig),
    // kube-controller-manager publishes --root-ca-file, else (kubeadm) the cluster CA the server trusts.
    start: ({ serverUrl, clientCA, loopback }) =>
      startControllersWorker({ kubeconfig, serverUrl, clientCA, managerOptions, rootCA: rootCA ?? clientCA, logLevel: logger.level, logFormat: logFormatOf(logger), loopback }, logger),
  };
}

/** The current user's client certificate chain in a kubeconfig (embedded or a file), as DER; undefined if none. */
async function kubeconfigClientCertificate(file: string): Promise<Uint8Array[] | undefined> {
  const [{ parseKubeconfig }, { decodePem }] = await Promise.all([import('../cluster/kubeconfig.js'), import('../x509/pem.js')]);
  try {
    const kc = parseKubeconfig(await readBoundedFile(file), file);
    // A relative client-certificate path is relative to the kubeconfig's directory, as kubectl reads it.
    const pem = kc.clientCertPem ?? (kc.clientCertFile ? await readBoundedFile(path.resolve(path.dirname(file), kc.clientCertFile)) : undefined);
    const chain = pem ? decodePem(pem, file).filter((b) => b.type === 'CERTIFICATE').map((b) => b.der) : [];
    return chain.length > 0 ? chain : undefined;
  } catch {
    return undefined; // the worker's own loading of the kubeconfig reports what is wrong with it
  }
}

/**
 * The loopback socket for serve's controllers, acting as the identity their kubeconfig's client certificate
 * authenticates as here (checked once, now). None when the kubeconfig has other credentials, its
 * certificate is refused, or no socket can be made (say, a TMPDIR too long for a socket path): the
 * controllers then use HTTPS with the kubeconfig itself.
 */
export async function controllersLoopback(options: {
  controllers: PreparedControllers;
  authenticator: Authenticator;
  server: ApiServer;
  logger: Logger;
}): Promise<LoopbackEndpoint | undefined> {
  const { controllers, authenticator, server, logger } = options;
  const chain = controllers.clientCertificate;
  const who = chain ? await authenticator.authenticate({ headers: {}, peerCertificates: chain }).catch(() => null) : null;
  if (!who || who.user.username === USER_ANONYMOUS) {
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
