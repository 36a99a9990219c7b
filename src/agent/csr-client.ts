// The node side of certificates.k8s.io/v1: create a CertificateSigningRequest and wait for its certificate
// (client-go's util/certificate/csr). Works against any API server through the one client (src/client); waiting
// uses a list+watch on metadata.name=<csr>, re-listing when the watch ends and polling when watch is refused.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { RestKubeClient } from '../client/rest.js';
import { RESOURCES, type ResourceClient } from '../client/interface.js';
import type { ClientConfig } from '../client/kubeconfig.js';
import type { CertificateSigningRequest } from '../apis/csr.js';
import { ApiError, type Status } from '../apis/status.js';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { Backoff } from './backoff.js';
import { keyMatchesPublicKey, parseCertificateRequestPem, parseCertificatesPem, type DistinguishedName } from '../x509/index.js';

/** What one certificate request asks for. */
export interface CsrSpec {
  /** PEM "CERTIFICATE REQUEST". */
  csrPem: string;
  signerName: string;
  usages: string[];
  /** A fixed name makes the request idempotent across restarts (bootstrap); otherwise generateName "csr-". */
  name?: string;
  /** The key the request was made with: an existing object of the same name must be for this key. */
  privateKey: KeyObject;
  expirationSeconds?: number;
}

export interface CsrRef {
  name: string;
  uid: string;
}

/** The operations the certificate manager needs from the API server. */
export interface CsrApi {
  create(spec: CsrSpec): Promise<CsrRef>;
  /** Resolves to the issued PEM (leaf first); rejects with CSRDenied / CSRFailed / APIError. */
  waitForCertificate(ref: CsrRef, options: { signal?: AbortSignal; timeoutMs: number }): Promise<string>;
}

/**
 * The kubelet's bootstrap CSR name: `node-csr-` + base64url(SHA-512/256) over the public key, subject and
 * usages, so that a restarted agent with the same cached key finds its own pending request.
 */
export function digestedCsrName(publicKey: KeyObject, subject: DistinguishedName, usages: readonly string[]): string {
  const hash = createHash('sha512-256');
  const write = (data: Uint8Array | string) => {
    hash.update(Buffer.from(data).toString('base64url'));
    hash.update('|'); // not in the base64url alphabet, so fields cannot run into each other
  };
  write(publicKey.export({ type: 'spki', format: 'der' }));
  write(subject.commonName ?? '');
  for (const o of subject.organization ?? []) write(o);
  for (const u of usages) write(u);
  return `node-csr-${hash.digest('base64url')}`;
}

export type CsrOutcome =
  | { state: 'issued'; certificatePem: string }
  | { state: 'denied'; reason: string; message: string }
  | { state: 'failed'; reason: string; message: string }
  | { state: 'approved' }
  | { state: 'pending' };

/** Reads a CSR's conditions as client-go does: Denied or Failed are final; Approved + certificate is done. */
export function csrOutcome(csr: CertificateSigningRequest): CsrOutcome {
  let approved = false;
  for (const c of csr.status?.conditions ?? []) {
    if (c.type === 'Denied') return { state: 'denied', reason: c.reason ?? '', message: c.message ?? '' };
    if (c.type === 'Failed') return { state: 'failed', reason: c.reason ?? '', message: c.message ?? '' };
    if (c.type === 'Approved') approved = true;
  }
  if (!approved) return { state: 'pending' };
  const cert = csr.status?.certificate;
  if (!cert) return { state: 'approved' };
  return { state: 'issued', certificatePem: Buffer.from(cert, 'base64').toString('utf8') };
}

export class CsrDeniedError extends KubepkiError {
  constructor(
    readonly csrName: string,
    readonly reason: string,
    readonly detail: string,
  ) {
    super('CSRDenied', `certificate signing request ${csrName} was denied${reason ? `, reason: ${reason}` : ''}${detail ? `, message: ${detail}` : ''}`);
  }
}

