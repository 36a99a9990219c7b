// Option handling the cluster-PKI commands (init, certs) share: the --output check, the --config file with
// the directories it may name, and flags that override the file's fields. Modules load on use, as the
// commands' own do, so that `kubepki --help` stays fast.
import type { Command } from 'commander';
import type { ClusterConfigInput, FieldNames } from '../cluster/config.js';

/** Returns --output's value when it is one of `allowed`; else one clear error. */
export async function checkOutput(value: string, allowed: readonly string[]): Promise<string> {
  if (!allowed.includes(value)) {
    const { KubepkiError } = await import('../util/errors.js');
    const choices = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed.join('');
    throw new KubepkiError('InvalidArgument', `--output: unknown format "${value}" (use ${choices})`);
  }
  return value;
}

export interface ConfigDirFlags {
  certDir: string;
  kubeconfigDir: string;
  config?: string;
}

/**
 * --cert-dir / --kubeconfig-dir, or the --config file's directories when those flags were not given on the
 * command line; with the file's fields and their names as written in it (for error messages).
 */
export async function readConfigFlags(
  flags: ConfigDirFlags,
  cmd: Command,
): Promise<{ certDir: string; kubeconfigDir: string; input: ClusterConfigInput; fieldNames: FieldNames }> {
  let certDir = flags.certDir;
  let kubeconfigDir = flags.kubeconfigDir;
  if (flags.config === undefined) return { certDir, kubeconfigDir, input: {}, fieldNames: {} };
  const { parseConfigFile } = await import('../cluster/config.js');
  const { readRequired } = await import('../cluster/pki-dir.js');
  const file = await parseConfigFile(await readRequired(flags.config), flags.config);
  if (file.certificatesDir !== undefined && cmd.getOptionValueSource('certDir') !== 'cli') certDir = file.certificatesDir;
  if (file.kubeconfigDir !== undefined && cmd.getOptionValueSource('kubeconfigDir') !== 'cli') kubeconfigDir = file.kubeconfigDir;
  return { certDir, kubeconfigDir, input: file.input, fieldNames: { ...file.names } };
}

/** Flags given on the command line win over the file: each sets its field and names itself in errors. */
export function overrideWithFlags(input: ClusterConfigInput, fieldNames: FieldNames, fromFlags: [keyof ClusterConfigInput, string | undefined][]): void {
  for (const [field, value] of fromFlags) {
    if (value === undefined) continue;
    (input as Record<string, unknown>)[field] = value;
    delete fieldNames[field];
  }
}
