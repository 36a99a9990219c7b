// The certificate manager (client-go's util/certificate Manager): keeps one certificate valid by requesting
// a new key and certificate at a random moment between 70 % and 90 % of the current one's lifetime, at once
// when there is none or it no longer fits the template, with jittered exponential backoff on failure. The
// current pair stays in use until the new one is on disk. Time, randomness and the API are injected.
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import {
  createCertificateRequest,
  generateKeyPair,
  parseCertificatesPem,
  parsePrivateKeyPem,
  privateKeyToPem,
  keyMatchesPublicKey,
  canonicalIp,
  EXT_KEY_USAGE_OIDS,
  type Certificate,
  type DistinguishedName,
  type KeyPair,
  type SubjectAltNames,
} from '../x509/index.js';
import { checkPair, type CertKeyPair, type CertificateStore, type PairProblem } from './cert-store.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { apiStatusOf, CsrDeniedError, describeApiError, digestedCsrName, type CsrApi } from './csr-client.js';
import { readBoundedFile } from '../util/bounded-file.js';

/** What the next certificate must say. */
export interface CertificateTemplate {
  subject: DistinguishedName;
  sans?: SubjectAltNames;
}

/**
 * A moment between 70 % and 90 % of the certificate's lifetime (seed 000: when 30 %–10 % remains), uniform,
 * so nodes that joined together do not all rotate together: client-go's jitteryDuration.
 */
export function rotationDeadline(cert: Pick<Certificate, 'notBefore' | 'notAfter'>, random: () => number): Date {
  const start = cert.notBefore.getTime();
  const lifetime = cert.notAfter.getTime() - start;
  return new Date(Math.round(start + lifetime * (0.7 + 0.2 * random())));
}

/**
 * Whether a certificate still says what the template asks (client-go's certSatisfiesTemplate): same CN, and
 * every requested DNS name, IP and organization present. Extra names do not force a rotation.
 */
export function certificateSatisfiesTemplate(cert: Certificate, template: CertificateTemplate): string | null {
  if ((template.subject.commonName ?? '') !== (cert.subject.commonName ?? '')) {
    return `its CN ${cert.subject.commonName ?? '""'} is not the requested ${template.subject.commonName ?? '""'}`;
  }
  const missing = (want: readonly string[] | undefined, have: readonly string[]) => (want ?? []).filter((w) => !have.includes(w));
  const dns = missing(template.sans?.dnsNames, cert.sans.dnsNames);
  if (dns.length) return `it lacks the DNS names ${dns.join(', ')}`;
  const ips = missing(
    template.sans?.ipAddresses.map((ip) => canonicalIp(ip) ?? ip),
    cert.sans.ipAddresses,
  );
  if (ips.length) return `it lacks the IP addresses ${ips.join(', ')}`;
  const orgs = missing(template.subject.organization, cert.subject.organization ?? []);
  if (orgs.length) return `it lacks the organizations ${orgs.join(', ')}`;
  return null;
}

export type FailureReason = 'denied' | 'failed' | 'unauthorized' | 'expired' | 'api' | 'store' | 'invalid-certificate' | 'no-credentials' | 'other';

/** Where the manager reports what happens (prom-client metrics in the agent; nothing in unit tests). */
export interface ManagerObserver {
  rotated?(info: { manager: string; pair: CertKeyPair; previous: CertKeyPair | null; now: Date }): void;
  failed?(info: { manager: string; reason: FailureReason; message: string }): void;
}

