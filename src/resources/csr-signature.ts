// The create-path check of a PKCS#10 request's self-signature (Go's CertificateRequest.CheckSignature), done
// with a minimal DER walk and node's native verify: it is the one CPU-heavy step of every CSR create, and
// the general-purpose parser costs ~1 ms per request. Algorithms outside the common set (ECDSA and RSA
// PKCS#1 v1.5 with SHA-1/2, Ed25519) go to the x509 core's full parser.
import { createPublicKey, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { parseCertificateRequestDerVerified } from '../x509/csr.js';

interface Tlv {
  tag: number;
  /** Offset of the value. */
  start: number;
  /** Offset after the value. */
  end: number;
  /** Offset of the tag byte. */
  header: number;
}

function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error('truncated DER');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('unsupported DER tag');
  let len = buf[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new Error('DER value overruns its container');
  return { tag, start, end, header: pos };
}

function oidString(buf: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    v = v * 128 + (buf[i]! & 0x7f);
    if ((buf[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

const FAST_ALGORITHMS: Record<string, string | null> = {
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.3.101.112': null, // Ed25519: no separate digest
};

const CURVES: Record<string, { crv: string; size: number }> = {
  '1.2.840.10045.3.1.7': { crv: 'P-256', size: 32 },
  '1.3.132.0.34': { crv: 'P-384', size: 48 },
  '1.3.132.0.35': { crv: 'P-521', size: 66 },
};

/**
 * An EC public key imported from its affine coordinates (twice as fast as OpenSSL 3's SPKI decoder; the
 * point is still checked to be on the curve). Null for anything else, which goes through the SPKI path.
 */
export function ecJwk(spki: Uint8Array): KeyObject | null {
  const seq = readTlv(spki, 0, spki.length);
  const alg = readTlv(spki, seq.start, seq.end);
  const oid = readTlv(spki, alg.start, alg.end);
  if (oidString(spki, oid) !== '1.2.840.10045.2.1' || oid.end >= alg.end) return null;
  const curve = CURVES[oidString(spki, readTlv(spki, oid.end, alg.end))];
  const bits = readTlv(spki, alg.end, seq.end);
  if (!curve || bits.tag !== 0x03 || spki[bits.start] !== 0 || spki[bits.start + 1] !== 0x04 || bits.end - bits.start !== 2 + 2 * curve.size) return null;
  const x = Buffer.from(spki.subarray(bits.start + 2, bits.start + 2 + curve.size)).toString('base64url');
  const y = Buffer.from(spki.subarray(bits.start + 2 + curve.size, bits.end)).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x, y }, format: 'jwk' });
}

/**
 * Resolves when `der` is a PKCS#10 CertificationRequest whose signature verifies with its own public key;
 * rejects with an Error naming what is wrong otherwise. Runs on this thread (the worker pool's entry).
 */
export async function checkCertificateRequestSignatureHere(der: Uint8Array): Promise<void> {
  let tbs: Uint8Array;
  let spki: Uint8Array;
  let algorithm: string;
  let signature: Uint8Array;
  try {
    const outer = readTlv(der, 0, der.length);
    if (outer.tag !== 0x30 || outer.end !== der.length) throw new Error('not a SEQUENCE');
    const info = readTlv(der, outer.start, outer.end);
    if (info.tag !== 0x30) throw new Error('certificationRequestInfo is not a SEQUENCE');
    tbs = der.subarray(info.header, info.end);
    const version = readTlv(der, info.start, info.end);
    if (version.tag !== 0x02) throw new Error('missing version');
    const subject = readTlv(der, version.end, info.end);
    if (subject.tag !== 0x30) throw new Error('subject is not a Name');
    const pk = readTlv(der, subject.end, info.end);
    if (pk.tag !== 0x30) throw new Error('subjectPKInfo is not a SEQUENCE');
    spki = der.subarray(pk.header, pk.end);
    const algId = readTlv(der, info.end, outer.end);
    if (algId.tag !== 0x30) throw new Error('signatureAlgorithm is not a SEQUENCE');
    const oid = readTlv(der, algId.start, algId.end);
    if (oid.tag !== 0x06) throw new Error('signatureAlgorithm has no OID');
    algorithm = oidString(der, oid);
    const sig = readTlv(der, algId.end, outer.end);
    if (sig.tag !== 0x03 || der[sig.start] !== 0) throw new Error('signature is not a BIT STRING');
    signature = der.subarray(sig.start + 1, sig.end);
  } catch (err) {
    throw new Error(`asn1: structure error: ${(err as Error).message}`);
  }
  if (!(algorithm in FAST_ALGORITHMS)) {
    // RSA-PSS and anything rarer: the full parser knows them.
    await parseCertificateRequestDerVerified(der, 'spec.request');
    return;
  }
  let ok: boolean;
  try {
    const key = ecJwk(spki) ?? createPublicKey({ key: Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength), format: 'der', type: 'spki' });
    ok = verify(FAST_ALGORITHMS[algorithm] ?? null, tbs, key, signature);
  } catch (err) {
    throw new Error(`x509: cannot verify signature: ${(err as Error).message}`);
  }
  if (!ok) throw new Error(algorithm.startsWith('1.2.840.10045') ? 'x509: ECDSA verification failure' : 'x509: verification error');
}

// ---- off the event loop -------------------------------------------------------------------------------------
// Key import and verification are ~150 µs of CPU per request: they run on worker threads so the event loop
// keeps serving (design.md: CPU-heavy certificate work stays off the critical path).

/** 'request': a PKCS#10 self-signature check; 'certificate': a certificate parse (status.certificate). */
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

  check(der: Uint8Array, kind: WorkerJobKind = 'request'): Promise<void> {
    const slot = this.slot();
    if (!slot) return kind === 'request' ? checkCertificateRequestSignatureHere(der) : checkCertificateParsesHere(der);
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
        const worker = new Worker(new URL('./csr-signature-worker.js', import.meta.url));
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
    const w = this.workers[this.next++ % this.workers.length];
    return w;
  }
}

const workers = new SignatureWorkers(Math.max(1, Math.min(4, availableParallelism() - 1)));

/**
 * Resolves when `der` is a PKCS#10 CertificationRequest whose signature verifies with its own public key;
 * rejects with an Error naming what is wrong otherwise. The check runs on a worker thread.
 */
export function checkCertificateRequestSignature(der: Uint8Array): Promise<void> {
  return workers.check(der);
}

/**
 * Go's x509.ParseCertificate for one DER certificate, by OpenSSL's parser (~0.1 ms: it decodes the public
 * key). Node's X509Certificate would also take PEM text: the bytes must be DER (a SEQUENCE).
 */
export async function checkCertificateParsesHere(der: Uint8Array): Promise<void> {
  try {
    if (der[0] !== 0x30) throw new Error('not DER');
    new X509Certificate(der);
  } catch {
    throw new Error('x509: malformed certificate');
  }
}

/** Resolves when `der` parses as a certificate; rejects with 'x509: malformed certificate'. On a worker thread. */
export function checkCertificateParses(der: Uint8Array): Promise<void> {
  return workers.check(der, 'certificate');
}
