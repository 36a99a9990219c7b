// `kubepki certs check-expiration | renew | inspect`: kubeadm's `certs` commands plus a readable dump of a file.
// Parsing and printing only: the work is in src/cluster (expiration.ts, renew.ts, inspect.ts), loaded on use.
import type { Command } from 'commander';
import type { ExpirationEntry, ExpirationInfo } from '../cluster/expiration.js';
import { checkOutput, overrideWithFlags, readConfigFlags, type ConfigDirFlags } from './options.js';
import { formatTime } from '../util/time.js';
import { registerVerify } from './certs-verify.js';

export function register(program: Command): void {
  const certs = program.command('certs').description('Commands related to handling Kubernetes certificates');

  certs
    .command('check-expiration')
    .description('Check certificates expiration for the cluster PKI (including the certificates embedded in kubeconfigs)')
    .option('--cert-dir <dir>', 'the path where the certificates are stored', '/etc/kubernetes/pki')
    .option('--kubeconfig-dir <dir>', 'the path where the kubeconfig files are stored', '/etc/kubernetes')
    .option('--config <file>', 'a kubepki or kubeadm configuration file (its certificatesDir is used)')
    .option('--kubelet-cert-dir <dir>', "also list a node's kubelet-client-current.pem and kubelet-server-current.pem from this directory (found in --cert-dir too)")
    .option('-o, --output <format>', 'output format: text, json or yaml', 'text')
    .action(async (flags: ConfigDirFlags & { output: string; kubeletCertDir?: string }, cmd: Command) => {
      const output = await checkOutput(flags.output, ['text', 'json', 'yaml']);
      const { certDir, kubeconfigDir } = await readConfigFlags(flags, cmd);
      const { checkExpiration } = await import('../cluster/expiration.js');
      const info = await checkExpiration({ certDir, kubeconfigDir, ...(flags.kubeletCertDir ? { kubeletCertDir: flags.kubeletCertDir } : {}) });
      if (output === 'text') process.stdout.write(formatExpirationTable(info));
      else {
        const doc = expirationDocument(info);
        if (output === 'json') process.stdout.write(JSON.stringify(doc, null, 4) + '\n');
        else process.stdout.write((await import('yaml')).stringify(doc));
      }
    });

  certs
    .command('renew')
    .description('Renew certificates: same subject, SANs and usages, new key, serial and validity, signed by the current CA; old files kept as <file>.<time>.bak')
    .argument('<name...>', 'apiserver, apiserver-kubelet-client, front-proxy-client, etcd-server, etcd-peer, etcd-healthcheck-client, apiserver-etcd-client, admin.conf, super-admin.conf, controller-manager.conf, scheduler.conf, or all')
    .option('--cert-dir <dir>', 'the path where the certificates are stored', '/etc/kubernetes/pki')
    .option('--kubeconfig-dir <dir>', 'the path where the kubeconfig files are stored', '/etc/kubernetes')
    .option('--config <file>', 'a kubepki or kubeadm configuration file (certificatesDir, certificateValidityPeriod, encryptionAlgorithm)')
    .option('--certificate-validity-period <duration>', 'validity of the renewed certificates, Go duration (default 8760h)')
    .option('--encryption-algorithm <alg>', 'algorithm of the new keys (default: that of the key being replaced)')
    .action(async (names: string[], flags: ConfigDirFlags & { certificateValidityPeriod?: string; encryptionAlgorithm?: string }, cmd: Command) => {
      const { resolveRenewSettings } = await import('../cluster/config.js');
      const { renewCertificates, renewTargets } = await import('../cluster/renew.js');
      const all = renewTargets(names).all;
      const { certDir, kubeconfigDir, input, fieldNames } = await readConfigFlags(flags, cmd);
      overrideWithFlags(input, fieldNames, [
        ['certificateValidityPeriod', flags.certificateValidityPeriod],
        ['encryptionAlgorithm', flags.encryptionAlgorithm],
      ]);
      const settings = resolveRenewSettings(input, fieldNames);
      const results = await renewCertificates({ certDir, kubeconfigDir, names, ...settings });
      const out: string[] = [];
      for (const r of results) out.push(r.status === 'missing' ? `MISSING! ${r.longName}` : `${r.longName} renewed`);
      const backups = results.flatMap((r) => r.backups);
      if (backups.length > 0) out.push('', 'Previous files kept as:', ...backups.map((b) => `  ${b}`));
      if (all) out.push('', 'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.');
      process.stdout.write(out.join('\n') + '\n');
    });

  certs
    .command('inspect')
    .description('Show what a certificate, certificate bundle, CSR, key or kubeconfig file contains (like openssl x509 -text / cfssl certinfo; keys are never printed)')
    .argument('<file>', 'the file to inspect')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .action(async (file: string, flags: { output: string }) => {
      const output = await checkOutput(flags.output, ['text', 'json']);
      const { readRequired } = await import('../cluster/pki-dir.js');
      const { inspectFile } = await import('../cluster/inspect.js');
      const inspection = await inspectFile(await readRequired(file), file);
      if (output === 'json') {
        const { text: _text, ...rest } = inspection;
        process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
      } else process.stdout.write(inspection.text);
    });

  registerVerify(certs);
}

