// What an API client needs from a kubeconfig, read as client-go's clientcmd reads it: the chosen context's
// cluster (server, CA, TLS server name, insecure-skip-tls-verify) and user (client certificate and key,
// bearer token or token file, basic auth, exec credential plugin). File paths are relative to the
// kubeconfig's directory. Credentials are resolved when a connection is made, so a rotated certificate
// file, a rewritten token file or a fresh exec credential is picked up.
import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import { decodeDataField, namedEntry, parseKubeconfigYaml } from '../cluster/kubeconfig.js';
import { KubepkiError } from '../util/errors.js';
import { readBoundedFileSync } from '../util/bounded-file.js';

export interface ClusterConfig {
  server: string;
  /** PEM of the CA bundle (certificate-authority-data), or the file holding it (certificate-authority). */
  caPem?: string;
  caFile?: string;
  tlsServerName?: string;
  insecureSkipTLSVerify?: boolean;
}

/** client.authentication.k8s.io exec plugin (clientcmd's ExecConfig). */
export interface ExecConfig {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
}

export interface UserConfig {
  certPem?: string;
  certFile?: string;
  keyPem?: string;
  keyFile?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
}

export interface ClientConfig {
  cluster: ClusterConfig;
  user: UserConfig;
  /** The kubeconfig's name of the context's user (messages only: who the client acts as when the server cannot say). */
  userName?: string;
}

/** The TLS material and headers of one connection, as resolved now. */
export interface ResolvedCredentials {
  ca?: string;
  cert?: string;
  key?: string;
  headers: Record<string, string>;
}

type Doc = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Loads a kubeconfig file: its current context, or `context` when given. */
export function loadClientConfig(file: string, options: { context?: string } = {}): ClientConfig {
  let text: string;
  try {
    text = readBoundedFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'FileMissing' : 'FileInvalid';
    throw new KubepkiError(code, `${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseClientConfig(text, { what: file, baseDir: dirname(resolve(file)), ...options });
}

/** The client configuration in a kubeconfig's text; relative paths are resolved against `baseDir`. */
export function parseClientConfig(text: string, options: { what: string; baseDir: string; context?: string }): ClientConfig {
  return clientConfigOf(parseKubeconfigYaml(text, options.what), options);
}

/** The client configuration in a parsed kubeconfig document. */
export function clientConfigOf(doc: Doc, options: { what: string; baseDir: string; context?: string }): ClientConfig {
  const { what, baseDir } = options;
  const invalid = (why: string) => new KubepkiError('InvalidConfig', `${what}: ${why}`);
  const contextName = options.context ?? str(doc['current-context']);
  if (!contextName) throw invalid('no current-context');
  const context = namedEntry(doc['contexts'], 'context', contextName);
  if (!context) throw invalid(`context "${contextName}" not found`);
  const clusterName = str(context['cluster']) ?? '';
  const cluster = namedEntry(doc['clusters'], 'cluster', clusterName);
  if (!cluster) throw invalid(`the context names no known cluster ("${clusterName}")`);
  // A context may name no user (anonymous), as clientcmd allows; a user it names must exist.
  const userName = str(context['user']);
  const user = userName === undefined ? {} : namedEntry(doc['users'], 'user', userName);
  if (!user) throw invalid(`the context names no known user ("${userName}")`);
  const path = (v: unknown) => (str(v) ? resolve(baseDir, v as string) : undefined);
  const data = (v: unknown, field: string) => decodeDataField(v, field, invalid);
  const server = str(cluster['server']);
  if (!server) throw invalid('the cluster has no server');
  // kubectl: `unsupported protocol scheme "file"`; said here, once, instead of a transport error per request.
  if (!/^https?:\/\/[^/?#\s]+/i.test(server)) throw invalid(`the cluster's server ${JSON.stringify(server)} is not an http(s) URL`);
  if (user['auth-provider'] !== undefined) throw invalid('auth-provider plugins are not supported; use an exec credential plugin');
  const exec = user['exec'] as Doc | undefined;
  return {
    cluster: {
      server,
      caPem: data(cluster['certificate-authority-data'], 'certificate-authority-data'),
      caFile: path(cluster['certificate-authority']),
      tlsServerName: str(cluster['tls-server-name']),
      insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    },
    user: {
      certPem: data(user['client-certificate-data'], 'client-certificate-data'),
      certFile: path(user['client-certificate']),
      keyPem: data(user['client-key-data'], 'client-key-data'),
      keyFile: path(user['client-key']),
      token: str(user['token']),
      tokenFile: path(user['tokenFile']),
      username: str(user['username']),
      password: str(user['password']),
      exec: exec && str(exec['command']) ? (exec as unknown as ExecConfig) : undefined,
    },
    ...(userName !== undefined ? { userName } : {}),
  };
}

/** Runs an exec credential plugin (client.authentication.k8s.io ExecCredential) and reads its status. */
async function execCredential(exec: ExecConfig): Promise<{ token?: string; cert?: string; key?: string }> {
  const apiVersion = exec.apiVersion ?? 'client.authentication.k8s.io/v1';
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } }) };
  for (const e of exec.env ?? []) env[e.name] = e.value;
  let stdout: string;
  try {
    // promisify here, not at load: it would load node:child_process for every command that reads a kubeconfig.
    ({ stdout } = await promisify(execFile)(exec.command, exec.args ?? [], { env, timeout: 60_000 }));
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `exec credential plugin ${exec.command}: ${(err as Error).message}`, { cause: err });
  }
  let status: Doc | undefined;
  try {
    status = (JSON.parse(stdout) as Doc)['status'] as Doc | undefined;
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `exec credential plugin ${exec.command}: its output is not an ExecCredential`, { cause: err });
  }
  return { token: str(status?.['token']), cert: str(status?.['clientCertificateData']), key: str(status?.['clientKeyData']) };
}

/** Reads the CA, client certificate, key and authorization header the configuration gives, now. */
export async function resolveCredentials(config: ClientConfig): Promise<ResolvedCredentials> {
  const { cluster, user } = config;
  const read = (file: string, what: string) => {
    try {
      return readBoundedFileSync(file);
    } catch (err) {
      throw new KubepkiError('FileMissing', `${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const out: ResolvedCredentials = { headers: {} };
  out.ca = cluster.caPem ?? (cluster.caFile ? read(cluster.caFile, 'certificate-authority') : undefined);
  out.cert = user.certPem ?? (user.certFile ? read(user.certFile, 'client-certificate') : undefined);
  out.key = user.keyPem ?? (user.keyFile ? read(user.keyFile, 'client-key') : undefined);
  let token = user.token ?? (user.tokenFile ? read(user.tokenFile, 'tokenFile').trim() : undefined);
  if (user.exec && !token && !out.cert) {
    const c = await execCredential(user.exec);
    token = c.token;
    if (c.cert && c.key) {
      out.cert = c.cert;
      out.key = c.key;
    }
  }
  if (token) out.headers['authorization'] = `Bearer ${token}`;
  else if (user.username !== undefined || user.password !== undefined) {
    out.headers['authorization'] = `Basic ${Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64')}`;
  }
  return out;
}
