// `kubepki cfssl gencert|sign|genkey|certinfo`: cfssl's commands with cfssl's single-dash flags
// (-initca, -ca=ca.pem, -ca-key ca-key.pem, ...), printing cfssl's JSON so `cfssljson -bare NAME` works.
import { Command } from 'commander';
import { isKubepkiError, KubepkiError } from '../util/errors.js';
import { parseCertificatesPem } from '../x509/index.js';
import {
  formatCertInfo,
  formatCfsslResponse,
  gencert,
  genkey,
  parseCaConfig,
  parseCsrJson,
  sign,
  type CaFiles,
  type SigningPolicy,
} from '../cfssl/index.js';
import { readBoundedFile, readBoundedStream } from '../util/bounded-file.js';

/**
 * A command that reads Go-style flags: `-name`, `-name=value`, `-name value` (and `--name...`) become
 * commander's `--name` for the options it defines; `-bool=false` drops the flag. Only cfssl commands
 * use it, so the rest of the CLI keeps POSIX flags.
 */
class GoFlagCommand extends Command {
  override createCommand(name?: string): Command {
    return new GoFlagCommand(name);
  }

  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    return super.parseOptions(normaliseGoFlags(argv, this));
  }
}

export function normaliseGoFlags(argv: readonly string[], command: Command): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=([\s\S]*))?$/.exec(arg);
    if (!m) {
      out.push(arg);
      continue;
    }
    const [, name, value] = m;
    if (name === 'h' || name === 'help') {
      out.push('--help');
      continue;
    }
    const option = command.options.find((o) => o.long === `--${name}`);
    if (!option) {
      out.push(arg);
      continue;
    }
    const takesValue = option.required || option.optional;
    if (!takesValue && value !== undefined) {
      if (/^(1|t|true|T|TRUE|True)$/.test(value)) out.push(`--${name}`);
      else if (!/^(0|f|false|F|FALSE|False)$/.test(value)) {
        throw new KubepkiError('InvalidArgument', `invalid boolean value "${value}" for -${name}`);
      }
      continue;
    }
    out.push(value === undefined ? `--${name}` : `--${name}=${value}`);
  }
  return out;
}


