// The agent's two kubeconfigs: the bootstrap one (server, CA and a bootstrap token) that it reads, and the
// node one (--kubeconfig) that it writes in the kubelet's shape — client-certificate and client-key both
// naming `<cert-dir>/kubelet-client-current.pem`, so a rotation needs no kubeconfig rewrite.
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { KubepkiError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { parseCertificatesPem, parsePrivateKeyPem, type Certificate } from '../x509/index.js';
import { checkPair, type CertKeyPair, type PairCheck } from './cert-store.js';
import { parseClientConfig, type ClientConfig } from '../client/kubeconfig.js';
import { readBoundedFileSync } from '../util/bounded-file.js';

/** How to reach and trust the API server. */
export interface ClusterAccess {
  server: string;
  /** Absolute path of the CA bundle, when the kubeconfig refers to a file. */
  caFile?: string;
  /** PEM text of the CA bundle, when embedded. */
  caPem?: string;
  tlsServerName?: string;
}

/** Loads a kubeconfig (relative file paths resolved against its directory, as kubectl does). */
export function loadKubeconfig(file: string, what = 'kubeconfig'): ClientConfig {
  let text: string;
  try {
    text = readBoundedFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'FileMissing' : 'FileInvalid';
    throw new KubepkiError(code, `${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') throw new KubepkiError('InvalidConfig', `${what} ${file}: no current-context`);
  try {
    return parseClientConfig(text, { what: `${what} ${file}`, baseDir: dirname(resolve(file)) });
  } catch (err) {
    throw new KubepkiError('InvalidConfig', (err as Error).message, { cause: err });
  }
}

/**
 * Server and CA of the current context. The agent only talks to an API server it can verify: a kubeconfig
 * without a CA, or with insecure-skip-tls-verify, is refused (no trust on first use).
 */
export function clusterAccessOf(kc: ClientConfig, what = 'kubeconfig'): ClusterAccess {
  const cluster = kc.cluster;
  if (cluster.insecureSkipTLSVerify) {
    throw new KubepkiError('InvalidConfig', `${what}: insecure-skip-tls-verify is set; the agent verifies the API server against a CA, give certificate-authority(-data)`);
  }
  if (!/^https:\/\//.test(cluster.server)) {
    throw new KubepkiError('InvalidConfig', `${what}: server ${cluster.server} is not an https:// URL`);
  }
  const access: ClusterAccess = { server: cluster.server };
  if (cluster.tlsServerName) access.tlsServerName = cluster.tlsServerName;
  if (cluster.caFile) access.caFile = cluster.caFile;
  else if (cluster.caPem) access.caPem = cluster.caPem;
  else throw new KubepkiError('InvalidConfig', `${what}: the cluster has no certificate-authority or certificate-authority-data`);
  return access;
}

/** The CA certificates of a cluster entry (read now, so a changed CA file is seen). */
export function caCertificatesOf(access: ClusterAccess, what = 'kubeconfig'): Certificate[] {
  let pem = access.caPem;
  if (pem === undefined) {
    try {
      pem = readBoundedFileSync(access.caFile!);
    } catch (err) {
      throw new KubepkiError('FileMissing', `${what}: certificate-authority ${access.caFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    return parseCertificatesPem(pem, `${what} certificate-authority`);
  } catch (err) {
    throw new KubepkiError('InvalidConfig', (err as Error).message, { cause: err });
  }
}

/** The node kubeconfig exactly as the kubelet writes it after bootstrapping (clientcmd's shape). */
export function renderNodeKubeconfig(options: { cluster: ClusterAccess; pemPath: string }): string {
  const { cluster, pemPath } = options;
  const clusterEntry: Record<string, unknown> = {};
  if (cluster.caFile) clusterEntry['certificate-authority'] = cluster.caFile;
  else clusterEntry['certificate-authority-data'] = Buffer.from(cluster.caPem ?? '', 'utf8').toString('base64');
  clusterEntry['server'] = cluster.server;
  if (cluster.tlsServerName) clusterEntry['tls-server-name'] = cluster.tlsServerName;
  return stringify({
    apiVersion: 'v1',
    clusters: [{ cluster: clusterEntry, name: 'default-cluster' }],
    contexts: [{ context: { cluster: 'default-cluster', namespace: 'default', user: 'default-auth' }, name: 'default-context' }],
    'current-context': 'default-context',
    kind: 'Config',
    preferences: {},
    users: [{ name: 'default-auth', user: { 'client-certificate': pemPath, 'client-key': pemPath } }],
  });
}

/** Writes the node kubeconfig atomically, 0600 (it names the key file; clientcmd writes 0600 too). */
export async function writeNodeKubeconfig(file: string, options: { cluster: ClusterAccess; pemPath: string }): Promise<void> {
  await writeFileAtomic(file, renderNodeKubeconfig(options), { mode: 0o600, mkdirs: true });
}

/** A client configuration that authenticates with the pair file at `pemPath` (read at each connection). */
export function certificateKubeconfig(cluster: ClusterAccess, pemPath: string): ClientConfig {
  return {
    cluster: { server: cluster.server, caPem: cluster.caPem, caFile: cluster.caFile, tlsServerName: cluster.tlsServerName },
    user: { certFile: pemPath, keyFile: pemPath },
  };
}

export type KubeconfigInspection =
  | { status: 'missing' }
  | { status: 'unusable'; reason: string }
  | { status: 'usable'; cluster: ClusterAccess; pair: Omit<CertKeyPair, 'path'> & { path: string | null }; certFile: string | null };

/**
 * Whether an existing --kubeconfig can be used as is: it loads, has a verifiable cluster, and its client
 * certificate and key (files or embedded data) parse, match, are unexpired, chain to the cluster's CA and
 * allow client auth. Anything else is a reason to bootstrap, reported in words.
 */
export function inspectNodeKubeconfig(file: string, options: { now: Date }): KubeconfigInspection {
  let kc: ClientConfig;
  try {
    kc = loadKubeconfig(file);
  } catch (err) {
    if ((err as KubepkiError).code === 'FileMissing') return { status: 'missing' };
    return { status: 'unusable', reason: (err as Error).message };
  }
  try {
    const cluster = clusterAccessOf(kc, file);
    const roots = caCertificatesOf(cluster, file);
    const user = kc.user;
    const certPem = user.certFile ? readBoundedFileSync(user.certFile) : (user.certPem ?? null);
    const keyPem = user.keyFile ? readBoundedFileSync(user.keyFile) : (user.keyPem ?? null);
    if (!certPem || !keyPem) return { status: 'unusable', reason: `${file}: the user has no client certificate and key` };
    const chain = parseCertificatesPem(certPem, `${file} client certificate`);
    const privateKey = parsePrivateKeyPem(keyPem, `${file} client key`);
    const pair = { path: user.certFile ?? null, certificate: chain[0]!, chain, privateKey, pem: certPem };
    const check: PairCheck = checkPair(pair, { roots, now: options.now, usage: 'client auth' });
    if (!check.ok) return { status: 'unusable', reason: `${file}: client certificate: ${check.message}` };
    return { status: 'usable', cluster, pair, certFile: user.certFile ?? null };
  } catch (err) {
    return { status: 'unusable', reason: (err as Error).message };
  }
}
