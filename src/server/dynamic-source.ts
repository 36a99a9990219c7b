// Material that `serve` re-reads while it runs (kube-apiserver's dynamiccertificates controllers): a set of
// files parsed together into one value. A change is noticed through fs.watch on the files' directories
// (atomic writers rename over the file, so the directory is watched, not the inode) and, as a fallback
// for file systems without events, by a periodic content-hash check (kube re-reads every minute). A new
// content that does not parse — a half-written bundle, a key that does not match its certificate — is
// refused with one log line and the last good value stays in force.
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { readBoundedFile } from '../util/bounded-file.js';

export interface DynamicSourceOptions<T> {
  /** What the value is, for log lines: "client CA bundle", "serving certificate"... */
  name: string;
  /** Files read together; every one must exist. */
  files: string[];
  /** Files read when present (an absent one reads as empty): e.g. the other CA during a rotation. */
  optionalFiles?: string[];
  /** Builds the value from the contents (files then optionalFiles, in order); throws to refuse them. */
  parse(contents: (string | undefined)[]): T;
  /** Period of the content-hash check; default 60 s. 0 disables it (watch only). */
  checkIntervalMs?: number;
  logger?: Logger;
}

export type CheckOutcome = 'unchanged' | 'updated' | 'refused';

export class DynamicSource<T> {
  private value: T;
  private goodHash: string;
  private refusedHash: string | undefined;
  private readonly listeners: ((value: T) => void)[] = [];
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<CheckOutcome> | undefined;
  private again = false;
  private readonly logger: Logger;

  private constructor(
    private readonly o: DynamicSourceOptions<T>,
    initial: { value: T; hash: string },
  ) {
    this.value = initial.value;
    this.goodHash = initial.hash;
    this.logger = o.logger ?? silentLogger;
  }

  /** Reads and parses the files once (a failure here is an error: there is no last good value yet), then watches them. */
  static async open<T>(o: DynamicSourceOptions<T>): Promise<DynamicSource<T>> {
    let read;
    try {
      read = await readAll(o);
    } catch (err) {
      throw new KubepkiError('FileMissing', `${o.name}: ${(err as Error).message}`, { cause: err });
    }
    const { contents, hash } = read;
    let value: T;
    try {
      value = o.parse(contents);
    } catch (err) {
      throw new KubepkiError('InvalidConfig', `${o.name} (${o.files.join(', ')}): ${(err as Error).message}`, { cause: err });
    }
    const source = new DynamicSource(o, { value, hash });
    source.start();
    return source;
  }

  /** The value in force. */
  current(): T {
    return this.value;
  }

  /** Called with each new accepted value. */
  onChange(listener: (value: T) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Reads the files again and takes their value when they changed and parse. Concurrent calls share one
   * read; a call during a read runs once more after it (the files may have changed meanwhile).
   */
  check(): Promise<CheckOutcome> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = this.checkOnce().finally(() => {
      this.checking = undefined;
      if (this.again) {
        this.again = false;
        void this.check();
      }
    });
    return this.checking;
  }

  private async checkOnce(): Promise<CheckOutcome> {
    let read;
    try {
      read = await readAll(this.o);
    } catch (err) {
      return this.refuse((err as Error).message, undefined);
    }
    if (read.hash === this.goodHash) return 'unchanged';
    if (read.hash === this.refusedHash) return 'refused';
    let value: T;
    try {
      value = this.o.parse(read.contents);
    } catch (err) {
      return this.refuse((err as Error).message, read.hash);
    }
    this.value = value;
    this.goodHash = read.hash;
    this.refusedHash = undefined;
    this.logger.info({ source: this.o.name, files: this.allFiles() }, `loaded a new ${this.o.name}`);
    for (const l of this.listeners) {
      try {
        l(value);
      } catch (err) {
        this.logger.warn({ source: this.o.name, err: (err as Error).message }, `applying the new ${this.o.name} failed`);
      }
    }
    return 'updated';
  }

  private refuse(message: string, hash: string | undefined): CheckOutcome {
    // One line per distinct bad content, not one per check.
    if (hash === undefined || hash !== this.refusedHash) {
      this.logger.warn({ source: this.o.name, files: this.allFiles(), err: message }, `refusing the new ${this.o.name}; the last good one stays in force`);
    }
    this.refusedHash = hash;
    return 'refused';
  }

  private allFiles(): string[] {
    return [...this.o.files, ...(this.o.optionalFiles ?? [])];
  }

  private start(): void {
    const names = new Map<string, Set<string>>();
    for (const f of this.allFiles()) {
      const dir = path.dirname(f);
      if (!names.has(dir)) names.set(dir, new Set());
      names.get(dir)!.add(path.basename(f));
    }
    for (const [dir, files] of names) {
      try {
        const w = watch(dir, { persistent: false }, (_event, filename) => {
          if (filename === null || files.has(filename.toString())) this.soon();
        });
        w.on('error', () => undefined); // the periodic check still runs
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn({ source: this.o.name, dir, err: (err as Error).message }, 'cannot watch the directory; relying on the periodic check');
      }
    }
    const every = this.o.checkIntervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.check(), every);
      this.timer.unref();
    }
  }

  /** Coalesces the burst of events one write makes (create temp, write, rename). */
  private soon(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.check();
    }, 50);
    this.debounce.unref();
  }

  close(): void {
    for (const w of this.watchers.splice(0)) w.close();
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
  }
}

async function readAll(o: DynamicSourceOptions<unknown>): Promise<{ contents: (string | undefined)[]; hash: string }> {
  const h = createHash('sha256');
  const contents: (string | undefined)[] = [];
  for (const f of o.files) {
    let text: string;
    try {
      text = await readBoundedFile(f);
    } catch (err) {
      throw new KubepkiError('FileMissing', `cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    contents.push(text);
    h.update(`${f}\0${text}\0`);
  }
  for (const f of o.optionalFiles ?? []) {
    const text = await readBoundedFile(f).catch(() => undefined);
    contents.push(text);
    h.update(`${f}\0${text ?? '\u0001absent'}\0`);
  }
  return { contents, hash: h.digest('hex') };
}
