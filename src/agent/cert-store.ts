// The kubelet's certificate files in --cert-dir: `<prefix>-<YYYY-MM-DD-HH-MM-SS>.pem` holds a certificate and
// its key (0600), `<prefix>-current.pem` is a symlink to the pair in use (client-go's certificate FileStore).
// The symlink is switched by creating a temp symlink and renaming it over the old one, so at every instant the
// current name resolves to a complete, valid pair; kubelet's remove-then-rename leaves a window this does not.
import { promises as nodeFs } from 'node:fs';
import path from 'node:path';
import { randomBytes, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { validatePath, type PathFailure } from '../x509/path-validation/index.js';
import { systemClock, type Clock } from '../util/clock.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import {
  keyMatchesPublicKey,
  parseCertificatesPem,
  parsePrivateKeyPem,
  privateKeyToPem,
  type Certificate,
} from '../x509/index.js';

/** The two pairs the kubelet keeps: its client identity and its serving certificate. */
export type PairName = 'kubelet-client' | 'kubelet-server';

/** A certificate (with any intermediates) and its private key, as stored in one PEM file. */
export interface CertKeyPair {
  /** The real file holding the pair (what the symlink points at). */
  path: string;
  certificate: Certificate;
  /** The leaf first, then intermediates, as stored. */
  chain: Certificate[];
  privateKey: KeyObject;
  /** Exactly the file's content: certificates then key. */
  pem: string;
}

/** The disk operations the store performs; replaced in tests to simulate ENOSPC, EROFS and crashes. */
export interface StoreFs {
  writeFile(file: string, data: string, mode: number): Promise<void>;
  symlink(target: string, linkPath: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  readlink(file: string): Promise<string>;
  lstat(file: string): Promise<{ isSymbolicLink(): boolean; isFile(): boolean }>;
  readFile(file: string): Promise<string>;
  readdir(dir: string): Promise<string[]>;
  mkdir(dir: string): Promise<void>;
}

export const nodeStoreFs: StoreFs = {
  writeFile: (file, data, mode) => writeFileAtomic(file, data, { mode }),
  symlink: (target, linkPath) => nodeFs.symlink(target, linkPath),
  rename: (from, to) => nodeFs.rename(from, to),
  unlink: (file) => nodeFs.unlink(file),
  readlink: (file) => nodeFs.readlink(file),
  lstat: (file) => nodeFs.lstat(file),
  readFile: (file) => nodeFs.readFile(file, 'utf8'),
  readdir: (dir) => nodeFs.readdir(dir),
  mkdir: async (dir) => {
    await nodeFs.mkdir(dir, { recursive: true, mode: 0o755 });
  },
};

export interface CertificateStoreOptions {
  certDir: string;
  pairName: PairName;
  clock?: Clock;
  fs?: StoreFs;
  /** Pair files kept besides the current one (older ones, and their keys, are removed). Default 1. */
  keepPrevious?: number;
}

const isNotFound = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

/** Go's "2006-01-02-15-04-05" in local time, as the kubelet names its pair files. */
export function pairTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

export class CertificateStore {
  readonly certDir: string;
  readonly pairName: PairName;
  private readonly clock: Clock;
  private readonly fs: StoreFs;
  private readonly keepPrevious: number;

  constructor(options: CertificateStoreOptions) {
    this.certDir = path.resolve(options.certDir);
    this.pairName = options.pairName;
    this.clock = options.clock ?? systemClock;
    this.fs = options.fs ?? nodeStoreFs;
    this.keepPrevious = options.keepPrevious ?? 1;
  }

  /** `<cert-dir>/<pair>-current.pem`, the path kubeconfigs and TLS configs refer to. */
  currentPath(): string {
    return path.join(this.certDir, `${this.pairName}-current.pem`);
  }

  private pairFileRe(): RegExp {
    return new RegExp(`^${this.pairName}-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}\\.pem$`);
  }