export interface CertificateManagerOptions {
  /** "client" or "serving": names the manager in logs and metrics. */
  name: string;
  store: CertificateStore;
  signerName: string;
  usages: string[];
  /** The usage the issued certificate must allow. */
  usage: 'client auth' | 'server auth';
  template: () => CertificateTemplate | null;
  /**
   * An API client for certificate requests, given the current valid pair or null (client-go's
   * ClientsetFunc): the client manager passes bootstrap credentials when it has no valid certificate.
   */
  csrApi: (current: CertKeyPair | null) => CsrApi;
  /** CAs the issued certificate must chain to (the cluster CA for a client certificate). */
  roots?: () => Certificate[];
  /**
   * Where a key is cached while a request made without a valid certificate (a bootstrap) is pending, so a
   * restart finds the same key and the same deterministic CSR name (kubelet: kubelet-client.key.tmp).
   */
  bootstrapKeyFile?: string;
  /** Used once when the store is empty (client-go's BootstrapCertificatePEM/KeyPEM); rotated at once. */
  initialPair?: { certPem: string; keyPem: string };
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  observer?: ManagerObserver;
  backoff?: BackoffOptions;
  /** How long one request may wait for its certificate. client-go: 15 min (bootstrap: 1 h). */
  waitTimeoutMs?: number;
  /** Passed as spec.expirationSeconds (the signer may shorten, never lengthen). */
  requestedLifetimeSeconds?: number;
  /** Shortest time between two rotations. Default 1 s. */
  minRotationIntervalMs?: number;
  /** Longest single sleep; longer waits are re-checked against the clock (timers overflow at ~24.8 days). */
  maxSleepMs?: number;
  /**
   * The key id of the CA that signs now, as the cluster publishes it (a CA rotation's switch): a certificate
   * from another issuer is rotated at once instead of at 70–90 % of its life.
   */
  signingCAKeyId?: () => string | undefined;
}

export interface ManagerStatus {
  name: string;
  /** The pair in use, expired or not. */
  pair: CertKeyPair | null;
  lastRotation: Date | null;
  lastError: string | null;
  rotations: number;
  failures: number;
  nextDeadline: Date | null;
}

export class CertificateManager {
  readonly name: string;
  private readonly o: CertificateManagerOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private pair: CertKeyPair | null = null;
  private forceRotation = false;
  private useBootstrapCredentials = false;
  private abort: AbortController | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly state = { lastRotation: null as Date | null, lastError: null as string | null, rotations: 0, failures: 0, nextDeadline: null as Date | null };

