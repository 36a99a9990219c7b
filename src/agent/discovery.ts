// Token discovery, as `kubeadm join --token T --discovery-token-ca-cert-hash sha256:H HOST:PORT` does it
// (cmd/kubeadm/app/discovery/token): read ConfigMap kube-public/cluster-info anonymously over TLS without
// trusting the server yet, believe its kubeconfig only if the token's detached JWS over it verifies (so the
// server knows the token secret) and, unless verification is explicitly skipped, only if the CA inside has a
// pinned public key; then read it again over TLS verified against that CA and require the same bytes. The
// result is the bootstrap kubeconfig (server and CA from cluster-info, the token as credentials).
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { parseUntrustedYaml } from '../util/yaml-nesting.js';
import { RestKubeClient } from '../client/rest.js';
import { RESOURCES, type ResourceClient } from '../client/interface.js';
import { parseClientConfig, type ClientConfig } from '../client/kubeconfig.js';
import type { ConfigMap } from '../apis/objects.js';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { parseCertificatesPem, type Certificate } from '../x509/index.js';
import { checkAnyPinned, parsePublicKeyPins } from '../x509/pubkey-pin.js';
import {
  CLUSTER_INFO_CONFIGMAP,
  CLUSTER_INFO_NAMESPACE,
  JWS_SIGNATURE_KEY_PREFIX,
  KUBECONFIG_KEY,
  detachedSignatureIsValid,
} from '../apis/cluster-info.js';
import { describeApiError } from './csr-client.js';
import { caCertificatesOf, loadKubeconfig, type ClusterAccess } from './kubeconfig.js';

const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export interface TokenDiscoveryOptions {
  /** HOST:PORT of the API server (kubeadm's apiServerEndpoint); https://HOST:PORT is accepted too. */
  endpoint: string;
  /** The bootstrap token `<id>.<secret>`: discovery key and then the TLS-bootstrap credentials. */
  token: string;
  /** --discovery-token-ca-cert-hash values, "sha256:<hex>". */
  caCertHashes: string[];
  /** --discovery-token-unsafe-skip-ca-verification: trust a JWS-verified CA without a pin. */
  unsafeSkipCaVerification?: boolean;
  /** How long to keep asking for a signed cluster-info (kubeadm's --discovery-timeout, 5 min). */
  timeoutMs?: number;
  /** Between two attempts (kubeadm: 5 s). */
  retryIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  signal?: AbortSignal;
}

/** What discovery establishes: where the API server is and which CA to trust. */
export interface DiscoveredCluster {
  server: string;
  caPem: string;
  caCertificates: Certificate[];
}

/** The checks that need no network, done before anything is asked (kubeadm's join validation). */
export function validateDiscoveryOptions(o: Pick<TokenDiscoveryOptions, 'endpoint' | 'token' | 'caCertHashes' | 'unsafeSkipCaVerification'>): {
  url: string;
  tokenId: string;
  tokenSecret: string;
  pins: Set<string>;
} {
  const m = TOKEN_RE.exec(o.token);
  if (!m) throw new KubepkiError('InvalidArgument', '--token: the token is not of the form "[a-z0-9]{6}.[a-z0-9]{16}"');
  const pins = parsePublicKeyPins(o.caCertHashes);
  if (pins.size === 0 && !o.unsafeSkipCaVerification) {
    throw new KubepkiError(
      'InvalidArgument',
      'using token-based discovery without --discovery-token-ca-cert-hash can be unsafe; pass --discovery-token-unsafe-skip-ca-verification to continue',
    );
  }
  return { url: endpointUrl(o.endpoint), tokenId: m[1]!, tokenSecret: m[2]!, pins };
}

/** HOST:PORT (or https://HOST:PORT) as an https origin. */
function endpointUrl(endpoint: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new KubepkiError('InvalidArgument', `--server: "${endpoint}" is not HOST:PORT`);
  }
  if (url.protocol !== 'https:') throw new KubepkiError('InvalidArgument', `--server: "${endpoint}" must be HOST:PORT or an https:// URL`);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new KubepkiError('InvalidArgument', `--server: "${endpoint}" must be HOST:PORT, without a path`);
  }
  return url.origin;
}

/**
 * kubeadm's validateClusterInfoToken + validateClusterCA on the data of the ConfigMap read without TLS
 * verification: the kubeconfig text that the token's JWS vouches for, its one cluster's server and CA, the
 * CA's key pinned (unless no pin was given). Any failure is final: the server is not to be trusted.
 */