  /**
   * Removes what an interrupted update can leave behind: temp symlinks and temp pair files (never the
   * current pair). A crash between writing a pair and switching the symlink leaves a complete but unused
   * pair file, which is harmless and pruned at the next update.
   */
  async recover(): Promise<void> {
    let names: string[];
    try {
      names = await this.fs.readdir(this.certDir);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    // `.<pair>-current.pem.<rand>.tmp` (symlinks) and `.<pair>-<timestamp>.pem.<rand>.tmp` (writeFileAtomic).
    for (const n of names) {
      if (n.startsWith(`.${this.pairName}-`) && n.endsWith('.tmp')) {
        await this.fs.unlink(path.join(this.certDir, n)).catch(() => undefined);
      }
    }
  }

  /**
   * The current pair, or null when there is none (no symlink, or it dangles). A pair that exists but cannot
   * be read is an error naming the file: the caller decides whether to re-bootstrap.
   */
  async current(): Promise<CertKeyPair | null> {
    const link = this.currentPath();
    let target: string;
    try {
      const st = await this.fs.lstat(link);
      target = st.isSymbolicLink() ? path.resolve(this.certDir, await this.fs.readlink(link)) : link;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw new KubepkiError('FileInvalid', `cannot read ${link}: ${(err as Error).message}`, { cause: err });
    }
    let pem: string;
    try {
      pem = await this.fs.readFile(target);
    } catch (err) {
      if (isNotFound(err)) return null; // dangling symlink
      throw new KubepkiError('FileInvalid', `cannot read ${target}: ${(err as Error).message}`, { cause: err });
    }
    return parsePair(pem, target);
  }

  /**
   * Stores a new pair and makes it current. The input is checked first (certificates parse, the key belongs
   * to the leaf): bad input writes nothing. The old pair stays current until the new file is complete on
   * disk; a failure at any step leaves the old pair current and no temp file behind.
   */
  async update(certPem: string, keyPem: string | KeyObject): Promise<CertKeyPair> {
    const chain = parseCertificatesPem(certPem, `new ${this.pairName} certificate`);
    const privateKey = typeof keyPem === 'string' ? parsePrivateKeyPem(keyPem, `new ${this.pairName} key`) : keyPem;
    if (!keyMatchesPublicKey(privateKey, chain[0]!.publicKey)) {
      throw new KubepkiError('KeyMismatch', `new ${this.pairName} certificate does not match its private key`);
    }
    const pem = chain.map((c) => c.pem).join('') + privateKeyToPem(privateKey);
    const file = path.join(this.certDir, `${this.pairName}-${pairTimestamp(this.clock.now())}.pem`);
    try {
      await this.fs.mkdir(this.certDir);
    } catch (err) {
      throw new KubepkiError('FileWrite', `cannot create ${this.certDir}: ${(err as Error).message}`, { cause: err });
    }
    const previous = await this.currentTarget();
    await this.fs.writeFile(file, pem, 0o600);
    try {
      await this.switchCurrent(file);
    } catch (err) {
      // The old pair is still current; drop the unused new file unless it is the current one (same-second rename).
      if (previous !== file) await this.fs.unlink(file).catch(() => undefined);
      throw err;
    }
    await this.prune(file).catch(() => undefined);
    return { path: file, certificate: chain[0]!, chain, privateKey, pem };
  }

  /** Where the current symlink points (absolute), or null. */
  async currentTarget(): Promise<string | null> {
    try {
      return path.resolve(this.certDir, await this.fs.readlink(this.currentPath()));
    } catch {
      return null;
    }
  }

  private async switchCurrent(file: string): Promise<void> {
    const link = this.currentPath();
    try {
      const st = await this.fs.lstat(link);
      if (!st.isSymbolicLink()) {
        throw new KubepkiError('FileInvalid', `expected ${link} to be a symlink but it is a file; move it away to let the agent manage it`);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err instanceof KubepkiError ? err : new KubepkiError('FileWrite', `cannot inspect ${link}: ${(err as Error).message}`, { cause: err });
    }
    const tmp = path.join(this.certDir, `.${path.basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      // Absolute target, as the kubelet writes it, so the link is right whatever the reader's cwd.
      await this.fs.symlink(file, tmp);
      await this.fs.rename(tmp, link);
    } catch (err) {
      await this.fs.unlink(tmp).catch(() => undefined);
      throw new KubepkiError('FileWrite', `cannot point ${link} at ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Keeps the current pair and the `keepPrevious` newest others; removes older pair files (and their keys). */
  private async prune(current: string): Promise<void> {
    const re = this.pairFileRe();
    const names = (await this.fs.readdir(this.certDir)).filter((n) => re.test(n)).sort();
    const others = names.map((n) => path.join(this.certDir, n)).filter((p) => p !== current);
    const stale = others.slice(0, Math.max(0, others.length - this.keepPrevious));
    for (const p of stale) await this.fs.unlink(p).catch(() => undefined);
  }
}

/** Parses a pair file: every CERTIFICATE block (leaf first) and the private key. */
export function parsePair(pem: string, file: string): CertKeyPair {
  let chain: Certificate[];
  let privateKey: KeyObject;
  try {
    chain = parseCertificatesPem(pem, file);
    privateKey = parsePrivateKeyPem(pem, file);
  } catch (err) {
    throw new KubepkiError('FileInvalid', (err as Error).message, { cause: err });
  }
  return { path: file, certificate: chain[0]!, chain, privateKey, pem };
}

export type PairProblem = 'KeyMismatch' | PathFailure;

export type PairCheck = { ok: true } | { ok: false; reason: PairProblem; message: string };

export interface PairCheckOptions {
  /** CAs the API server trusts for this certificate (the kubeconfig's CA for a client certificate). */
  roots: Certificate[];
  now: Date;
  usage: 'client auth' | 'server auth';
  /**
   * Tolerated node clock lag: a certificate whose notBefore is up to this far in the future is usable (the
   * server judges it by its own clock). Default 5 minutes, the signer's backdating.
   */
  skewToleranceMs?: number;
}

/**
 * Whether the API server would accept this pair: the key belongs to the certificate, it is within its
 * validity, it chains to the roots, and its EKU allows the usage (an absent EKU allows any, as in Go, which
 * is how kube-apiserver verifies). Seed 002's failure — a server-auth-only certificate used as a client —
 * is `IncompatibleUsage`.
 */
export function checkPair(pair: Pick<CertKeyPair, 'certificate' | 'chain' | 'privateKey'>, options: PairCheckOptions): PairCheck {
  const { certificate: leaf } = pair;
  if (!keyMatchesPublicKey(pair.privateKey, leaf.publicKey)) {
    return { ok: false, reason: 'KeyMismatch', message: 'the private key does not belong to the certificate' };
  }
  const now = options.now.getTime();
  if (now > leaf.notAfter.getTime()) {
    return { ok: false, reason: 'Expired', message: `the certificate expired at ${leaf.notAfter.toISOString()}` };
  }
  const tolerance = options.skewToleranceMs ?? 5 * 60_000;
  if (now + tolerance < leaf.notBefore.getTime()) {
    return { ok: false, reason: 'NotYetValid', message: `the certificate is not valid before ${leaf.notBefore.toISOString()}` };
  }
  // Judge the chain at a moment inside the leaf's validity, so a node clock a little behind is not an error.
  const at = new Date(Math.max(now, leaf.notBefore.getTime()));
  const purpose = options.usage === 'client auth' ? 'client' : 'server';
  const result = validatePath(leaf, { roots: options.roots, intermediates: pair.chain.slice(1), now: at, purposes: [purpose] });
  if (!result.ok) return { ok: false, reason: result.reason, message: result.error };
  return { ok: true };
}
