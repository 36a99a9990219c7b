// The x509 client-certificate authenticator (k8s.io/apiserver pkg/authentication/request/x509): the TLS
// peer chain must verify against --client-ca-file (a bundle of roots), be within validity and allow client
// auth; the user is the leaf's CN, each O is a group. A certificate without CN does not apply (null); one
// that fails verification is an error, as in kube. Verified chains are cached (by chain identity on a
// keep-alive connection, by content otherwise) and only their validity window is re-checked per request.
import { createHash } from 'node:crypto';
import { parseCertificateDer, type Certificate } from '../../x509/certificate.js';
import { verifyCertificate } from '../../x509/verify.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Authenticator, AuthenticationResult, UserInfo } from '../types.js';
import { AuthenticationError } from './errors.js';

export interface X509AuthenticatorOptions {
  /** The client CA bundle's certificates. A function lets the server reload the file. */
  roots: Certificate[] | (() => Certificate[]);
  clock?: Clock;
  /** Entries kept in the verification cache. */
  cacheSize?: number;
}

interface Verified {
  user: UserInfo | null;
  notBefore: number;
  notAfter: number;
  roots: Certificate[];
}

const colonHex = (hex: string) => (hex.toUpperCase().match(/../g) ?? []).join(':');

/** kube's certificateIdentifier: how a failing certificate is named in the error. */
function identify(c: Certificate): string {
  const parts = [`SN=${BigInt(`0x${c.serialNumber}`).toString(10)}`];
  if (c.subjectKeyId) parts.push(`SKID=${colonHex(c.subjectKeyId)}`);
  if (c.authorityKeyId) parts.push(`AKID=${colonHex(c.authorityKeyId)}`);
  return parts.join(', ');
}

/** CommonNameUserConversion. */
export function userFromCertificate(c: Certificate): UserInfo | null {
  const cn = c.subject.commonName ?? '';
  if (cn === '') return null;
  return { username: cn, groups: [...(c.subject.organization ?? [])] };
}

export function x509Authenticator(options: X509AuthenticatorOptions): Authenticator {
  const clock = options.clock ?? systemClock;
  const rootsOf = typeof options.roots === 'function' ? options.roots : () => options.roots as Certificate[];
  const byChain = new WeakMap<Uint8Array[], Verified>();
  const byHash = new Map<string, Verified>();
  const max = options.cacheSize ?? 4096;

  function verify(chain: Uint8Array[], roots: Certificate[]): Verified {
    let certs: Certificate[];
    try {
      certs = chain.map((der, i) => parseCertificateDer(der, i === 0 ? 'client certificate' : 'intermediate certificate'));
    } catch (err) {
      throw new AuthenticationError(`x509: malformed certificate: ${(err as Error).message}`);
    }
    const leaf = certs[0]!;
    const r = verifyCertificate(leaf, { roots, intermediates: certs.slice(1), now: clock.now(), usage: 'client auth' });
    if (!r.ok) throw new AuthenticationError(`verifying certificate ${identify(leaf)} failed: ${r.message}`);
    const notBefore = Math.max(...r.chain.map((c) => c.notBefore.getTime()));
    const notAfter = Math.min(...r.chain.map((c) => c.notAfter.getTime()));
    return { user: userFromCertificate(leaf), notBefore, notAfter, roots };
  }

  return {
    name: 'x509',
    async authenticate(req): Promise<AuthenticationResult | null> {
      const chain = req.peerCertificates;
      if (chain.length === 0) return null;
      const roots = rootsOf();
      const now = clock.now().getTime();
      let v = byChain.get(chain);
      let hash: string | undefined;
      if (!v || v.roots !== roots) {
        const h = createHash('sha256');
        for (const der of chain) h.update(der);
        hash = h.digest('base64');
        v = byHash.get(hash);
      }
      if (!v || v.roots !== roots || now < v.notBefore || now > v.notAfter) {
        // Re-verify (also produces the exact expiry error message for an out-of-window chain).
        v = verify(chain, roots);
        if (hash === undefined) {
          const h = createHash('sha256');
          for (const der of chain) h.update(der);
          hash = h.digest('base64');
        }
        if (byHash.size >= max) byHash.delete(byHash.keys().next().value!);
        byHash.set(hash, v);
      }
      byChain.set(chain, v);
      return v.user ? { user: { ...v.user, groups: [...v.user.groups] } } : null;
    },
  };
}
