// The one module that touches the PKI directory (--cert-dir) and the kubeconfig directory (--kubeconfig-dir):
// where each file lives, reading and parsing what is there (errors name the file), and writing a set of files
// all-or-nothing through the shared atomic writer. Everything above it works on parsed values.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { writeFilesAtomic, type StagedFile } from '../util/atomic-file.js';
import { parseCertificatesPem, type Certificate } from '../x509/certificate.js';
import { parsePrivateKeyPem, parsePublicKeyPem } from '../x509/keys.js';
import { parseKubeconfig, type ParsedKubeconfig } from './kubeconfig.js';
import { readBoundedFileSync } from '../util/bounded-file.js';

/** kubeadm's modes: certificates world-readable, keys and kubeconfigs (which embed keys) owner-only. */
export const CERT_MODE = 0o644;
export const KEY_MODE = 0o600;
export const KUBECONFIG_MODE = 0o600;
/** kubeadm writes sa.pub with its key writer, so 0600 like a key. */
export const PUBLIC_KEY_MODE = 0o600;

export function certPath(certDir: string, baseName: string): string {
  return path.join(certDir, `${baseName}.crt`);
}
export function keyPath(certDir: string, baseName: string): string {
  return path.join(certDir, `${baseName}.key`);
}
export function publicKeyPath(certDir: string, baseName: string): string {
  return path.join(certDir, `${baseName}.pub`);
}
export function kubeconfigPath(kubeconfigDir: string, name: string): string {
  return path.join(kubeconfigDir, name);
}

/**
 * The file's text, or undefined when it does not exist. Any other failure (a directory, no permission) is an error.
 * Read synchronously: PKI files are a few KB on a local disk, read in microseconds, where an asynchronous read is
 * four thread-pool round trips (open, stat, read, close), and a command reads up to dozens (bench:cli: certs
 * inspect starts no thread pool at all, check-expiration sleeps ~140 fewer times).
 */
export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return readBoundedFileSync(file);
  } catch (err) {
    if (err instanceof KubepkiError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new KubepkiError('FileInvalid', `cannot read ${file}: ${code === 'EISDIR' ? 'it is a directory' : (err as Error).message}`, { cause: err });
  }
}

export interface LoadedCertificate {
  path: string;
  text: string;
  /** The first certificate of the file (the leaf of a bundle), and the rest. */
  certificate: Certificate;
  chain: Certificate[];
}

export interface LoadedKey {
  path: string;
  text: string;
  key: KeyObject;
}

/** A .crt/.key pair as found: either side may be absent; what is present is parsed (errors name the file). */
export interface LoadedPair {
  certPath: string;
  keyPath: string;
  cert: LoadedCertificate | undefined;
  key: LoadedKey | undefined;
}

export async function loadCertificateFile(file: string): Promise<LoadedCertificate | undefined> {
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  const chain = parseCertificatesPem(text, file);
  return { path: file, text, certificate: chain[0]!, chain };
}

export async function loadPrivateKeyFile(file: string): Promise<LoadedKey | undefined> {
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  return { path: file, text, key: parsePrivateKeyPem(text, file) };
}

export async function loadPair(certDir: string, baseName: string): Promise<LoadedPair> {
  const cp = certPath(certDir, baseName);
  const kp = keyPath(certDir, baseName);
  const [cert, key] = await Promise.all([loadCertificateFile(cp), loadPrivateKeyFile(kp)]);
  return { certPath: cp, keyPath: kp, cert, key };
}

export interface LoadedServiceAccountKeys {
  keyPath: string;
  pubPath: string;
  key: LoadedKey | undefined;
  pub: { path: string; text: string; key: KeyObject } | undefined;
}

export async function loadServiceAccountKeys(certDir: string, baseName: string): Promise<LoadedServiceAccountKeys> {
  const kp = keyPath(certDir, baseName);
  const pp = publicKeyPath(certDir, baseName);
  const [key, pubText] = await Promise.all([loadPrivateKeyFile(kp), readOptional(pp)]);
  const pub = pubText === undefined ? undefined : { path: pp, text: pubText, key: parsePublicKeyPem(pubText, pp) };
  return { keyPath: kp, pubPath: pp, key, pub };
}

export interface LoadedKubeconfig {
  path: string;
  text: string;
  parsed: ParsedKubeconfig;
}

export async function loadKubeconfig(kubeconfigDir: string, name: string): Promise<LoadedKubeconfig | undefined> {
  const file = kubeconfigPath(kubeconfigDir, name);
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  return { path: file, text, parsed: parseKubeconfig(text, file) };
}

/** A readable file given on the command line (inspect, --config): missing is an error naming it. */
export async function readRequired(file: string): Promise<string> {
  const text = await readOptional(file);
  if (text === undefined) throw new KubepkiError('FileMissing', `cannot read ${file}: no such file`);
  return text;
}

/** Writes every file or none (see writeFilesAtomic); parent directories are created 0755. */
export async function writePkiFiles(files: StagedFile[]): Promise<void> {
  if (files.length === 0) return;
  await writeFilesAtomic(files);
}

/** The mode a file has now (to give its backup the same protection). */
export async function fileMode(file: string): Promise<number> {
  return (await fs.stat(file)).mode & 0o777;
}

export type { StagedFile };

/** A backup name next to `file` that does not exist yet: `<file>.<stamp>.bak` (then -1, -2...). */
export async function freeBackupPath(file: string, stamp: string, taken: Set<string> = new Set()): Promise<string> {
  for (let i = 0; ; i++) {
    const candidate = `${file}.${stamp}${i === 0 ? '' : `-${i}`}.bak`;
    if (taken.has(candidate)) continue;
    try {
      await fs.lstat(candidate);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
      throw err;
    }
  }
}
