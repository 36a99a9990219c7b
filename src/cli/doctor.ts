// `kubepki doctor`: reads the whole PKI, every kubeconfig and optionally a node's kubelet certificates,
// and (with --server or --kubeconfig) connects as each identity; prints each broken link with the text the
// real component logs, who is affected and the fix. Exit 0 healthy, 1 warnings only, 2 something broken.
import type { Command } from 'commander';
import { checkOutput, readConfigFlags, type ConfigDirFlags } from './options.js';

interface DoctorFlags extends ConfigDirFlags {
  kubeletCertDir?: string;
  server?: string;
  kubeconfig?: string[];
  requestheaderAllowedNames?: string;
  at?: string;
  output: string;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Check the cluster PKI, kubeconfigs and kubelet certificates for every broken link; prints the error each component would log, who is affected and the fix (exit 0 ok, 1 warnings, 2 broken)')
    .option('--cert-dir <dir>', 'the path where the certificates are stored', '/etc/kubernetes/pki')
    .option('--kubeconfig-dir <dir>', 'the path where the kubeconfig files are stored', '/etc/kubernetes')
    .option('--config <file>', 'a kubepki or kubeadm configuration file (its certificatesDir is used)')
    .option('--kubelet-cert-dir <dir>', "a node's kubelet certificate directory (kubelet-client-current.pem, kubelet-server-current.pem)")
    .option('--requestheader-allowed-names <names>', "the API server's --requestheader-allowed-names (comma list)", 'front-proxy-client')
    .option('--server <url>', 'connect to this API server as each kubeconfig identity (overrides their server URLs)')
    .option('--kubeconfig <file>', 'also connect with this kubeconfig (repeatable); implies a live check', (v: string, prev: string[] = []) => [...prev, v])
    .option('--at <time>', 'check as of this RFC 3339 time instead of now (e.g. to see what breaks next month)')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .action(async (flags: DoctorFlags, cmd: Command) => {
      const output = await checkOutput(flags.output, ['text', 'json']);
      const { certDir, kubeconfigDir } = await readConfigFlags(flags, cmd);
      const { KubepkiError } = await import('../util/errors.js');
      if (flags.at !== undefined && Number.isNaN(Date.parse(flags.at))) throw new KubepkiError('InvalidArgument', `--at: "${flags.at}" is not an RFC 3339 time`);
      const now = flags.at ? new Date(flags.at) : new Date();
      const { readPkiSnapshot, readKubeconfigFile } = await import('../cluster/doctor/snapshot.js');
      const { diagnose } = await import('../cluster/doctor/checks.js');
      const allowed = (flags.requestheaderAllowedNames ?? '').split(',').map((n) => n.trim()).filter(Boolean);
      const snapshot = await readPkiSnapshot({ certDir, kubeconfigDir, kubeletDir: flags.kubeletCertDir, requestHeaderAllowedNames: allowed, now });
      const findings = diagnose(snapshot);
      if (flags.server || flags.kubeconfig) {
        const { probeLive } = await import('../cluster/doctor/live.js');
        const extra = await Promise.all((flags.kubeconfig ?? []).map((f) => readKubeconfigFile(f)));
        const targets = [...(flags.server ? snapshot.kubeconfigs : []), ...extra];
        findings.push(...(await probeLive(targets, { server: flags.server, now })));
      }
      const errors = findings.filter((f) => f.severity === 'error').length;
      const warnings = findings.length - errors;
      if (output === 'json') {
        process.stdout.write(JSON.stringify({ certDir, kubeconfigDir, checkedAt: now.toISOString(), errors, warnings, findings }, null, 2) + '\n');
      } else {
        const lines: string[] = [];
        for (const f of findings) {
          lines.push(`${f.severity === 'error' ? 'BROKEN ' : 'WARNING'} ${f.file} [${f.check}]`);
          lines.push(`  error:    ${f.message}`);
          lines.push(`  seen as:  ${f.seenAs}`);
          lines.push(`  affects:  ${f.affected}`);
          lines.push(`  fix:      ${f.fix}`);
        }
        lines.push(findings.length === 0 ? `PKI in ${certDir} and kubeconfigs in ${kubeconfigDir}: no problems found` : `${errors} broken, ${warnings} warning${warnings === 1 ? '' : 's'}`);
        process.stdout.write(lines.join('\n') + '\n');
      }
      process.exitCode = errors > 0 ? 2 : warnings > 0 ? 1 : 0;
    });
}
