// The x509 client-certificate authenticator (k8s.io/apiserver pkg/authentication/request/x509): the TLS
// peer chain must verify against --client-ca-file (a bundle of roots), be within validity and allow client
// auth; the user is the leaf's CN, each O is a group. A certificate without CN does not apply (null); one
// that fails verification is an error, as in kube. Verification outcomes come from the verified-chain cache
// shared with the request-header authenticator (chain-cache.ts).
import type { Certificate } from '../../x509/certificate.js';
import { certificateIdentifier } from '../../x509/certificate-identifier.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Authenticator, AuthenticationResult } from '../types.js';
import { sharedChainCache, type VerifiedChainCache } from './chain-cache.js';
import { AuthenticationError } from './errors.js';
import type { UserInfo } from '../../apis/authorization.js';

export interface X509AuthenticatorOptions {
  /** The client CA bundle's certificates. A function lets the server reload the file. */
  roots: Certificate[] | (() => Certificate[]);
  clock?: Clock;
  /** The verified-chain cache; default: the one shared with the request-header authenticator. */
  cache?: VerifiedChainCache;
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
  const cache = options.cache ?? sharedChainCache;
  let lastRoots: Certificate[] | undefined;

  return {
    name: 'x509',
    async authenticate(req): Promise<AuthenticationResult | null> {
      const chain = req.peerCertificates;
      if (chain.length === 0) return null;
      const roots = rootsOf();
      if (lastRoots !== roots) {
        // The CA bundle was replaced: what was verified against the old one is forgotten.
        if (lastRoots) cache.forgetRoots(lastRoots);
        lastRoots = roots;
      }
      const v = cache.verify(chain, roots, 'client auth', clock.now());
      if (v.kind === 'malformed') throw new AuthenticationError(`x509: malformed certificate: ${v.message}`);
      if (v.kind === 'failed') throw new AuthenticationError(`verifying certificate ${certificateIdentifier(v.leaf)} failed: ${v.message}`);
      const user = userFromCertificate(v.leaf);
      return user ? { user, certificate: v.leaf } : null;
    },
  };
}