/** kubeadm's output API object (output.kubeadm.k8s.io/v1alpha3 CertificateExpirationInfo). */
function expirationDocument(info: ExpirationInfo): object {
  const entry = (e: ExpirationEntry) => ({
    name: e.name,
    expirationDate: e.expirationDate ? formatTime(e.expirationDate) : null,
    residualTime: e.residualTimeSeconds,
    externallyManaged: e.externallyManaged,
    ...(e.caName ? { caName: e.caName } : {}),
    missing: e.missing,
  });
  return {
    kind: 'CertificateExpirationInfo',
    apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
    certificates: info.certificates.map(entry),
    certificateAuthorities: info.certificateAuthorities.map(entry),
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number) => String(n).padStart(2, '0');

/** Go's "Jan 02, 2006 15:04 MST" in UTC. */
export function formatExpiry(d: Date): string {
  return `${MONTHS[d.getUTCMonth()]} ${pad2(d.getUTCDate())}, ${d.getUTCFullYear()} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
}

/** apimachinery's duration.ShortHumanDuration. */
export function shortHumanDuration(seconds: number): string {
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** kubeadm's check-expiration table (its certTextPrinter through a Go tabwriter: minwidth 10, padding 3). */
export function formatExpirationTable(info: ExpirationInfo): string {
  const yesNo = (b: boolean) => (b ? 'yes' : 'no').padEnd(8);
  const lines = ['CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED'];
  for (const c of info.certificates) {
    if (c.missing) lines.push(`!MISSING! ${c.name}\t\t\t\t`);
    else lines.push(`${c.name}\t${formatExpiry(c.expirationDate!)}\t${shortHumanDuration(c.residualTimeSeconds)}\t${c.caName ?? ''}\t${yesNo(c.externallyManaged)}`);
  }
  lines.push('');
  lines.push('CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED');
  for (const ca of info.certificateAuthorities) {
    if (ca.missing) lines.push(`!MISSING! ${ca.name}\t\t\t`);
    else lines.push(`${ca.name}\t${formatExpiry(ca.expirationDate!)}\t${shortHumanDuration(ca.residualTimeSeconds)}\t${yesNo(ca.externallyManaged)}`);
  }
  return tabwrite(lines, { minwidth: 10, padding: 3 });
}

/** A cell's width as tabwriter counts it, in code points (`[...s].length`, without making that array). */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * Go's text/tabwriter for these tables: tab-terminated cells are padded to the widest cell of their column
 * (plus padding, at least minwidth) within each block of consecutive lines; the text after the last tab is
 * written as is.
 */
export function tabwrite(lines: string[], options: { minwidth: number; padding: number }): string {
  const out: string[] = [];
  let block: string[][] = [];
  const flush = () => {
    const widths: number[] = [];
    for (const cells of block) {
      for (let j = 0; j < cells.length - 1; j++) widths[j] = Math.max(widths[j] ?? options.minwidth, codePoints(cells[j]!) + options.padding);
    }
    for (const cells of block) out.push(cells.map((c, j) => (j < cells.length - 1 ? c + ' '.repeat(widths[j]! - codePoints(c)) : c)).join(''));
    block = [];
  };
  for (const line of lines) {
    if (!line.includes('\t')) {
      flush();
      out.push(line);
    } else block.push(line.split('\t'));
  }
  flush();
  return out.join('\n') + '\n';
}