/** HTTP status of an API error, if it came from the server. */
export function statusCodeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** One line describing an API failure: the HTTP status and the server's Status message. */
export function describeApiError(err: unknown): string {
  if (err instanceof ApiError) {
    const message = err.message || (err.code === 401 ? 'Unauthorized (the credentials were rejected)' : '');
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  const status = statusCodeOf(err);
  if (status !== undefined) {
    const body = (err as { body?: unknown }).body;
    let message = '';
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: string }).message ?? body;
      } catch {
        message = body;
      }
    } else if (body && typeof body === 'object') message = (body as { message?: string }).message ?? '';
    if (status === 401) message ||= 'Unauthorized (the credentials were rejected)';
    return `HTTP ${status}${message ? `: ${message}` : ''}`;
  }
  const e = err as { code?: string; message?: string };
  return e?.message ?? String(err);
}

export interface KubernetesCsrClientOptions {
  kubeConfig: ClientConfig;
  clock?: Clock;
  logger?: Logger;
  /** Interval between GETs when watching is not possible. Default 2 s. */
  pollIntervalMs?: number;
  /** A single request that takes longer fails (the server is treated as unreachable). Default 30 s. */
  requestTimeoutMs?: number;
  /** A watch connection is re-established after this long even if nothing arrives. Default 5 min. */
  watchTimeoutMs?: number;
}

type WatchEnd =
  | { kind: 'outcome'; outcome: CsrOutcome; csr: CertificateSigningRequest }
  | { kind: 'deleted' }
  | { kind: 'uid-changed' }
  | { kind: 'closed' }
  | { kind: 'expired' }
  | { kind: 'unsupported'; status: number }
  | { kind: 'error'; error: unknown };

export class KubernetesCsrClient implements CsrApi {
  private readonly csrs: ResourceClient<CertificateSigningRequest>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly pollIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly watchTimeoutMs: number;

  constructor(options: KubernetesCsrClientOptions) {
    // The agent asks rarely and rotates its certificate file: each request reads the credentials anew.
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    // The client's own deadline closes the connection of a request that timed out (a server trickling bytes).
    this.csrs = new RestKubeClient(options.kubeConfig, { userAgent: 'kubepki-agent', oneShot: true, requestTimeoutMs: this.requestTimeoutMs }).resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.watchTimeoutMs = options.watchTimeoutMs ?? 5 * 60_000;
  }