/** Reads a file named on the command line; "-" is stdin. One clear line when it cannot be read. */
async function readInput(file: string, what: string): Promise<string> {
  if (file === '-') return readBoundedStream(process.stdin, 'stdin');
  try {
    return await readBoundedFile(file);
  } catch (err) {
    if (isKubepkiError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new KubepkiError('FileMissing', `cannot read ${what} ${file}: ${why}`, { cause: err });
  }
}

interface SignerFlags {
  ca?: string;
  caKey?: string;
  config?: string;
  profile?: string;
  hostname?: string;
}

async function readCaFiles(flags: SignerFlags): Promise<Partial<CaFiles>> {
  const out: Partial<CaFiles> = {};
  if (flags.ca !== undefined) Object.assign(out, { certPem: await readInput(flags.ca, 'CA certificate'), certSource: flags.ca });
  if (flags.caKey !== undefined) Object.assign(out, { keyPem: await readInput(flags.caKey, 'CA key'), keySource: flags.caKey });
  return out;
}

async function readPolicy(flags: SignerFlags): Promise<SigningPolicy | undefined> {
  if (flags.config === undefined) return undefined;
  const policy = parseCaConfig(await readInput(flags.config, 'config'), flags.config);
  for (const w of policy.warnings) process.stderr.write(`warning: ${w}\n`);
  return policy;
}

function signerOptions(cmd: Command): Command {
  return cmd
    .option('--ca <file>', 'CA certificate used to sign (PEM)')
    .option('--ca-key <file>', 'CA private key (PEM)')
    .option('--config <file>', 'cfssl ca-config.json with the signing profiles')
    .option('--profile <name>', 'signing profile of the config to use')
    .option('--hostname <list>', 'comma list of hosts (DNS names, IPs, e-mails, URIs) replacing the request\'s')
    .option('--label <label>', 'ignored (cfssl key label for remote signers)')
    .option('--loglevel <level>', 'ignored (cfssl log level)');
}

export function register(program: Command): void {
  const cfssl = new GoFlagCommand('cfssl')
    .description('cfssl-compatible commands: read cfssl csr.json / ca-config.json, print cfssl JSON for cfssljson')
    .copyInheritedSettings(program);
  program.addCommand(cfssl);

  signerOptions(
    cfssl
      .command('gencert')
      .description('generate a key and a certificate from a csr.json: -initca for a self-signed CA, or -ca -ca-key [-config -profile]')
      .argument('<csrjson>', 'cfssl CSR request (JSON); "-" reads stdin')
      .option('--initca', 'make a new self-signed CA'),
  ).action(async (csrFile: string, flags: SignerFlags & { initca?: boolean }) => {
    const request = parseCsrJson(await readInput(csrFile, 'CSR request'), csrFile === '-' ? 'stdin' : csrFile);
    const [ca, policy] = [await readCaFiles(flags), await readPolicy(flags)];
    const result = await gencert({
      request,
      initca: flags.initca === true,
      ca,
      ...(policy ? { policy } : {}),
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
      ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
    });
    process.stdout.write(formatCfsslResponse(result));
  });

  signerOptions(
    cfssl
      .command('sign')
      .description('sign a PEM certificate request with -ca -ca-key [-config -profile -hostname]')
      .argument('<csr>', 'PKCS#10 request (PEM); "-" reads stdin'),
  ).action(async (csrFile: string, flags: SignerFlags) => {
    const csrPem = await readInput(csrFile, 'certificate request');
    const [ca, policy] = [await readCaFiles(flags), await readPolicy(flags)];
    const result = await sign({
      csrPem,
      csrSource: csrFile === '-' ? 'stdin' : csrFile,
      ca,
      ...(policy ? { policy } : {}),
      ...(flags.profile !== undefined ? { profile: flags.profile } : {}),
      ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
    });
    process.stdout.write(formatCfsslResponse(result));
  });

  cfssl
    .command('genkey')
    .description('generate a key and a certificate request from a csr.json (-initca: also the self-signed CA)')
    .argument('<csrjson>', 'cfssl CSR request (JSON); "-" reads stdin')
    .option('--initca', 'also make the self-signed CA certificate')
    .option('--config <file>', 'ignored (accepted as cfssl accepts it)')
    .option('--loglevel <level>', 'ignored (cfssl log level)')
    .action(async (csrFile: string, flags: { initca?: boolean }) => {
      const request = parseCsrJson(await readInput(csrFile, 'CSR request'), csrFile === '-' ? 'stdin' : csrFile);
      process.stdout.write(formatCfsslResponse(await genkey({ request, initca: flags.initca === true })));
    });

  cfssl
    .command('certinfo')
    .description('print cfssl\'s JSON description of a certificate')
    .option('--cert <file>', 'certificate (PEM; the first of a bundle); "-" reads stdin')
    .option('--csr <file>', 'not supported by kubepki (use `kubepki certs inspect`)')
    .option('--domain <host>', 'not supported by kubepki (kubepki never connects to servers for this)')
    .option('--loglevel <level>', 'ignored (cfssl log level)')
    .action(async (flags: { cert?: string; csr?: string; domain?: string }) => {
      if (flags.csr !== undefined || flags.domain !== undefined) {
        throw new KubepkiError('Unsupported', `certinfo: -${flags.csr !== undefined ? 'csr' : 'domain'} is not supported; use -cert FILE`);
      }
      if (flags.cert === undefined) throw new KubepkiError('InvalidArgument', 'certinfo: give the certificate with -cert FILE');
      const cert = parseCertificatesPem(await readInput(flags.cert, 'certificate'), flags.cert === '-' ? 'stdin' : flags.cert)[0]!;
      process.stdout.write(formatCertInfo(cert));
    });
}
