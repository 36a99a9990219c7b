// The union authenticator, as kube-apiserver composes it (pkg/kubeapiserver/authenticator/config.go and
// k8s.io/apiserver .../request/union): authenticators tried in order — request header (front proxy), x509
// client certificate, bearer tokens (token file, service account, bootstrap) — first success wins and every
// error is collected. A success gains system:authenticated (group.AuthenticatedGroupAdder). Only when no
// authenticator erred may the request fall back to anonymous (union.NewFailOnError): a bad credential is
// a 401, not an anonymous request.
import type { Authenticator, AuthenticationResult } from '../types.js';
import { anonymousAuthenticator } from './anonymous.js';
import { AggregateAuthenticationError } from './errors.js';
import { GROUP_AUTHENTICATED, GROUP_UNAUTHENTICATED, USER_ANONYMOUS } from '../../apis/names.js';
import type { UserInfo } from '../../apis/authorization.js';

export interface UnionAuthenticatorOptions {
  /** In kube's order (buildAuthenticator in ../config.ts builds it). */
  authenticators: Authenticator[];
  /** --anonymous-auth */
  anonymous: boolean;
}

/** kube's AuthenticatedGroupAdder: every authenticated user except anonymous is in system:authenticated. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === USER_ANONYMOUS) return user;
  if (user.groups.includes(GROUP_AUTHENTICATED) || user.groups.includes(GROUP_UNAUTHENTICATED)) return user;
  return { ...user, groups: [...user.groups, GROUP_AUTHENTICATED] };
}

/**
 * The whole chain as one Authenticator: resolves to the identity, or null (→ 401) when nothing applied and
 * anonymous is off; throws an AggregateAuthenticationError (→ 401, logged with
 * authenticationFailureLogLine) when credentials were present but none was valid.
 */
export function unionAuthenticator(options: UnionAuthenticatorOptions): Authenticator {
  const { authenticators, anonymous } = options;
  return {
    name: 'union',
    async authenticate(req): Promise<AuthenticationResult | null> {
      const errors: Error[] = [];
      for (const a of authenticators) {
        try {
          const res = await a.authenticate(req);
          if (res) return { ...res, user: withAuthenticatedGroup(res.user) };
        } catch (err) {
          errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      }
      if (errors.length > 0) throw new AggregateAuthenticationError(errors);
      if (anonymous) return anonymousAuthenticator.authenticate(req);
      return null;
    },
  };
}