  /**
   * Creates the CSR object. With a fixed name that already exists (a restart mid-bootstrap), the existing
   * object is reused only if it is for the same subject, signer and key, and its certificate (if any) is
   * unexpired — client-go's ensureCompatible.
   */
  async create(spec: CsrSpec): Promise<CsrRef> {
    const body: CertificateSigningRequest = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: spec.name ? { name: spec.name } : { generateName: 'csr-' },
      spec: {
        request: Buffer.from(spec.csrPem, 'utf8').toString('base64'),
        signerName: spec.signerName,
        usages: spec.usages,
        ...(spec.expirationSeconds !== undefined ? { expirationSeconds: spec.expirationSeconds } : {}),
      },
    };
    try {
      const created = await this.timed(this.csrs.create(body), 'create');
      return refOf(created);
    } catch (err) {
      if (statusCodeOf(err) === 409 && spec.name) {
        this.logger.info({ csr: spec.name }, 'certificate signing request for this node already exists, reusing it');
        const existing = await this.timed(this.csrs.get(spec.name), 'get').catch((e: unknown) => {
          throw apiError(`cannot retrieve certificate signing request ${spec.name}`, e);
        });
        await ensureCompatible(existing, spec, this.clock.now());
        return refOf(existing);
      }
      throw apiError('cannot create certificate signing request', err);
    }
  }

  async waitForCertificate(ref: CsrRef, options: { signal?: AbortSignal; timeoutMs: number }): Promise<string> {
    const deadline = this.clock.now().getTime() + options.timeoutMs;
    const signal = options.signal;
    let watchable = true;
    let failures = 0;
    // Re-reads after failures back off (jittered, so a fleet does not return in step when the server does),
    // but only up to a few seconds: a restarted server must be noticed quickly.
    let readBackoff = new Backoff({ initialMs: this.pollIntervalMs, capMs: 8000, jitter: 0.5 });
    while (true) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (this.clock.now().getTime() >= deadline) {
        throw new KubepkiError('APIError', `timed out waiting for certificate signing request ${ref.name} to be issued`);
      }
      let csr: CertificateSigningRequest | undefined;
      let listRv: string | undefined;
      try {
        if (watchable) {
          const list = await this.timed(this.csrs.list({ fieldSelector: `metadata.name=${ref.name}` }), 'list');
          csr = list.items[0];
          listRv = list.metadata?.resourceVersion;
        } else {
          csr = await this.timed(this.csrs.get(ref.name), 'get');
        }
        failures = 0;
        readBackoff = new Backoff({ initialMs: this.pollIntervalMs, capMs: 8000, jitter: 0.5 });
      } catch (err) {
        if (statusCodeOf(err) === 404 && !watchable) throw new KubepkiError('APIError', `certificate signing request ${ref.name} was deleted`);
        // Rejected credentials stay rejected (an expired certificate, a deleted token): the caller decides
        // whether other credentials can go on, as it does for a 401 at create.
        if (statusCodeOf(err) === 401) throw apiError(`cannot read certificate signing request ${ref.name}`, err);
        failures++;
        this.logger.warn({ csr: ref.name, err: describeApiError(err), attempt: failures }, 'cannot read the certificate signing request, retrying');
        await this.pause(readBackoff.next(), signal);
        continue;
      }
      if (!csr) throw new KubepkiError('APIError', `certificate signing request ${ref.name} was deleted`);
      if (ref.uid && csr.metadata?.uid && csr.metadata.uid !== ref.uid) {
        throw new KubepkiError('APIError', `certificate signing request ${ref.name} was replaced (its UID changed)`);
      }
      const done = settle(ref.name, csrOutcome(csr));
      if (done !== null) return done;
      if (!watchable) {
        await this.pause(this.pollIntervalMs, signal);
        continue;
      }
      const end = await this.watchOnce(ref, listRv, Math.min(this.watchTimeoutMs, deadline - this.clock.now().getTime()), signal);
      switch (end.kind) {
        case 'outcome': {
          const result = settle(ref.name, end.outcome);
          if (result !== null) return result;
          break;
        }
        case 'deleted':
          throw new KubepkiError('APIError', `certificate signing request ${ref.name} was deleted`);
        case 'uid-changed':
          throw new KubepkiError('APIError', `certificate signing request ${ref.name} was replaced (its UID changed)`);
        case 'unsupported':
          this.logger.info({ csr: ref.name, status: end.status }, 'the API server refused to watch, polling instead');
          watchable = false;
          break;
        case 'error':
          this.logger.warn({ csr: ref.name, err: describeApiError(end.error) }, 'watch failed, re-listing');
          await this.pause(this.pollIntervalMs, signal);
          break;
        case 'closed':
        case 'expired':
          break; // re-list and watch again
      }
    }
  }

  /** One watch connection from `resourceVersion`; resolves when something ends it. */
  private async watchOnce(ref: CsrRef, resourceVersion: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<WatchEnd> {
    let finish!: (end: WatchEnd) => void;
    const ended = new Promise<WatchEnd>((resolve) => (finish = resolve));
    let settled = false;
    const end = (e: WatchEnd) => {
      if (!settled) {
        settled = true;
        finish(e);
      }
    };
    let stream: { stop(): void; done: Promise<void> } | undefined;
    try {
      stream = this.csrs.watch(
        {
          fieldSelector: `metadata.name=${ref.name}`,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
          resourceVersion: resourceVersion ?? '',
        },
        (event) => {
          const obj = event.object;
          if (event.type === 'ERROR') {
            const status = obj as unknown as Status;
            end(status.code === 410 ? { kind: 'expired' } : { kind: 'error', error: new Error(`watch error: ${JSON.stringify(obj)}`) });
          } else if (event.type === 'DELETED') {
            if (obj.metadata?.name === ref.name) end({ kind: 'deleted' });
          } else if (event.type === 'ADDED' || event.type === 'MODIFIED') {
            if (obj.metadata?.name !== ref.name) return;
            if (ref.uid && obj.metadata?.uid && obj.metadata.uid !== ref.uid) return end({ kind: 'uid-changed' });
            const outcome = csrOutcome(obj);
            if (outcome.state === 'approved') this.logger.info({ csr: ref.name }, 'certificate signing request is approved, waiting to be issued');
            if (outcome.state !== 'pending' && outcome.state !== 'approved') end({ kind: 'outcome', outcome, csr: obj });
          }
        },
      );
      stream.done.then(
        () => end({ kind: 'closed' }),
        (err: unknown) => {
          const status = statusCodeOf(err);
          if (status !== undefined && [400, 404, 405, 406, 415, 501].includes(status)) return end({ kind: 'unsupported', status });
          end({ kind: 'error', error: err });
        },
      );
    } catch (err) {
      end({ kind: 'error', error: err });
    }
    // A watch the server never answers or never closes must not hang the agent.
    const timer = new AbortController();
    this.clock.sleep(timeoutMs + 5000, timer.signal).then(
      () => end({ kind: 'closed' }),
      () => undefined,
    );
    const onAbort = () => end({ kind: 'closed' });
    signal?.addEventListener('abort', onAbort, { once: true });
    const result = await ended;
    timer.abort();
    signal?.removeEventListener('abort', onAbort);
    stream?.stop();
    return result;
  }

  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    await this.clock.sleep(ms, signal);
  }

  private timed<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KubepkiError('APIError', `${what} request timed out after ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}

function settle(name: string, outcome: CsrOutcome): string | null {
  switch (outcome.state) {
    case 'issued':
      return outcome.certificatePem;
    case 'denied':
      throw new CsrDeniedError(name, outcome.reason, outcome.message);
    case 'failed':
      throw new KubepkiError('CSRFailed', `certificate signing request ${name} failed${outcome.reason ? `, reason: ${outcome.reason}` : ''}${outcome.message ? `, message: ${outcome.message}` : ''}`);
    default:
      return null;
  }
}

function refOf(csr: CertificateSigningRequest): CsrRef {
  const name = csr.metadata?.name;
  if (!name) throw new KubepkiError('APIError', 'the API server returned a certificate signing request without a name');
  return { name, uid: csr.metadata?.uid ?? '' };
}

function apiError(what: string, err: unknown): KubepkiError {
  if (err instanceof KubepkiError) return err;
  const e = new KubepkiError('APIError', `${what}: ${describeApiError(err)}`, { cause: err });
  (e as KubepkiError & { status?: number }).status = statusCodeOf(err);
  return e;
}

async function ensureCompatible(existing: CertificateSigningRequest, spec: CsrSpec, now: Date): Promise<void> {
  const name = spec.name ?? '';
  const fail = (why: string) => new KubepkiError('APIError', `existing certificate signing request ${name} is not compatible: ${why}`);
  if (existing.spec?.signerName && existing.spec.signerName !== spec.signerName) {
    throw fail(`signer ${existing.spec.signerName}, want ${spec.signerName}`);
  }
  const theirs = await parseCertificateRequestPem(Buffer.from(existing.spec?.request ?? '', 'base64').toString('utf8'), `csr ${name}`).catch(() => {
    throw fail('its request does not parse or verify');
  });
  const ours = await parseCertificateRequestPem(spec.csrPem, 'csr');
  if (JSON.stringify(theirs.subject) !== JSON.stringify(ours.subject)) throw fail('the subjects differ');
  if (!keyMatchesPublicKey(spec.privateKey, theirs.publicKey) || !createPublicKey(spec.privateKey).equals(theirs.publicKey)) {
    throw fail('it was made for another key');
  }
  const outcome = csrOutcome(existing);
  if (outcome.state === 'issued') {
    for (const c of parseCertificatesPem(outcome.certificatePem, `csr ${name} certificate`)) {
      if (now > c.notAfter) throw fail(`its certificate expired at ${c.notAfter.toISOString()}`);
    }
  }
}

/** Status code carried by an APIError from this module (e.g. 401 when bootstrap credentials are rejected). */
export function apiStatusOf(err: unknown): number | undefined {
  return (err as { status?: number })?.status ?? statusCodeOf(err);
}
