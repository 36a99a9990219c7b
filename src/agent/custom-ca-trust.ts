// The node side of custom CA trust (seed 001): installs a set of CA certificates into the node's trust
// store — one file per certificate in a kubepki-owned subfolder of --custom-ca-trust-dir (Debian's
// /usr/local/share/ca-certificates/ by default, which update-ca-certificates reads recursively) — removes
// the ones no longer listed, runs the update command and the optional reload hook, and keeps an optional
// PEM bundle. A set is applied whole or not at all: when a command fails, the previous files are put back
// (and the update command run again for them), the bundle is left as it was, and the error is thrown for
// the caller to report and retry.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { KubepkiError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { writeFileAtomic, writeFilesAtomic } from '../util/atomic-file.js';
import { customCaBundlePem, customCaBundleSha256, distinctCas, type CustomCa } from '../cluster/custom-ca-trust.js';

export const DEFAULT_CUSTOM_CA_TRUST_DIR = '/usr/local/share/ca-certificates/';
export const DEFAULT_CUSTOM_CA_TRUST_UPDATE_COMMAND = 'update-ca-certificates';
/** The subfolder kubepki owns: everything in it is kubepki's to replace; nothing outside it is touched. */
export const CUSTOM_CA_TRUST_SUBDIR = 'kubepki';

export interface CustomCaTrustStoreOptions {
  /** --custom-ca-trust-dir; the certificates go into its `kubepki/` subfolder. */
  dir: string;
  /** --custom-ca-trust-update-command, run with /bin/sh -c; '' runs nothing. */
  updateCommand: string;
  /** --custom-ca-trust-reload-command (e.g. `systemctl restart containerd`), run after the update command. */
  reloadCommand?: string;
  /** --custom-ca-trust-bundle: one PEM file of the custom CAs, for programs that take a CA file. */
  bundleFile?: string;
  /** Kill a command that runs longer (default 2 min). */
  commandTimeoutMs?: number;
  logger?: Logger;
}

export interface AppliedCustomCas {
  sha256: string;
  certificates: number;
  files: string[];
}

/** File name of one certificate: from its key (`ca1.crt` → `ca1.crt`, second certificate `ca1-2.crt`). */
function fileNameOf(ca: CustomCa): string {
  const base = ca.key.replace(/\.(crt|pem|cer)$/i, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '') || 'ca';
  return `${base}${ca.index > 0 ? `-${ca.index + 1}` : ''}.crt`;
}

export class CustomCaTrustStore {
  readonly subdir: string;
  private readonly o: CustomCaTrustStoreOptions;
  private readonly logger: Logger;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: CustomCaTrustStoreOptions) {
    if (!options.dir) throw new KubepkiError('InvalidArgument', '--custom-ca-trust-dir must not be empty');
    this.o = options;
    this.subdir = path.join(path.resolve(options.dir), CUSTOM_CA_TRUST_SUBDIR);
    this.logger = options.logger ?? silentLogger;
  }

  /** Installs exactly `cas` (distinct certificates, in order). Applies run one at a time. */
  apply(cas: readonly CustomCa[]): Promise<AppliedCustomCas> {
    const run = this.queue.then(() => this.applyNow(cas));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(cas: readonly CustomCa[]): Promise<AppliedCustomCas> {
    const wanted = new Map<string, string>();
    for (const ca of distinctCas(cas)) wanted.set(fileNameOf(ca), ca.certificate.pem);
    const before = await this.readInstalled();
    const added = [...wanted].filter(([f, pem]) => before.get(f) !== pem);
    const removed = [...before.keys()].filter((f) => !wanted.has(f));
    const sha256 = customCaBundleSha256(cas);
    try {
      await fs.mkdir(this.subdir, { recursive: true, mode: 0o755 }); // exists even when empty, for the commands
      await writeFilesAtomic(added.map(([f, pem]) => ({ path: path.join(this.subdir, f), data: pem, mode: 0o644 })));
      for (const f of removed) await fs.rm(path.join(this.subdir, f), { force: true });
      await this.runCommand('update', this.o.updateCommand, sha256);
      if (this.o.reloadCommand) await this.runCommand('reload', this.o.reloadCommand, sha256);
      if (this.o.bundleFile) await writeFileAtomic(path.resolve(this.o.bundleFile), customCaBundlePem(cas), { mode: 0o644, mkdirs: true });
    } catch (err) {
      await this.rollBack(before, wanted, sha256);
      throw err;
    }
    if (added.length > 0 || removed.length > 0) {
      this.logger.info({ dir: this.subdir, added: added.map(([f]) => f), removed, sha256 }, 'applied the custom CA certificates');
    }
    return { sha256, certificates: wanted.size, files: [...wanted.keys()].sort() };
  }

  /** Puts the previous set back so the trust store is never left half-applied. */
  private async rollBack(before: Map<string, string>, wanted: Map<string, string>, failedSha: string): Promise<void> {
    try {
      const restore = [...before].filter(([f, pem]) => wanted.get(f) !== pem);
      await writeFilesAtomic(restore.map(([f, pem]) => ({ path: path.join(this.subdir, f), data: pem, mode: 0o644 })));
      for (const f of wanted.keys()) if (!before.has(f)) await fs.rm(path.join(this.subdir, f), { force: true });
      await this.runCommand('update', this.o.updateCommand, failedSha);
    } catch (err) {
      this.logger.error({ dir: this.subdir, err: (err as Error).message }, 'cannot restore the previous custom CA certificates');
    }
  }

  /** The certificates kubepki installed before (its subfolder's *.crt files). */
  async readInstalled(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = await fs.readdir(this.subdir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw new KubepkiError('FileInvalid', `cannot read ${this.subdir}: ${(err as Error).message}`, { cause: err });
    }
    for (const n of names.sort()) if (n.endsWith('.crt') && !n.startsWith('.')) out.set(n, await fs.readFile(path.join(this.subdir, n), 'utf8'));
    return out;
  }

  private runCommand(what: 'update' | 'reload', command: string, sha256: string): Promise<void> {
    if (!command) return Promise.resolve();
    const timeoutMs = this.o.commandTimeoutMs ?? 120_000;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: timeoutMs,
        env: { ...process.env, KUBEPKI_CUSTOM_CA_TRUST_DIR: this.subdir, KUBEPKI_CUSTOM_CA_TRUST_SHA256: sha256 },
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      child.on('error', (err) => reject(new KubepkiError('CommandFailed', `the ${what} command could not run: ${err.message}`, { cause: err })));
      child.on('close', (code, signal) => {
        if (code === 0) return resolve();
        const how = signal ? `was killed (${signal}${signal === 'SIGTERM' ? `, after ${timeoutMs} ms` : ''})` : `exited with status ${code}`;
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new KubepkiError('CommandFailed', `the ${what} command "${command}" ${how}${tail ? `: ${tail}` : ''}`));
      });
    });
  }
}
