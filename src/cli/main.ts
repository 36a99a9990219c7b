// The kubepki command line: one file per command under src/cli/, wired here. Parsing and printing only.
import { Command, CommanderError, type Help } from 'commander';
import { isKubepkiError } from '../util/errors.js';
import { invokedCommandName } from './invoked-command.js';

/** Each command module exports a function that adds its command (and subcommands) to the program. */
export type CommandRegistrar = (program: Command) => void;

/** One top-level command: its help line (`name [options]` as commander prints it), its description, its module. */
export interface CommandEntry {
  term: string;
  description: string;
  load: () => Promise<{ register: CommandRegistrar }>;
}

/**
 * Every top-level command, in help order. Only the module of the command that runs is loaded (`kubepki --help`
 * and `--version` load none), so each command starts with its own module graph alone. Adding a command is one
 * row; test/cli/command-table.test.ts checks each row against what its module registers.
 */
export const COMMANDS: CommandEntry[] = [
  { term: 'cfssl', description: 'cfssl-compatible commands: read cfssl csr.json / ca-config.json, print cfssl JSON for cfssljson', load: () => import('./cfssl.js') },
  { term: 'init [options]', description: 'Write the kubeadm cluster PKI (CAs, certificates, service-account keys) and kubeconfigs; existing valid files are kept', load: () => import('./init.js') },
  { term: 'certs', description: 'Commands related to handling Kubernetes certificates', load: () => import('./certs.js') },
  { term: 'serve [options]', description: 'Run the Kubernetes-compatible API server for certificates.k8s.io CertificateSigningRequests and the objects they need', load: () => import('./serve.js') },
  { term: 'controllers [options]', description: 'Run the certificate controllers of kube-controller-manager (csrapproving, csrsigning, csrcleaner, root-ca-cert-publisher, bootstrapsigner, tokencleaner) against an API server', load: () => import('./controllers.js') },
  { term: 'token', description: 'Manage bootstrap tokens: Secrets "bootstrap-token-<id>" of type bootstrap.kubernetes.io/token in kube-system', load: () => import('./token.js') },
  { term: 'agent [options]', description: 'Run the node agent: TLS bootstrap with a bootstrap token, then client (and serving) certificate rotation, as the kubelet does', load: () => import('./agent.js') },
  { term: 'trust', description: 'Custom CA trust on the nodes: Secret kube-system/custom-ca-trust-secret', load: () => import('./trust.js') },
  { term: 'ca', description: 'Cluster CA operations', load: () => import('./ca.js') },
  { term: 'doctor [options]', description: 'Check the cluster PKI, kubeconfigs and kubelet certificates for every broken link; prints the error each component would log, who is affected and the fix (exit 0 ok, 1 warnings, 2 broken)', load: () => import('./doctor.js') },
  { term: 'dashboard [options]', description: "Serve the certificate trust dashboard (trust graph, expiry timeline, CSR queue, nodes, CA rotation) on 127.0.0.1, acting as the kubeconfig's identity; it opens for the OS user who starts it, anyone else needs the access link it prints", load: () => import('./dashboard.js') },
];

const nameOf = (entry: CommandEntry): string => entry.term.split(' ')[0]!;

export function buildProgram(extra: CommandRegistrar[] = []): Command {
  const program = new Command('kubepki')
    .description('The Kubernetes certificate system: cluster PKI, certificate API server, controllers and node agent')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const r of extra) r(program);
  return program;
}

/**
 * The program for one invocation: the invoked command's module registered for real, every other command as a
 * stub (name and description only), enough for the top-level help, `--version` and "unknown command". A run of
 * a known command without a help flag (`-h token` prints the top-level help) never shows the others: no stubs.
 */
async function programFor(argv: string[]): Promise<Command> {
  const name = invokedCommandName(argv);
  const invoked = COMMANDS.find((c) => nameOf(c) === name);
  const stubs = !invoked || argv.some((a) => a === '-h' || a === '--help');
  const registrars = await Promise.all(
    COMMANDS.filter((entry) => entry === invoked || stubs).map(async (entry): Promise<CommandRegistrar> =>
      entry === invoked ? (await entry.load()).register : (p) => void p.command(nameOf(entry)).description(entry.description),
    ),
  );
  const program = buildProgram(registrars);
  const stubTerms = new Map(COMMANDS.filter((c) => c !== invoked).map((c) => [nameOf(c), c.term]));
  const help = program.createHelp();
  program.configureHelp({ subcommandTerm: (cmd: Command): string => stubTerms.get(cmd.name()) ?? (help as Help).subcommandTerm(cmd) });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = await programFor(argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has already printed its one-line message (unknown option, missing argument, --help).
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isKubepkiError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