export function verifyClusterInfo(
  data: Record<string, string> | undefined,
  options: { tokenId: string; tokenSecret: string; pins: ReadonlySet<string> },
): DiscoveredCluster & { kubeconfig: string } {
  const kubeconfig = data?.[KUBECONFIG_KEY] ?? '';
  if (kubeconfig === '') {
    throw new KubepkiError('InvalidConfig', `there is no ${KUBECONFIG_KEY} key in the ${CLUSTER_INFO_CONFIGMAP} ConfigMap. This API Server isn't set up for token bootstrapping, can't connect`);
  }
  const signature = data?.[JWS_SIGNATURE_KEY_PREFIX + options.tokenId] ?? '';
  if (signature === '') throw new KubepkiError('InvalidConfig', unsignedMessage(options.tokenId));
  if (!detachedSignatureIsValid(signature, kubeconfig, options.tokenId, options.tokenSecret)) {
    throw new KubepkiError('InvalidConfig', `failed to verify JWS signature of received ${CLUSTER_INFO_CONFIGMAP} object, can't trust this API Server`);
  }
  let doc: unknown;
  try {
    doc = parseUntrustedYaml(kubeconfig);
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `couldn't parse the kubeconfig file in the ${CLUSTER_INFO_CONFIGMAP} ConfigMap: ${(err as Error).message}`);
  }
  const clusters = (doc as { clusters?: unknown } | null)?.clusters;
  // kubeadm takes "the" cluster (the last of a map in random order when there are several): with more than one
  // there is no telling which CA the signer meant, so anything but exactly one is refused.
  if (!Array.isArray(clusters) || clusters.length !== 1) {
    const n = Array.isArray(clusters) ? clusters.length : 0;
    throw new KubepkiError('InvalidConfig', `the kubeconfig in the ${CLUSTER_INFO_CONFIGMAP} ConfigMap has ${n} clusters; exactly one is expected`);
  }
  const cluster = (clusters[0] as { cluster?: Record<string, unknown> } | null)?.cluster ?? {};
  const server = cluster['server'];
  if (typeof server !== 'string' || !/^https:\/\/[^/]+\/?$/.test(server)) {
    throw new KubepkiError('InvalidConfig', `malformed kubeconfig in the ${CLUSTER_INFO_CONFIGMAP} ConfigMap: the cluster's server is not an https:// URL`);
  }
  const caData = cluster['certificate-authority-data'];
  let caPem: string;
  let caCertificates: Certificate[];
  try {
    if (typeof caData !== 'string' || caData === '') throw new Error('no certificate-authority-data');
    caPem = Buffer.from(caData, 'base64').toString('utf8');
    caCertificates = parseCertificatesPem(caPem, 'certificate-authority-data');
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `failed to parse cluster CA from the ${CLUSTER_INFO_CONFIGMAP} ConfigMap: ${(err as Error).message}`);
  }
  if (options.pins.size > 0) {
    const problem = checkAnyPinned(options.pins, caCertificates);
    if (problem) throw new KubepkiError('InvalidConfig', `cluster CA found in ${CLUSTER_INFO_CONFIGMAP} ConfigMap is invalid: ${problem}`);
  }
  return { kubeconfig, server: server.replace(/\/$/, ''), caPem, caCertificates };
}

function unsignedMessage(tokenId: string): string {
  return `token id "${tokenId}" is invalid for this cluster or it has expired. Use "kubepki token create" on the control-plane node to create a new valid token`;
}

/** ConfigMaps of one server, asked anonymously: TLS unverified (caPem null) or verified against caPem. */
function anonymousConfigMaps(url: string, caPem: string | null): ResourceClient<ConfigMap> {
  const config: ClientConfig = { cluster: caPem === null ? { server: url, insecureSkipTLSVerify: true } : { server: url, caPem }, user: {} };
  // A connection per request: nothing is kept open once discovery is over.
  return new RestKubeClient(config, { userAgent: 'kubepki-agent', oneShot: true }).resource<ConfigMap>(RESOURCES.configMaps);
}

/**
 * kubeadm's getClusterInfo: asks until cluster-info exists and carries a signature for the token (the
 * bootstrap signer adds it shortly after the token is created), every retryInterval up to the timeout.
 */
