// Running the CPU-heavy checks of untrusted DER off the event loop: a PKCS#10 request's parse and
// self-signature check (~150 µs of key import and verification) and the parse of a long list of certificates
// (a short one is checked where it arrives: ~20 µs a certificate), on a small pool of worker threads
// (design.md: CPU-heavy certificate work stays off the critical path). The
// checks themselves are the x509 core's one parser and one signature check; this is only where they run.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseCertificateRequest } from './certificate-request.js';
import { checkCsrSignature } from './csr-signature.js';
import { checkCertificatesDer } from './certificate-parser.js';

/**
 * Resolves when `der` is a PKCS#10 request that parses (as Go's x509.ParseCertificateRequest) and whose
 * signature verifies with its own key; rejects with an Error carrying Go's message otherwise. On this thread.
 */
export async function verifyCertificateRequestHere(der: Uint8Array): Promise<void> {
  await checkCsrSignature(parseCertificateRequest(der), { onThisThread: true });
}

/**
 * Go's x509.ParseCertificates for one PEM block's DER, by the x509 core's one certificate parser (its rules,
 * its messages), without importing any key into OpenSSL: ~20 µs a certificate, where OpenSSL's parse
 * (X509Certificate) took ~0.15 ms, most of it in OpenSSL 3's key decoder. Rejects with Go's error, or kube's
 * when the block holds no certificate.
 */
export async function checkCertificateParsesHere(der: Uint8Array): Promise<void> {
  let count: number;
  try {
    count = checkCertificatesDer(der);
  } catch (err) {
    throw new Error((err as Error).message.replace(/^certificate: (not a valid X\.509 certificate|unsupported public key): /, ''));
  }
  if (count === 0) throw new Error('found CERTIFICATE PEM block containing 0 certificates');
}

/** 'request': verifyCertificateRequestHere; 'certificate': checkCertificateParsesHere. */
export type WorkerJobKind = 'request' | 'certificate';

interface Job {
  resolve: () => void;
  reject: (err: Error) => void;
}

class SignatureWorkers {
  private readonly workers: { worker: Worker; jobs: Map<number, Job> }[] = [];
  private next = 0;
  private seq = 0;

  constructor(private readonly size: number) {}

  check(der: Uint8Array, kind: WorkerJobKind): Promise<void> {
    const slot = this.slot();
    if (!slot) return kind === 'request' ? verifyCertificateRequestHere(der) : checkCertificateParsesHere(der);
    const id = ++this.seq;
    return new Promise<void>((resolve, reject) => {
      if (slot.jobs.size === 0) slot.worker.ref();
      slot.jobs.set(id, { resolve, reject });
      // Posting a view clones its whole ArrayBuffer (for a pooled Buffer, the 8 KiB pool): post an exact copy
      // and hand its memory over instead.
      const copy = new Uint8Array(der);
      slot.worker.postMessage({ id, der: copy, kind }, [copy.buffer]);
    });
  }

  private slot(): { worker: Worker; jobs: Map<number, Job> } | undefined {
    if (this.workers.length < this.size) {
      try {
        const worker = new Worker(new URL('./signature-worker.js', import.meta.url));
        const entry = { worker, jobs: new Map<number, Job>() };
        worker.unref();
        worker.on('message', (m: { id: number; error?: string }) => {
          const job = entry.jobs.get(m.id);
          if (!job) return;
          entry.jobs.delete(m.id);
          if (entry.jobs.size === 0) worker.unref();
          if (m.error === undefined) job.resolve();
          else job.reject(new Error(m.error));
        });
        const fail = (err: Error) => {
          for (const j of entry.jobs.values()) j.reject(new Error(`signature check worker failed: ${err.message}`));
          entry.jobs.clear();
          const i = this.workers.indexOf(entry);
          if (i >= 0) this.workers.splice(i, 1);
        };
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
        this.workers.push(entry);
      } catch {
        return undefined;
      }
    }
    return this.workers[this.next++ % this.workers.length];
  }
}

const workers = new SignatureWorkers(Math.max(1, Math.min(4, availableParallelism() - 1)));

/** verifyCertificateRequestHere on a worker thread. */
export function verifyCertificateRequestOffThread(der: Uint8Array): Promise<void> {
  return workers.check(der, 'request');
}

/** checkCertificateParsesHere on a worker thread: rejects with Go's parse error. */
export function checkCertificateParsesOffThread(der: Uint8Array): Promise<void> {
  return workers.check(der, 'certificate');
}
