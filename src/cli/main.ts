// The kubepki command line: one file per command under src/cli/, wired here. Parsing and printing only.
import { Command, CommanderError } from 'commander';
import { isKubepkiError } from '../util/errors.js';

/** Each command module exports a function that adds its command (and subcommands) to the program. */
export type CommandRegistrar = (program: Command) => void;

const registrars: (() => Promise<{ register: CommandRegistrar }>)[] = [
  // Commands are loaded lazily so that `kubepki --help` and small commands start fast.
  () => import('./cfssl.js'),
  () => import('./init.js'),
  () => import('./certs.js'),
  () => import('./serve.js'),
  () => import('./controllers.js'),
  () => import('./token.js'),
  () => import('./agent.js'),
  () => import('./trust.js'),
  () => import('./doctor.js'),
  () => import('./dashboard.js'),
  () => import('./ca.js'),
];

/**
 * Commands that can be loaded alone when they are the one invoked (their module registers only themselves), so
 * `kubepki init` does not first load every other command's module graph (the server's, for one).
 */
const standalone: Record<string, () => Promise<{ register: CommandRegistrar }>> = {
  init: () => import('./init.js'),
  certs: () => import('./certs.js'),
  agent: () => import('./agent.js'),
  doctor: () => import('./doctor.js'),
  dashboard: () => import('./dashboard.js'),
};

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

export async function main(argv: string[]): Promise<number> {
  const command = argv.find((a) => !a.startsWith('-'));
  const only = command !== undefined && Object.hasOwn(standalone, command) ? standalone[command] : undefined;
  const modules = await Promise.all((only ? [only] : registrars).map((load) => load()));
  const program = buildProgram(modules.map((m) => m.register));
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