async function getClusterInfo(configMaps: ResourceClient<ConfigMap>, o: { tokenId: string; deadline: number; retryIntervalMs: number; clock: Clock; logger: Logger; signal?: AbortSignal; tls: string }): Promise<ConfigMap> {
  for (;;) {
    if (o.signal?.aborted) throw o.signal.reason ?? new Error('aborted');
    let lastError: string;
    try {
      const cm = await withTimeout(configMaps.get(CLUSTER_INFO_CONFIGMAP, CLUSTER_INFO_NAMESPACE), 10_000);
      if (cm.data?.[JWS_SIGNATURE_KEY_PREFIX + o.tokenId]) return cm;
      lastError = `could not find a JWS signature in the ${CLUSTER_INFO_CONFIGMAP} ConfigMap for token ID "${o.tokenId}"`;
    } catch (err) {
      lastError = `failed to request the ${CLUSTER_INFO_CONFIGMAP} ConfigMap: ${describeApiError(err)}`;
    }
    if (o.clock.now().getTime() + o.retryIntervalMs > o.deadline) {
      throw new KubepkiError('APIError', `discovery (${o.tls}) gave up: ${lastError}${/JWS signature/.test(lastError) ? `; ${unsignedMessage(o.tokenId)}` : ''}`);
    }
    o.logger.info({ tokenId: o.tokenId, err: lastError, retryInSeconds: o.retryIntervalMs / 1000 }, 'waiting for a signed cluster-info');
    await o.clock.sleep(o.retryIntervalMs, o.signal);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs token discovery; resolves to the server and CA to trust, or rejects with why it cannot. */
export async function discoverCluster(options: TokenDiscoveryOptions): Promise<DiscoveredCluster> {
  const { url, tokenId, tokenSecret, pins } = validateDiscoveryOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const deadline = clock.now().getTime() + (options.timeoutMs ?? 5 * 60_000);
  const retry = { tokenId, deadline, retryIntervalMs: options.retryIntervalMs ?? 5000, clock, logger, ...(options.signal ? { signal: options.signal } : {}) };
  logger.info({ server: url, tokenId }, 'requesting cluster-info (TLS not yet verified)');
  const insecure = await getClusterInfo(anonymousConfigMaps(url, null), { ...retry, tls: 'unverified TLS' });
  const verified = verifyClusterInfo(insecure.data, { tokenId, tokenSecret, pins });
  if (pins.size === 0) {
    logger.warn({ server: url }, 'cluster-info signature and contents are valid and no CA pinning was asked for (--discovery-token-unsafe-skip-ca-verification); trusting its CA');
    return { server: verified.server, caPem: verified.caPem, caCertificates: verified.caCertificates };
  }
  // Now that the CA is known, ask again over TLS verified with it: the same server must say the same thing.
  logger.info({ server: url }, 'requesting cluster-info again, TLS verified against the pinned CA');
  const secure = await getClusterInfo(anonymousConfigMaps(url, verified.caPem), { ...retry, tls: 'TLS verified against the pinned CA' });
  if ((secure.data?.[KUBECONFIG_KEY] ?? '') !== verified.kubeconfig) {
    throw new KubepkiError('InvalidConfig', `the second kubeconfig from the ${CLUSTER_INFO_CONFIGMAP} ConfigMap (using validated TLS) was different from the first`);
  }
  logger.info({ server: verified.server }, 'cluster-info signature and contents are valid and the CA matches a pinned public key');
  return { server: verified.server, caPem: verified.caPem, caCertificates: verified.caCertificates };
}

/** The bootstrap kubeconfig `kubeadm join` writes (bootstrap-kubelet.conf): discovered server and CA, the token. */
export function renderBootstrapKubeconfig(options: { server: string; caPem: string; token: string }): string {
  const user = 'tls-bootstrap-token-user';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubernetes', cluster: { 'certificate-authority-data': Buffer.from(options.caPem).toString('base64'), server: options.server } }],
    contexts: [{ name: `${user}@kubernetes`, context: { cluster: 'kubernetes', user } }],
    'current-context': `${user}@kubernetes`,
    preferences: {},
    users: [{ name: user, user: { token: options.token } }],
  });
}

/** Discovers the cluster and writes the bootstrap kubeconfig (0600: it holds the token). */
export async function writeBootstrapKubeconfigByDiscovery(file: string, options: TokenDiscoveryOptions): Promise<DiscoveredCluster> {
  const cluster = await discoverCluster(options);
  await writeFileAtomic(file, renderBootstrapKubeconfig({ server: cluster.server, caPem: cluster.caPem, token: options.token }), { mode: 0o600, mkdirs: true });
  (options.logger ?? silentLogger).info({ file, server: cluster.server }, 'wrote the bootstrap kubeconfig from cluster-info');
  return cluster;
}

/**
 * The bootstrap credentials of an agent started with a join command. While --kubeconfig is usable the node
 * already trusts a server and CA, so no discovery is needed: the token is paired with them in memory (it is
 * only used if the certificate has to be re-bootstrapped). Otherwise discovery runs and writes `file`.
 */
export async function bootstrapKubeconfigByDiscovery(options: TokenDiscoveryOptions & { file: string; trusted: ClusterAccess | null }): Promise<ClientConfig> {
  const { file, trusted, ...discovery } = options;
  if (trusted) {
    validateDiscoveryOptions(discovery);
    const caPem = caCertificatesOf(trusted).map((c) => c.pem).join('');
    // Exactly what loading the file discovery would write gives.
    return parseClientConfig(renderBootstrapKubeconfig({ server: trusted.server, caPem, token: discovery.token }), { what: 'bootstrap kubeconfig', baseDir: dirname(resolve(file)) });
  }
  await writeBootstrapKubeconfigByDiscovery(file, discovery);
  return loadKubeconfig(file, 'bootstrap kubeconfig');
}
