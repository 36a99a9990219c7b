// The request-header (front proxy) authenticator (k8s.io/apiserver .../request/headerrequest and the x509
// Verifier in front of it): identity headers are believed only from a client whose certificate chains to
// --requestheader-client-ca-file for client auth and, when --requestheader-allowed-names is set, whose CN
// is listed. Anything else leaves the headers untrusted: a certificate from another CA is an error (the
// union goes on to the x509 authenticator, which then identifies the client by its own certificate).
import type { Certificate } from '../../x509/index.js';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Authenticator, AuthenticationRequest } from '../types.js';
import { sharedChainCache, type VerifiedChainCache } from './chain-cache.js';
import { AuthenticationError } from './errors.js';

export const DEFAULT_USERNAME_HEADERS = ['X-Remote-User'];
export const DEFAULT_GROUP_HEADERS = ['X-Remote-Group'];
export const DEFAULT_EXTRA_HEADER_PREFIXES = ['X-Remote-Extra-'];

export interface RequestHeaderOptions {
  /** --requestheader-client-ca-file, parsed (a bundle may hold several CAs). A function lets serve reload it. */
  clientCA: Certificate[] | (() => Certificate[]);
  /** --requestheader-allowed-names: CNs allowed to assert identities; empty = any cert from the CA. */
  allowedNames: string[];
  usernameHeaders?: string[];
  groupHeaders?: string[];
  extraHeaderPrefixes?: string[];
  clock?: Clock;
  /** The verified-chain cache; default: the one shared with the x509 authenticator. */
  cache?: VerifiedChainCache;
}

/**
 * Every value of a header. The server must hand over Node's `req.headersDistinct` (or raw headers) so that
 * repeated headers stay separate values: Node joins repeated unknown headers with ", " in `req.headers`,
 * and a group name may itself contain a comma.
 */
function headerValues(headers: AuthenticationRequest['headers'], name: string): string[] {
  const v = headers[name.toLowerCase()];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** kube's unescapeExtraKey: %-decoding of the lower-cased key suffix; left as is when malformed. */
export function unescapeExtraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}

export function requestHeaderAuthenticator(options: RequestHeaderOptions): Authenticator {
  const usernameHeaders = options.usernameHeaders ?? DEFAULT_USERNAME_HEADERS;
  const groupHeaders = options.groupHeaders ?? DEFAULT_GROUP_HEADERS;
  const prefixes = (options.extraHeaderPrefixes ?? DEFAULT_EXTRA_HEADER_PREFIXES).map((p) => p.toLowerCase());
  const allowed = new Set(options.allowedNames);
  const clock = options.clock ?? systemClock;
  const cache = options.cache ?? sharedChainCache;
  const clientCAOf = typeof options.clientCA === 'function' ? options.clientCA : () => options.clientCA as Certificate[];
  // The refusal of a cached outcome is the same every time: one error object per outcome (building an
  // Error captures a stack trace, and every request of a client from another CA is refused here).
  const refusals = new WeakMap<object, AuthenticationError>();
  const refuse = (outcome: object, message: () => string): AuthenticationError => {
    let err = refusals.get(outcome);
    if (!err) refusals.set(outcome, (err = new AuthenticationError(message())));
    return err;
  };
  return {
    name: 'requestheader',
    async authenticate(req) {
      if (req.peerCertificates.length === 0) return null;
      // kube's Verifier checks the certificate before looking at any header (a client certificate from
      // another CA is an error even without identity headers); the shared cache makes that cheap.
      const verified = cache.verify(req.peerCertificates, clientCAOf(), 'client auth', clock.now());
      if (verified.kind === 'malformed') throw refuse(verified, () => 'x509: malformed certificate');
      if (verified.kind === 'failed') throw refuse(verified, () => verified.message);
      const leaf = verified.leaf;
      const cn = leaf.subject.commonName ?? '';
      if (allowed.size > 0 && !allowed.has(cn)) throw refuse(verified, () => `x509: subject with cn=${cn} is not in the allowed list`);
      // A trusted proxy that names no user: not applicable, no error (the union tries the next one).
      let username = '';
      for (const h of usernameHeaders) {
        const first = headerValues(req.headers, h)[0];
        if (first) {
          username = first;
          break;
        }
      }
      if (username === '') return null;
      const groups: string[] = [];
      for (const h of groupHeaders) for (const v of headerValues(req.headers, h)) if (v !== '') groups.push(v);
      const extra: Record<string, string[]> = {};
      for (const prefix of prefixes) {
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || !name.toLowerCase().startsWith(prefix)) continue;
          const key = unescapeExtraKey(name.toLowerCase().slice(prefix.length));
          (extra[key] ??= []).push(...(Array.isArray(value) ? value : [value]));
        }
      }
      const user = { username, groups, ...(Object.keys(extra).length > 0 ? { extra } : {}) };
      return { user };
    },
  };
}
