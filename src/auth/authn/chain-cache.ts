// The verified-chain cache shared by the client-certificate authenticators (x509.ts and requestheader.ts):
// parsing a peer chain and verifying it against a CA bundle costs milliseconds, and a keep-alive client
// presents the same chain on every request. Verification is Go's Certificate.Verify (validatePath: what
// kube-apiserver's x509 authenticator runs, path length, name constraints and nested EKUs included) with
// the client-auth purpose. Its outcome is a pure function of the
// chain, the roots, the usage and — through time — only of whether each certificate involved is inside its
// validity window, so an outcome is cached together with the time interval during which none of those
// certificates crosses a notBefore/notAfter boundary; outside it the chain is verified again. Outcomes whose
// message names the current time (expired / not yet valid) are never cached. Entries are keyed by the roots
// bundle's identity (a reloaded CA file is a new array: its entries never match the old ones, and
// forgetRoots drops them), the usage, and the SHA-256 of the chain's DER; the cache is a bounded LRU.
import { createHash } from 'node:crypto';
import { parseCertificateDer, type Certificate } from '../../x509/certificate.js';
import { validatePath, type PathFailure } from '../../x509/path-validation/index.js';

export type ChainOutcome =
  | { kind: 'ok'; leaf: Certificate; chain: Certificate[] }
  /** A certificate of the chain did not parse; `message` is the parser's, `index` the certificate's position. */
  | { kind: 'malformed'; index: number; message: string }
  | { kind: 'failed'; leaf: Certificate; reason: PathFailure; message: string };

interface Entry {
  outcome: ChainOutcome;
  roots: Certificate[];
  /** The outcome holds for from <= now < to (ms since the epoch). */
  from: number;
  to: number;
}

export class VerifiedChainCache {
  private readonly entries = new Map<string, Entry>();
  private readonly rootIds = new WeakMap<Certificate[], number>();
  private readonly chainHashes = new WeakMap<Uint8Array[], string>();
  private nextRootId = 1;

  constructor(private readonly max = 4096) {}

  get size(): number {
    return this.entries.size;
  }

  /** Parses and verifies `chain` (leaf first) against `roots` at `now`, or answers from the cache. */
  verify(chain: Uint8Array[], roots: Certificate[], usage: 'client auth', now: Date): ChainOutcome {
    const key = `${this.rootId(roots)}|${usage}|${this.chainHash(chain)}`;
    const t = now.getTime();
    const hit = this.entries.get(key);
    if (hit && hit.roots === roots && t >= hit.from && t < hit.to) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.outcome;
    }
    const { outcome, from, to } = verifyUncached(chain, roots, usage, now);
    if (hit) this.entries.delete(key);
    if (from < to) {
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { outcome, roots, from, to });
    }
    return outcome;
  }

  /** Drops every entry verified against `roots` (the CA bundle was replaced). */
  forgetRoots(roots: Certificate[]): void {
    for (const [k, e] of this.entries) if (e.roots === roots) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  private rootId(roots: Certificate[]): number {
    let id = this.rootIds.get(roots);
    if (id === undefined) {
      id = this.nextRootId++;
      this.rootIds.set(roots, id);
    }
    return id;
  }

  /** A keep-alive connection hands over the same chain array on every request: hash it once. */
  private chainHash(chain: Uint8Array[]): string {
    let h = this.chainHashes.get(chain);
    if (h === undefined) {
      const hash = createHash('sha256');
      for (const der of chain) {
        hash.update(String(der.length));
        hash.update(der);
      }
      h = hash.digest('base64');
      this.chainHashes.set(chain, h);
    }
    return h;
  }
}

/** The one cache the server's authenticators share. */
export const sharedChainCache = new VerifiedChainCache();

const PURPOSE = { 'client auth': 'client' } as const;

function verifyUncached(chain: Uint8Array[], roots: Certificate[], usage: 'client auth', now: Date): { outcome: ChainOutcome; from: number; to: number } {
  const certs: Certificate[] = [];
  for (let i = 0; i < chain.length; i++) {
    try {
      certs.push(parseCertificateDer(chain[i]!, i === 0 ? 'client certificate' : 'intermediate certificate'));
    } catch (err) {
      // Parsing does not depend on time: cached for good.
      return { outcome: { kind: 'malformed', index: i, message: (err as Error).message }, from: -Infinity, to: Infinity };
    }
  }
  const leaf = certs[0]!;
  const r = validatePath(leaf, { roots, intermediates: certs.slice(1), now, purposes: [PURPOSE[usage]] });
  const outcome: ChainOutcome = r.ok ? { kind: 'ok', leaf, chain: r.chains[0]! } : { kind: 'failed', leaf, reason: r.reason, message: r.error };
  if (!r.ok && (r.reason === 'Expired' || r.reason === 'NotYetValid')) return { outcome, from: 0, to: 0 };
  // The interval around now during which no certificate that verification looks at changes validity.
  const t = now.getTime();
  let from = -Infinity;
  let to = Infinity;
  for (const c of [...certs, ...roots]) {
    const nb = c.notBefore.getTime();
    const na = c.notAfter.getTime();
    // Valid means nb <= t <= na (validatePath), i.e. the status is constant on [nb, na + 1), (-inf, nb), [na + 1, inf).
    if (t < nb) to = Math.min(to, nb);
    else if (t <= na) {
      from = Math.max(from, nb);
      to = Math.min(to, na + 1);
    } else from = Math.max(from, na + 1);
  }
  return { outcome, from, to };
}
