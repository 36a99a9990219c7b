// `kubepki agent`: the node agent with the kubelet's certificate flags (--bootstrap-kubeconfig, --kubeconfig,
// --cert-dir, --rotate-certificates, --rotate-server-certificates, --node-ip, --hostname-override,
// --healthz-port). Parsing and wiring only: the agent is src/agent.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { resolveLogFormat } from '../util/log-format.js';
import { parseGoDuration } from '../util/duration.js';
import { NodeAgent, type NodeAgentOptions } from '../agent/agent.js';
import { validateDiscoveryOptions } from '../agent/discovery.js';
import { customCaTrustFlags, customCaTrustOptions, type CustomCaTrustFlags } from './agent-custom-ca-trust.js';

interface AgentFlags extends CustomCaTrustFlags {
  kubeconfig?: string;
  bootstrapKubeconfig?: string;
  certDir: string;
  nodeName?: string;
  hostnameOverride?: string;
  nodeIp?: string[];
  rotateCertificates?: string | boolean;
  rotateServerCertificates?: string | boolean;
  healthzPort: string;
  healthzBindAddress: string;
  logLevel?: string;
  logFormat?: string;
  caSyncPeriod: string;
  server?: string;
  token?: string;
  discoveryTokenCaCertHash?: string[];
  discoveryTokenUnsafeSkipCaVerification?: string | boolean;
  discoveryTimeout: string;
}

/** A Go bool flag: `--flag`, `--flag=true`, `--flag=false`. */
function goBool(name: string, value: string | boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === true || /^(1|t|true)$/i.test(String(value))) return true;
  if (value === false || /^(0|f|false)$/i.test(String(value))) return false;
  throw new KubepkiError('InvalidArgument', `${name}: "${String(value)}" is not true or false`);
}

const list = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** --server/--token/--discovery-token-*: kubeadm join's token discovery, checked before anything is asked. */
function discoveryOptions(flags: AgentFlags): NodeAgentOptions['discovery'] {
  const hashes = flags.discoveryTokenCaCertHash ?? [];
  const unsafe = goBool('--discovery-token-unsafe-skip-ca-verification', flags.discoveryTokenUnsafeSkipCaVerification, false);
  if (flags.server === undefined && flags.token === undefined) {
    if (hashes.length > 0 || unsafe) throw new KubepkiError('InvalidArgument', '--discovery-token-ca-cert-hash and --discovery-token-unsafe-skip-ca-verification need --server and --token');
    return undefined;
  }
  if (flags.server === undefined || flags.token === undefined) throw new KubepkiError('InvalidArgument', 'token discovery needs both --server and --token');
  const timeoutMs = parseGoDuration(flags.discoveryTimeout);
  if (timeoutMs <= 0) throw new KubepkiError('InvalidArgument', `--discovery-timeout: "${flags.discoveryTimeout}" must be positive`);
  const options = { endpoint: flags.server, token: flags.token, caCertHashes: hashes, unsafeSkipCaVerification: unsafe, timeoutMs };
  validateDiscoveryOptions(options);
  return options;
}

