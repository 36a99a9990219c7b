// `kubepki dashboard --kubeconfig FILE`: the trust dashboard (src/dashboard) on 127.0.0.1, acting as the
// kubeconfig's identity the way `kubectl proxy` does (same --port/--address/--accept-hosts flags), so RBAC
// decides what the page may see and do. `kubepki serve --dashboard` starts the same server through
// startDashboardFor. Parsing and wiring only.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { KubepkiError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { RunningDashboard } from '../dashboard/server.js';
import { isLoopbackAddress } from '../util/socket-host.js';

interface DashboardFlags {
  kubeconfig?: string;
  context?: string;
  port: string;
  address: string;
  acceptHosts?: string;
  certDir?: string;
  kubeconfigDir?: string;
  logLevel?: string;
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description("Serve the certificate trust dashboard (trust graph, expiry timeline, CSR queue, nodes, CA rotation) on 127.0.0.1, acting as the kubeconfig's identity; it opens for the OS user who starts it, anyone else needs the access link it prints")
    .option('--kubeconfig <file>', '(required) kubeconfig whose identity the dashboard uses; RBAC decides what it may see and approve')
    .option('--context <name>', 'kubeconfig context to use (default: current-context)')
    .option('--port <port>', 'port to listen on (0 picks a free one)', '8080')
    .option('--address <ip>', 'address to listen on; anything but loopback exposes the kubeconfig\'s identity to the network', '127.0.0.1')
    .option('--accept-hosts <regexes>', 'Host headers accepted, as kubectl proxy (comma-separated regular expressions; default ^localhost$,^127\\.0\\.0\\.1$,^\\[::1\\]$)')
    .option('--cert-dir <dir>', 'control-plane certificate directory to show too (e.g. /etc/kubernetes/pki); only *.crt files are read')
    .option('--kubeconfig-dir <dir>', 'directory of kubeconfigs (*.conf) whose embedded certificates to show (never their keys or tokens)')
    .option('--log-level <level>', 'pino log level (info, debug, warn...)')
    .action(async (flags: DashboardFlags) => {
      // Checked here, not by commander's requiredOption, so that an unknown flag is reported first.
      if (!flags.kubeconfig) throw new KubepkiError('InvalidArgument', '--kubeconfig is required: the identity the dashboard acts as (RBAC decides what it may see)');
      const { createLogger } = await import('../util/logger.js');
      const logger = createLogger({ name: 'kubepki-dashboard', ...(flags.logLevel ? { level: flags.logLevel } : {}) });
      const running = await startDashboardFor({
        kubeconfig: flags.kubeconfig,
        ...(flags.context ? { context: flags.context } : {}),
        port: parsePort(flags.port, '--port'),
        address: flags.address,
        ...(flags.acceptHosts ? { acceptHosts: flags.acceptHosts } : {}),
        ...(flags.certDir ? { certDir: flags.certDir } : {}),
        ...(flags.kubeconfigDir ? { kubeconfigDir: flags.kubeconfigDir } : {}),
        logger,
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await running.stop();
    });
}

export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new KubepkiError('InvalidArgument', `${flag}: "${value}" is not a valid port`);
  return port;
}

/** Starts the dashboard for a kubeconfig; prints where it listens (and a warning off loopback) to stderr. */
export async function startDashboardFor(o: {
  kubeconfig: string;
  context?: string;
  port: number;
  address: string;
  acceptHosts?: string;
  certDir?: string;
  kubeconfigDir?: string;
  /** Talk to this URL instead of the kubeconfig's server (serve --dashboard: this very process). */
  serverUrl?: string;
  logger: Logger;
}): Promise<RunningDashboard> {
  const [{ loadClientConfig }, { RestKubeClient }, { startDashboard }] = await Promise.all([
    import('../client/kubeconfig.js'),
    import('../client/rest.js'),
    import('../dashboard/server.js'),
  ]);
  let config;
  try {
    config = loadClientConfig(o.kubeconfig, o.context ? { context: o.context } : {});
  } catch (err) {
    // loadClientConfig's messages start with the file's name.
    throw new KubepkiError('FileInvalid', `cannot load kubeconfig ${(err as Error).message}`, { cause: err });
  }
  // The kubeconfig's identity and TLS settings, toward this very process.
  if (o.serverUrl) config = { ...config, cluster: { ...config.cluster, server: o.serverUrl } };
  const client = new RestKubeClient(config, { userAgent: 'kubepki-dashboard', maxSockets: 8 });
  const identity = await whoAmI(client).catch(() => `kubeconfig user "${config.userName ?? '?'}"`);
  if (!isLoopbackAddress(o.address)) {
    process.stderr.write(`kubepki dashboard: WARNING: listening on ${o.address}, not loopback: plain HTTP, so anyone who can see the traffic can take the access link and act as ${identity} (limit with --accept-hosts and a firewall)\n`);
  }
  const running = await startDashboard({
    client,
    identity,
    ...sessionSecretOf(config.user),
    port: o.port,
    address: o.address,
    ...(o.acceptHosts ? { acceptHosts: o.acceptHosts } : {}),
    ...(o.certDir ? { certDir: o.certDir } : {}),
    ...(o.kubeconfigDir ? { kubeconfigDir: o.kubeconfigDir } : {}),
    logger: o.logger,
  });
  // The access URL carries the token that opens a session (like Jupyter's): printed for the person who started
  // the dashboard. Their own browser also opens the bare address (same-user-peer.ts); any other user needs it.
  process.stderr.write(`kubepki dashboard: listening on ${running.url} as ${identity}\n`);
  return running;
}

/**
 * The kubeconfig's own static secret, from which the dashboard derives its session key (so a restart keeps
 * the pages' sessions and the access URL): the client key, else the token, else the password. Nothing for
 * exec plugins (their output changes): the key is random then.
 */
function sessionSecretOf(user: import('../client/kubeconfig.js').UserConfig): { sessionSecret?: string } {
  const read = (file: string | undefined) => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const secret = user.keyPem ?? read(user.keyFile) ?? user.token ?? read(user.tokenFile) ?? user.password;
  return secret ? { sessionSecret: secret } : {};
}

/** The user the API server authenticates the kubeconfig as (SelfSubjectReview, as `kubectl auth whoami`). */
async function whoAmI(client: import('../client/rest.js').RestKubeClient): Promise<string> {
  const review = await client.request<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  const name = review.status?.userInfo?.username;
  if (!name) throw new Error('no username');
  return name;
}
