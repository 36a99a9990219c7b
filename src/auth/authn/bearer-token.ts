// Bearer tokens (k8s.io/apiserver pkg/authentication/request/bearertoken): the token is taken from the
// Authorization header and offered to each token authenticator in turn (static token file, service-account
// JWTs, bootstrap tokens — kube's order). A header that is not a non-empty Bearer credential is "not
// applicable"; a bearer token nobody accepts is an error ("invalid bearer token").
import type { Authenticator, AuthenticationRequest, AuthenticationResult } from '../types.js';
import { AggregateAuthenticationError, AuthenticationError } from './errors.js';

/**
 * One kind of token. Returns null when the token is not of its kind or unknown to it; throws when the
 * token is of its kind but invalid (expired, wrong signature, deleted account...).
 * `audiences` are the audiences the caller asks for (absent: no audience check requested).
 */
export interface TokenAuthenticator {
  readonly name: string;
  authenticateToken(token: string, audiences: string[] | undefined): Promise<AuthenticationResult | null>;
}

/** Go's http.Header.Get on Node's lower-cased headers: the first value. */
export function firstHeader(headers: AuthenticationRequest['headers'], name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The token of an `Authorization: Bearer <token>` header, as kube parses it: surrounding whitespace
 * trimmed, the scheme case-insensitive, the token the second space-separated part; undefined when absent,
 * of another scheme, or empty.
 */
export function bearerToken(headers: AuthenticationRequest['headers']): string | undefined {
  const auth = (firstHeader(headers, 'authorization') ?? '').trim();
  if (auth === '') return undefined;
  const parts = auth.split(' ');
  if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return undefined;
  const token = parts[1]!;
  return token === '' ? undefined : token;
}

/** Audiences a request asks for: its own, else the server's API audiences, else none requested. */
export function requestedAudiences(req: AuthenticationRequest, apiAudiences: string[]): string[] | undefined {
  if (req.audiences !== undefined) return req.audiences;
  return apiAudiences.length > 0 ? apiAudiences : undefined;
}

export const intersectAudiences = (a: string[], b: string[]): string[] => a.filter((x) => b.includes(x));

/**
 * kube's WrapAudienceAgnosticToken: a token that carries no audience (token file, bootstrap token) is valid
 * only for the server's own API audiences; asked for other audiences it is not applicable.
 */
export async function audienceAgnostic(
  apiAudiences: string[],
  requested: string[] | undefined,
  authenticate: () => Promise<AuthenticationResult | null>,
): Promise<AuthenticationResult | null> {
  if (requested === undefined) return authenticate();
  const auds = intersectAudiences(apiAudiences, requested);
  if (auds.length === 0) return null;
  const res = await authenticate();
  return res ? { ...res, audiences: auds } : null;
}

export const INVALID_BEARER_TOKEN = 'invalid bearer token';

export interface BearerTokenAuthenticatorOptions {
  tokenAuthenticators: TokenAuthenticator[];
  /** --api-audiences (default: the service-account issuer). */
  apiAudiences: string[];
}

export function bearerTokenAuthenticator(options: BearerTokenAuthenticatorOptions): Authenticator {
  const { tokenAuthenticators, apiAudiences } = options;
  return {
    name: 'bearer-token',
    async authenticate(req) {
      const token = bearerToken(req.headers);
      if (token === undefined) return null;
      const audiences = requestedAudiences(req, apiAudiences);
      const errors: Error[] = [];
      for (const a of tokenAuthenticators) {
        try {
          const res = await a.authenticateToken(token, audiences);
          if (res) return res;
        } catch (err) {
          errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (errors.length > 0) throw new AggregateAuthenticationError(errors);
      throw new AuthenticationError(INVALID_BEARER_TOKEN);
    },
  };
}
