// `kubepki init`: kubeadm's certs and kubeconfig phases, with kubeadm's flag names. Parsing and printing only;
// the work is initClusterPki (src/cluster/init.ts), loaded when the command runs so other commands start fast.
import type { Command } from 'commander';
import { checkOutput, overrideWithFlags, readConfigFlags, type ConfigDirFlags } from './options.js';
import type { InitSummary } from '../cluster/init.js';

interface InitFlags extends ConfigDirFlags {
  nodeName?: string;
  apiserverAdvertiseAddress?: string;
  apiserverBindPort?: string;
  apiserverCertExtraSans?: string;
  controlPlaneEndpoint?: string;
  serviceCidr?: string;
  serviceDnsDomain?: string;
  encryptionAlgorithm?: string;
  certificateValidityPeriod?: string;
  caCertificateValidityPeriod?: string;
  output: string;
}

export function register(program: Command): void {
  program
    .command('init')
    .description('Write the kubeadm cluster PKI (CAs, certificates, service-account keys) and kubeconfigs; existing valid files are kept')
    .option('--cert-dir <dir>', 'the path where to save and store the certificates', '/etc/kubernetes/pki')
    .option('--kubeconfig-dir <dir>', 'the path where to save the kubeconfig files', '/etc/kubernetes')
    .option('--config <file>', 'a YAML file: kubepki ClusterPKIConfiguration, or kubeadm InitConfiguration/ClusterConfiguration (flags override it)')
    .option('--node-name <name>', 'the node name (etcd certificate CN and SANs, kubelet.conf user); default: the host name')
    .option('--apiserver-advertise-address <ip>', 'the IP address the API server advertises; default: the first non-loopback address')
    .option('--apiserver-bind-port <port>', 'the port the API server listens on (default 6443)')
    .option('--apiserver-cert-extra-sans <list>', 'extra Subject Alternative Names (IPs and DNS names, comma separated) for the API server certificate')
    .option('--control-plane-endpoint <host[:port]>', 'a stable IP address or DNS name for the control plane (kubeconfig server and an API server SAN)')
    .option('--service-cidr <cidr>', 'the range of service IPs; its first IP is in the API server certificate (default 10.96.0.0/12)')
    .option('--service-dns-domain <domain>', 'the cluster DNS domain (default cluster.local)')
    .option('--encryption-algorithm <alg>', 'key algorithm: RSA-2048 (default), RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384')
    .option('--certificate-validity-period <duration>', 'validity of the non-CA certificates, Go duration (default 8760h)')
    .option('--ca-certificate-validity-period <duration>', 'validity of the CA certificates, Go duration (default 87600h)')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .action(async (flags: InitFlags, cmd: Command) => {
      await checkOutput(flags.output, ['text', 'json']);
      const { resolveClusterConfig } = await import('../cluster/config.js');
      const { initClusterPki } = await import('../cluster/init.js');

      const { certDir, kubeconfigDir, input, fieldNames: names } = await readConfigFlags(flags, cmd);
      // Flags given on the command line win over the file (and name themselves in errors).
      overrideWithFlags(input, names, [
        ['nodeName', flags.nodeName],
        ['advertiseAddress', flags.apiserverAdvertiseAddress],
        ['bindPort', flags.apiserverBindPort],
        ['apiServerCertSANs', flags.apiserverCertExtraSans],
        ['controlPlaneEndpoint', flags.controlPlaneEndpoint],
        ['serviceSubnet', flags.serviceCidr],
        ['dnsDomain', flags.serviceDnsDomain],
        ['encryptionAlgorithm', flags.encryptionAlgorithm],
        ['certificateValidityPeriod', flags.certificateValidityPeriod],
        ['caCertificateValidityPeriod', flags.caCertificateValidityPeriod],
      ]);
      const config = resolveClusterConfig(input, { names });
      const summary = await initClusterPki({ certDir, kubeconfigDir, config });
      if (flags.output === 'json') process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      else process.stdout.write(formatSummary(summary, certDir, kubeconfigDir));
      for (const w of summary.warnings) process.stderr.write(`[warning] ${w}\n`);
    });
}

/** kubeadm's phase log lines ([certs] ..., [kubeconfig] ...). */
function formatSummary(summary: InitSummary, certDir: string, kubeconfigDir: string): string {
  const out: string[] = [`[certs] Using certificateDir folder "${certDir}"`];
  for (const e of summary.entries) {
    if (e.kind === 'ca') {
      if (e.action === 'generated') out.push(`[certs] Generating "${e.name}" certificate and key`);
      else if (e.action === 'kept') out.push(`[certs] Using existing ${e.name} certificate authority`);
      else out.push(`[certs] External ${e.name} mode: using the existing ${e.name} certificate (no key)`);
    } else if (e.kind === 'leaf') {
      if (e.action === 'generated') {
        out.push(`[certs] Generating "${e.name}" certificate and key`);
        if (e.sans && e.sans.dnsNames.length + e.sans.ipAddresses.length > 0) {
          out.push(`[certs] ${e.baseName ?? e.name} serving cert is signed for DNS names [${e.sans.dnsNames.join(' ')}] and IPs [${e.sans.ipAddresses.join(' ')}]`);
        }
      } else out.push(`[certs] Using existing ${e.name} certificate and key on disk`);
    } else if (e.kind === 'service-account') {
      out.push(e.action === 'generated' ? '[certs] Generating "sa" key and public key' : '[certs] Using the existing "sa" key');
    } else {
      if (e === summary.entries.find((x) => x.kind === 'kubeconfig')) out.push(`[kubeconfig] Using kubeconfig folder "${kubeconfigDir}"`);
      out.push(e.action === 'generated' ? `[kubeconfig] Writing "${e.name}" kubeconfig file` : `[kubeconfig] Using existing kubeconfig file: "${e.files[0]}"`);
    }
  }
  out.push(summary.written.length === 0 ? '[init] Nothing to write: every file already exists and is valid' : `[init] Wrote ${summary.written.length} files`);
  return out.join('\n') + '\n';
}
