// Following a cluster CA change (issue 6 item 5): a CA bundle published in kube-root-ca.crt or cluster-info
// replaces the agent's trust only as far as each new CA is signed into trust by a CA already trusted —
// issued by it, or cross-signed by it. After bootstrap there is no trust on first use: a CA that nothing
// trusted vouches for is rejected however it arrived.
import { isSignedBy, type Certificate } from '../x509/index.js';

export interface TrustUpdate {
  /** The trust to use from now on (the old one when nothing acceptable was published). */
  trusted: Certificate[];
  added: Certificate[];
  removed: Certificate[];
  rejected: { certificate: Certificate; reason: string }[];
  changed: boolean;
}

const sameDer = (a: Certificate, b: Certificate) => Buffer.compare(Buffer.from(a.der), Buffer.from(b.der)) === 0;
const sameName = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
const sameKey = (a: Certificate, b: Certificate) => a.publicKey.equals(b.publicKey);
const within = (c: Certificate, now: Date) => now >= c.notBefore && now <= c.notAfter;

/**
 * Decides which CAs of a published bundle to trust, given the CAs trusted now. A published CA is accepted
 * when it is already trusted, or when it — or a certificate in the bundle for the same subject and key (a
 * cross-certificate) — is signed by an accepted CA; acceptance spreads through the bundle until nothing
 * changes. Old CAs missing from the bundle are dropped only if something was accepted, so a bundle of
 * strangers can never leave the agent trusting nothing or trusting them.
 */
export function followCaBundle(options: { trusted: Certificate[]; published: Certificate[]; now: Date }): TrustUpdate {
  const { trusted, published, now } = options;
  const accepted: Certificate[] = [];
  const pending: Certificate[] = [];
  const rejected: TrustUpdate['rejected'] = [];
  for (const c of published) {
    if (accepted.some((a) => sameDer(a, c)) || pending.some((p) => sameDer(p, c))) continue; // duplicates
    if (!c.isCA) rejected.push({ certificate: c, reason: 'not a CA certificate' });
    else if (!within(c, now)) rejected.push({ certificate: c, reason: `outside its validity (${c.notBefore.toISOString()} – ${c.notAfter.toISOString()})` });
    else if (trusted.some((t) => sameDer(t, c))) accepted.push(c);
    else pending.push(c);
  }
  // Anchors that may vouch: the CAs trusted now (even if no longer published) and whatever gets accepted.
  const vouchers = (): Certificate[] => [...trusted.filter((t) => t.isCA && within(t, now)), ...accepted];
  const vouchedFor = (c: Certificate): boolean => {
    const anchors = vouchers();
    if (anchors.some((a) => isSignedBy(c, a))) return true;
    // A cross-certificate: same subject and key as c, CA, valid, signed by an anchor.
    return published.some(
      (x) => x !== c && x.isCA && within(x, now) && sameName(x.rawSubject, c.rawSubject) && sameKey(x, c) && anchors.some((a) => isSignedBy(x, a)),
    );
  };
  let progress = true;
  while (progress && pending.length > 0) {
    progress = false;
    for (let i = 0; i < pending.length; i++) {
      if (vouchedFor(pending[i]!)) {
        accepted.push(pending.splice(i, 1)[0]!);
        i--;
        progress = true;
      }
    }
  }
  for (const c of pending) rejected.push({ certificate: c, reason: 'not signed by a trusted CA (neither issued nor cross-signed by one)' });
  if (accepted.length === 0) return { trusted, added: [], removed: [], rejected, changed: false };
  const added = accepted.filter((a) => !trusted.some((t) => sameDer(t, a)));
  const removed = trusted.filter((t) => !accepted.some((a) => sameDer(a, t)));
  return { trusted: accepted, added, removed, rejected, changed: added.length > 0 || removed.length > 0 };
}