export function register(program: Command): void {
  program
    .command('agent')
    .description('Run the node agent: TLS bootstrap with a bootstrap token, then client (and serving) certificate rotation, as the kubelet does')
    .option('--kubeconfig <file>', '(required) kubeconfig used to talk to the API server; written after bootstrap, referring to <cert-dir>/kubelet-client-current.pem')
    .option('--bootstrap-kubeconfig <file>', 'kubeconfig with a bootstrap token, used when --kubeconfig is missing or its certificate is unusable')
    .option('--cert-dir <dir>', 'directory of the certificate pairs and their -current.pem symlinks', '/var/lib/kubelet/pki')
    .option('--node-name <name>', 'the node name in the certificates (CN system:node:<name>); default: --hostname-override, then the host name')
    .option('--hostname-override <name>', 'the host name in the serving certificate (and default node name)')
    .option('--node-ip <ips>', 'IP address(es) of the node, comma-separated, put in the serving certificate', list)
    .option('--rotate-certificates [bool]', 'request a new client certificate as the current one nears expiry (default false)')
    .option('--rotate-server-certificates [bool]', 'request and rotate a serving certificate from kubernetes.io/kubelet-serving (default false)')
    .option('--healthz-port <port>', 'port of /healthz and /metrics; 0 disables', '10248')
    .option('--healthz-bind-address <ip>', 'loopback address for /healthz and /metrics', '127.0.0.1')
    .option('--ca-sync-period <duration>', 'how often to read the CA published in cluster-info and follow it when the trusted CA signed it in (Go duration; 0 disables)', '5m0s')
    .option('--server <host:port>', 'join by token discovery (as kubeadm join): the API server to read cluster-info from; needs --token')
    .option('--token <token>', 'join by token discovery: the bootstrap token, used to verify cluster-info and then to request the certificate')
    .option('--discovery-token-ca-cert-hash <sha256:hex>', 'join by token discovery: the pinned public key of the cluster CA (repeatable, comma-separated)', list)
    .option('--discovery-token-unsafe-skip-ca-verification [bool]', 'join by token discovery without a CA public-key pin (default false)')
    .option('--discovery-timeout <duration>', 'join by token discovery: how long to wait for a cluster-info signed for the token (Go duration)', '5m0s')
    .option('--log-level <level>', 'pino log level (info, debug, warn...)')
    .option('--log-format <format>', 'text (klog-like lines) or json; default: text when stderr is a terminal, else json');
  customCaTrustFlags(program.commands.find((c) => c.name() === 'agent')!)
    .action(async (flags: AgentFlags) => {
      // Checked here, not by commander's requiredOption, so that an unknown flag is reported first (as pflag does).
      if (!flags.kubeconfig) throw new KubepkiError('InvalidArgument', '--kubeconfig is required: the kubeconfig the node talks to the API server with (written after bootstrap)');
      const port = Number(flags.healthzPort);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new KubepkiError('InvalidArgument', `--healthz-port: "${flags.healthzPort}" is not a port number`);
      const caSyncIntervalMs = parseGoDuration(flags.caSyncPeriod);
      if (caSyncIntervalMs < 0) throw new KubepkiError('InvalidArgument', `--ca-sync-period: "${flags.caSyncPeriod}" is negative`);
      const discovery = discoveryOptions(flags);
      const logger = createLogger({ name: 'kubepki-agent', format: resolveLogFormat(flags.logFormat, process.stderr.isTTY), ...(flags.logLevel ? { level: flags.logLevel } : {}) });
      const agent = new NodeAgent({
        kubeconfig: flags.kubeconfig,
        ...(flags.bootstrapKubeconfig ? { bootstrapKubeconfig: flags.bootstrapKubeconfig } : {}),
        certDir: flags.certDir,
        ...(flags.nodeName ? { nodeName: flags.nodeName } : {}),
        ...(flags.hostnameOverride ? { hostnameOverride: flags.hostnameOverride } : {}),
        ...(flags.nodeIp ? { nodeIPs: flags.nodeIp } : {}),
        rotateCertificates: goBool('--rotate-certificates', flags.rotateCertificates, false),
        rotateServerCertificates: goBool('--rotate-server-certificates', flags.rotateServerCertificates, false),
        ...(port > 0 ? { healthzPort: port, healthzBindAddress: flags.healthzBindAddress } : {}),
        caSyncIntervalMs,
        ...(discovery ? { discovery } : {}),
        logger,
        ...(await customCaTrustOptions(flags, logger)),
      });
      let stopSignal: (() => void) | undefined;
      const stopped = new Promise<void>((resolve) => (stopSignal = resolve));
      const onSignal = (sig: string) => {
        logger.info({ signal: sig }, 'stopping');
        stopSignal?.();
      };
      const onInt = () => onSignal('SIGINT');
      const onTerm = () => onSignal('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
      try {
        const ready = await Promise.race([agent.start().then(() => true), stopped.then(() => false)]);
        if (ready) {
          logger.info({ node: agent.nodeName, healthzPort: agent.healthzPort }, 'the node has a usable client certificate');
          await stopped;
        }
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        await agent.stop();
      }
    });
}
