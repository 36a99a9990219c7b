// `kubepki certs verify CERT`: validates a certificate as Go's crypto/x509 does (the verifier kube-apiserver,
// kubectl and the kubelet run) and, on failure, prints the error Go would print, word for word.
import type { Command } from 'commander';
import { checkOutput } from './options.js';
import { KubepkiError } from '../util/errors.js';

/** Where Go looks for the system roots on Linux (crypto/x509/root_linux.go), first found wins. */
const GO_SYSTEM_ROOT_FILES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/tls/cacert.pem', '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/etc/ssl/cert.pem'];

interface VerifyFlags {
  ca?: string;
  untrusted?: string[];
  purpose: string;
  name?: string;
  at?: string;
  output: string;
}

export function registerVerify(certs: Command): void {
  certs
    .command('verify')
    .description("Validate a certificate as Go's crypto/x509 does (chains through intermediates and cross-signed CAs, validity, basic constraints, path length, EKUs, name constraints, host names); on failure print Go's error and exit 1")
    .argument('<cert>', 'PEM file: the certificate, optionally followed by the intermediates a server would send')
    .option('--ca <bundle>', 'trusted roots (PEM bundle); default: the system roots Go would load')
    .option('--untrusted <chain>', 'intermediates (PEM bundle); may be repeated', (v: string, prev: string[] = []) => [...prev, v])
    .option('--purpose <purpose>', 'server, client or any (Go: ExtKeyUsageServerAuth, ClientAuth, Any)', 'server')
    .option('--name <host>', 'the DNS name or IP address a client dials (Go: VerifyOptions.DNSName)')
    .option('--at <time>', 'verify at this RFC 3339 time instead of now')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .action(async (file: string, flags: VerifyFlags) => {
      const output = await checkOutput(flags.output, ['text', 'json']);
      if (!['server', 'client', 'any'].includes(flags.purpose)) throw new KubepkiError('InvalidArgument', `--purpose: "${flags.purpose}" is not one of server, client, any`);
      const now = flags.at === undefined ? new Date() : parseTime(flags.at);
      const { readRequired, readOptional } = await import('../cluster/pki-dir.js');
      const { parseCertificatesPem } = await import('../x509/certificate.js');
      const { validatePath } = await import('../x509/path-validation/index.js');
      const presented = parseCertificatesPem(await readRequired(file), file);
      const intermediates = presented.slice(1);
      for (const u of flags.untrusted ?? []) intermediates.push(...parseCertificatesPem(await readRequired(u), u));
      let rootsText: string | undefined;
      let rootsFrom = flags.ca;
      if (flags.ca !== undefined) rootsText = await readRequired(flags.ca);
      else {
        for (const f of GO_SYSTEM_ROOT_FILES) {
          rootsText = await readOptional(f);
          if (rootsText !== undefined) {
            rootsFrom = f;
            break;
          }
        }
        if (rootsText === undefined) throw new KubepkiError('FileMissing', 'x509: failed to load system roots and no roots provided (pass --ca)');
      }
      const roots = parseCertificatesPem(rootsText, rootsFrom);
      const result = validatePath(presented[0]!, { roots, intermediates, now, dnsName: flags.name, purposes: [flags.purpose as 'server' | 'client' | 'any'] });
      if (output === 'json') {
        const { formatName } = await import('../x509/names.js');
        const { fingerprint } = await import('../x509/certificate.js');
        const doc = result.ok
          ? {
              valid: true,
              chains: result.chains.map((chain) =>
                chain.map((c) => ({
                  subject: formatName(c.subject),
                  issuer: formatName(c.issuer),
                  serialNumber: c.serialNumber,
                  notBefore: c.notBefore.toISOString(),
                  notAfter: c.notAfter.toISOString(),
                  isCA: c.isCA,
                  sha256Fingerprint: fingerprint(c),
                })),
              ),
            }
          : { valid: false, error: result.error };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } else if (result.ok) {
        const { formatName } = await import('../x509/names.js');
        const lines = [`${file}: OK`];
        result.chains.forEach((chain, i) => lines.push(`chain ${i + 1}: ${chain.map((c) => formatName(c.subject)).join(' -> ')}`));
        process.stdout.write(lines.join('\n') + '\n');
      } else {
        process.stderr.write(result.error + '\n');
      }
      if (!result.ok) process.exitCode = 1;
    });
}

function parseTime(text: string): Date {
  // RFC 3339 (Go's time.RFC3339 layout): a date, "T", a time, and "Z" or an offset.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(Date.parse(text))) {
    throw new KubepkiError('InvalidArgument', `--at: "${text}" is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)`);
  }
  return new Date(text);
}