  constructor(options: CertificateManagerOptions) {
    this.o = options;
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? silentLogger).child({ certificate: options.name });
  }

  /**
   * Loads the stored pair. A pair that is unreadable, for another CA, or no longer fits the template is kept
   * out of use (and replaced at once); an expired one stays known but `current()` no longer returns it.
   */
  async init(): Promise<void> {
    await this.o.store.recover();
    let pair: CertKeyPair | null = null;
    try {
      pair = await this.o.store.current();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'the stored certificate cannot be read; requesting a new one');
    }
    if (!pair && this.o.initialPair) {
      pair = await this.o.store.update(this.o.initialPair.certPem, this.o.initialPair.keyPem);
      this.forceRotation = true;
      this.logger.info({ file: pair.path }, 'seeded the store with the initial certificate; it will be rotated at once');
    }
    if (pair) {
      const problem = this.problemWith(pair);
      if (problem?.reason === 'Expired') {
        // Kept as the record of what expired; current() returns null, so requests use bootstrap credentials.
        this.logger.warn({ file: pair.path, problem: problem.message }, 'the stored certificate has expired; requesting a new one');
        this.forceRotation = true;
      } else if (problem) {
        this.logger.warn({ file: pair.path, problem: problem.message }, 'the stored certificate is not usable; requesting a new one');
        pair = null;
      }
    }
    this.pair = pair;
    if (!pair) this.forceRotation = true;
  }

  /** The pair in use, or null when there is none or it has expired (client-go's Current). */
  current(): CertKeyPair | null {
    if (!this.pair) return null;
    if (this.clock.now() > this.pair.certificate.notAfter) return null;
    return this.pair;
  }

  status(): ManagerStatus {
    return { name: this.name, pair: this.pair, ...this.state };
  }

  /** When the next rotation is due: now if forced, if there is no pair, or if it no longer fits the template. */
  nextRotationDeadline(): Date {
    const now = this.clock.now();
    if (this.forceRotation || !this.pair) return now;
    const signer = this.o.signingCAKeyId?.();
    if (signer && this.pair.certificate.authorityKeyId && this.pair.certificate.authorityKeyId !== signer) {
      this.logger.info({ issuer: this.pair.certificate.authorityKeyId, signer }, 'the cluster signs with another CA now; rotating');
      return now;
    }
    const template = this.o.template();
    if (template) {
      const mismatch = certificateSatisfiesTemplate(this.pair.certificate, template);
      if (mismatch) {
        this.logger.info({ mismatch }, 'the current certificate does not match the template; rotating');
        return now;
      }
    }
    return rotationDeadline(this.pair.certificate, this.random);
  }

  /** Starts the background loop. */
  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.loop = this.run(signal).catch((err: unknown) => {
      if (!signal.aborted) this.logger.error({ err: (err as Error).message }, 'certificate manager stopped unexpectedly');
    });
  }

  /** Stops the loop and any request in flight; resolves when it has stopped. */
  async stop(): Promise<void> {
    this.abort?.abort(new Error('certificate manager stopped'));
    await this.loop;
    this.loop = null;
  }

  /** Re-evaluates the deadline now (e.g. the node's addresses changed). */
  kick(): void {
    this.wake?.();
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let deadline = this.nextRotationDeadline();
      // Never two rotations within minRotationIntervalMs (client-go's wait.Until period): a certificate whose
      // backdated notBefore puts 70 % of its life in the past would otherwise be rotated in a hot loop.
      const last = this.state.lastRotation?.getTime();
      const earliest = last === undefined ? 0 : last + (this.o.minRotationIntervalMs ?? 1000);
      if (deadline.getTime() < earliest) deadline = new Date(earliest);
      this.state.nextDeadline = deadline;
      const wait = deadline.getTime() - this.clock.now().getTime();
      if (wait > 0) {
        this.logger.info(
          { expiration: this.pair?.certificate.notAfter.toISOString(), deadline: deadline.toISOString(), waitSeconds: Math.round(wait / 1000) },
          'waiting for the next certificate rotation',
        );
        const kicked = await this.sleepUntil(deadline, signal);
        if (kicked) continue;
      }
      this.forceRotation = false;
      const backoff = new Backoff(this.o.backoff, this.random);
      while (!signal.aborted) {
        if (this.o.template() === null) break; // nothing to request yet
        if (await this.rotateOnce(signal)) break;
        const delay = backoff.next();
        this.logger.info({ retryInSeconds: Math.round(delay / 100) / 10 }, 'will retry the certificate request');
        await this.clock.sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  /** Sleeps until the deadline in bounded steps; true if woken early by kick(). */
  private async sleepUntil(deadline: Date, signal: AbortSignal): Promise<boolean> {
    const maxStep = this.o.maxSleepMs ?? 3_600_000;
    while (!signal.aborted) {
      const left = deadline.getTime() - this.clock.now().getTime();
      if (left <= 0) return false;
      const step = new AbortController();
      const onAbort = () => step.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      let kicked = false;
      this.wake = () => {
        kicked = true;
        step.abort();
      };
      await this.clock.sleep(Math.min(left, maxStep), step.signal).catch(() => undefined);
      signal.removeEventListener('abort', onAbort);
      this.wake = null;
      if (kicked) return true;
    }
    return false;
  }

  /**
   * One attempt: new key, CSR, wait, store. True when a new pair is current. Failures are logged with their
   * reason and counted; they never throw (the loop backs off and tries again).
   */
  async rotateOnce(signal?: AbortSignal): Promise<boolean> {
    const template = this.o.template();
    if (!template) return false;
    const current = this.useBootstrapCredentials ? null : this.current();
    const bootstrap = current === null;
    this.logger.info({ bootstrap }, bootstrap ? 'requesting a certificate (no valid one yet)' : 'rotating the certificate');
    let keyPair: KeyPair;
    let csrName: string | undefined;
    let cachedKey = false;
    try {
      if (bootstrap && this.o.bootstrapKeyFile) {
        keyPair = await this.loadOrCreateBootstrapKey(this.o.bootstrapKeyFile);
        csrName = digestedCsrName(keyPair.publicKey, template.subject, this.o.usages);
        cachedKey = true;
      } else {
        keyPair = await generateKeyPair('ECDSA-P256');
      }
    } catch (err) {
      return this.fail('store', `cannot prepare a private key: ${(err as Error).message}`);
    }
    let api: CsrApi;
    try {
      api = this.o.csrApi(current);
    } catch (err) {
      return this.fail('no-credentials', (err as Error).message);
    }
    // A renewal authenticated with the current certificate cannot outlive it: once the certificate expires the
    // server answers 401 to every read of the pending request, so the wait ends there and the next attempt
    // uses the bootstrap credentials (the kubelet exits at that moment and re-bootstraps on restart).
    const expiry = current && this.o.bootstrapKeyFile ? abortAtExpiry({ certificate: current.certificate, clock: this.clock, ...(signal ? { signal } : {}) }) : null;
    const waitSignal = expiry?.signal ?? signal;
    let issuedPem: string;
    let csrRef: string | undefined;
    try {
      const csr = await createCertificateRequest({ subject: template.subject, ...(template.sans ? { sans: template.sans } : {}), keyPair });
      const ref = await api.create({
        csrPem: csr.pem,
        signerName: this.o.signerName,
        usages: this.o.usages,
        privateKey: keyPair.privateKey,
        ...(csrName ? { name: csrName } : {}),
        ...(this.o.requestedLifetimeSeconds ? { expirationSeconds: this.o.requestedLifetimeSeconds } : {}),
      });
      csrRef = ref.name;
      this.logger.info({ csr: ref.name }, 'certificate signing request created; waiting for it to be approved and issued');
      issuedPem = await api.waitForCertificate(ref, { timeoutMs: this.o.waitTimeoutMs ?? 15 * 60_000, ...(waitSignal ? { signal: waitSignal } : {}) });
    } catch (err) {
      if (signal?.aborted) return false;
      if (expiry?.expired()) {
        this.useBootstrapCredentials = true;
        const which = csrRef ? `its renewal request ${csrRef} was pending` : 'its renewal request was being made';
        return this.fail('expired', `the client certificate expired at ${current!.certificate.notAfter.toISOString()} while ${which}; the next attempt uses the bootstrap credentials`);
      }
      if (err instanceof CsrDeniedError) {
        // A denied request is final: the next attempt must be a new request, so forget the cached key.
        if (cachedKey) await unlink(this.o.bootstrapKeyFile!).catch(() => undefined);
        return this.fail('denied', `${err.message}; a new request will be made later`);
      }
      if ((err as KubepkiError).code === 'CSRFailed') {
        if (cachedKey) await unlink(this.o.bootstrapKeyFile!).catch(() => undefined);
        return this.fail('failed', (err as Error).message);
      }
      const status = apiStatusOf(err);
      if (status === 401) {
        // Only a manager with bootstrap credentials (the client one) can fall back; the serving manager
        // always authenticates as the node.
        if (!this.o.bootstrapKeyFile) return this.fail('unauthorized', `the API server rejected the node's credentials (${describeApiError(err)})`);
        if (!bootstrap) {
          // The server no longer accepts this certificate (e.g. the CA was replaced): fall back to bootstrap.
          this.useBootstrapCredentials = true;
          return this.fail('unauthorized', `the API server rejected the current certificate (${describeApiError(err)}); the next attempt uses the bootstrap credentials`);
        }
        return this.fail('unauthorized', `the API server rejected the bootstrap credentials (${describeApiError(err)}): the bootstrap token may have expired or been deleted`);
      }
      if ((err as KubepkiError).code === 'APIError' && /not compatible/.test((err as Error).message) && cachedKey) {
        await unlink(this.o.bootstrapKeyFile!).catch(() => undefined);
      }
      return this.fail('api', err instanceof KubepkiError ? err.message : describeApiError(err));
    }
    finally {
      expiry?.cancel();
    }
    const invalid = this.validateIssued(issuedPem, keyPair, template);
    if (invalid) {
      // Re-using the cached key would find the same issued request again: start afresh next time.
      if (cachedKey) await unlink(this.o.bootstrapKeyFile!).catch(() => undefined);
      return this.fail('invalid-certificate', `the issued certificate is not usable: ${invalid}`);
    }
    let pair: CertKeyPair;
    try {
      pair = await this.o.store.update(issuedPem, keyPair.privateKey);
    } catch (err) {
      // The key stays cached (bootstrap) so the next attempt re-uses the issued request instead of a new one.
      return this.fail('store', `cannot store the new certificate: ${(err as Error).message}`);
    }
    if (cachedKey) await unlink(this.o.bootstrapKeyFile!).catch(() => undefined);
    const previous = this.pair;
    this.pair = pair;
    this.useBootstrapCredentials = false;
    this.state.lastRotation = this.clock.now();
    this.state.lastError = null;
    this.state.rotations++;
    this.logger.info(
      { file: pair.path, serial: pair.certificate.serialNumber, notAfter: pair.certificate.notAfter.toISOString() },
      'new certificate stored and in use',
    );
    this.o.observer?.rotated?.({ manager: this.name, pair, previous, now: this.clock.now() });
    return true;
  }

  private fail(reason: FailureReason, message: string): false {
    this.state.lastError = message;
    this.state.failures++;
    this.logger.error({ reason }, message);
    this.o.observer?.failed?.({ manager: this.name, reason, message });
    return false;
  }

  /** Why a pair is not usable (null when it is): key, expiry, chain to the roots, usage. */
  private problemWith(pair: CertKeyPair): { reason: PairProblem; message: string } | null {
    const now = this.clock.now();
    const roots = this.o.roots?.();
    if (roots && roots.length > 0) {
      const check = checkPair(pair, { roots, now, usage: this.o.usage });
      return check.ok ? null : check;
    }
    if (!keyMatchesPublicKey(pair.privateKey, pair.certificate.publicKey)) return { reason: 'KeyMismatch', message: 'the private key does not belong to the certificate' };
    if (now > pair.certificate.notAfter) return { reason: 'Expired', message: `the certificate expired at ${pair.certificate.notAfter.toISOString()}` };
    const usage = usageProblem(pair.certificate, this.o.usage);
    return usage ? { reason: 'IncompatibleUsage', message: usage } : null;
  }

  private validateIssued(pem: string, keyPair: KeyPair, template: CertificateTemplate): string | null {
    let chain: Certificate[];
    try {
      chain = parseCertificatesPem(pem, 'issued certificate');
    } catch (err) {
      return (err as Error).message;
    }
    const problem = this.problemWith({ path: '', certificate: chain[0]!, chain, privateKey: keyPair.privateKey, pem })?.message;
    if (problem) return problem;
    // A certificate for another name than the one requested is never stored: it would be rotated away at once,
    // and until then the node would act as someone else.
    const mismatch = certificateSatisfiesTemplate(chain[0]!, template);
    return mismatch ? `it is not for what was requested: ${mismatch}` : null;
  }

  private async loadOrCreateBootstrapKey(file: string): Promise<KeyPair> {
    if (existsSync(file)) {
      try {
        const privateKey = parsePrivateKeyPem(await readBoundedFile(file), file);
        this.logger.info({ file }, 're-using the cached bootstrap key');
        return { privateKey, publicKey: createPublicKey(privateKey) };
      } catch (err) {
        this.logger.warn({ file, err: (err as Error).message }, 'the cached bootstrap key is unreadable; making a new one');
      }
    }
    const keyPair = await generateKeyPair('ECDSA-P256');
    await writeFileAtomic(file, privateKeyToPem(keyPair.privateKey), { mode: 0o600, mkdirs: true });
    return keyPair;
  }
}

/**
 * A signal that aborts when the certificate expires (or when `signal` does). Waits are bounded steps of the
 * clock, since a timer cannot span a year-long certificate (Node's timers overflow at ~24.8 days).
 */
function abortAtExpiry(options: { certificate: Certificate; clock: Clock; signal?: AbortSignal }): { signal: AbortSignal; expired: () => boolean; cancel: () => void } {
  const { certificate, clock, signal } = options;
  const controller = new AbortController();
  const stop = new AbortController();
  let expired = false;
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  void (async () => {
    const MAX_STEP = 3_600_000;
    for (;;) {
      const left = certificate.notAfter.getTime() - clock.now().getTime();
      if (left < 0) break;
      // notAfter is inclusive (RFC 5280 §4.1.2.5): expired one millisecond after it.
      const slept = await clock.sleep(Math.min(left + 1, MAX_STEP), stop.signal).then(() => true, () => false);
      if (!slept) return;
    }
    expired = true;
    controller.abort(new Error(`the client certificate expired at ${certificate.notAfter.toISOString()}`));
  })();
  return {
    signal: controller.signal,
    expired: () => expired,
    cancel: () => {
      stop.abort();
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

function usageProblem(cert: Certificate, usage: 'client auth' | 'server auth'): string | null {
  const ekus = cert.extKeyUsages;
  if (ekus.length === 0 || ekus.includes(EXT_KEY_USAGE_OIDS[usage]) || ekus.includes(EXT_KEY_USAGE_OIDS.any)) return null;
  return `x509: certificate specifies an incompatible key usage (it does not allow ${usage})`;
}
