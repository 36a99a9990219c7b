// The bootstrap-token authenticator (--enable-bootstrap-token-auth; kube's plugin/pkg/auth/authenticator/
// token/bootstrap): `Bearer <id>.<secret>` is looked up as Secret kube-system/bootstrap-token-<id>. Any
// mismatch — missing or deleting Secret, wrong type, wrong secret, expired, not usable for authentication,
// bad extra group — makes the token "not mine" (kube logs why and the request ends "invalid bearer
// token"): nothing tells a caller which part was wrong.
import { timingSafeEqual, createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, KEY_TOKEN_ID, KEY_TOKEN_SECRET, KEY_USAGE_AUTHENTICATION, bootstrapTokenGroups, bootstrapTokenSecretName, isBootstrapTokenExpired, parseBootstrapToken } from '../bootstrap-token-secret.js';
import { secretDataString, type MaybePromise } from '../objects.js';
import { audienceAgnostic, type TokenAuthenticator } from './bearer-token.js';
import { NAMESPACE_SYSTEM, BOOTSTRAP_USER_PREFIX } from '../../apis/names.js';
import type { Secret } from '../../apis/objects.js';

export interface BootstrapTokenAuthenticatorOptions {
  /** Reads a Secret of kube-system (the server's watch-fed cache); null when absent. */
  getSecret(namespace: string, name: string): MaybePromise<Secret | null>;
  apiAudiences: string[];
  clock?: Clock;
  logger?: Logger;
}

/** Equal-length digests, so the comparison time says nothing about the secret (not even its length). */
const constantTimeEqual = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export function bootstrapTokenAuthenticator(options: BootstrapTokenAuthenticatorOptions): TokenAuthenticator {
  const clock = options.clock ?? systemClock;
  const log = (secretName: string, why: string) => options.logger?.debug(`Bootstrap secret ${NAMESPACE_SYSTEM}/${secretName} ${why}`);
  return {
    name: 'bootstrap-token',
    async authenticateToken(token, audiences) {
      const parsed = parseBootstrapToken(token);
      if (!parsed) return null;
      return audienceAgnostic(options.apiAudiences, audiences, async () => {
        const name = bootstrapTokenSecretName(parsed.id);
        const secret = await options.getSecret(NAMESPACE_SYSTEM, name);
        if (!secret) {
          log(name, 'not found to match bootstrap bearer token');
          return null;
        }
        if (secret.metadata.deletionTimestamp) {
          log(name, 'is deleted and awaiting removal');
          return null;
        }
        if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || !secret.data) {
          log(name, `has invalid type, expected ${BOOTSTRAP_TOKEN_SECRET_TYPE}.`);
          return null;
        }
        if (!constantTimeEqual(secretDataString(secret, KEY_TOKEN_SECRET) ?? '', parsed.secret)) {
          log(name, `has invalid value for key ${KEY_TOKEN_SECRET}.`);
          return null;
        }
        if (secretDataString(secret, KEY_TOKEN_ID) !== parsed.id) {
          log(name, `has invalid value for key ${KEY_TOKEN_ID}.`);
          return null;
        }
        if (isBootstrapTokenExpired(secret, clock.now())) {
          log(name, 'has expired');
          return null;
        }
        if (secretDataString(secret, KEY_USAGE_AUTHENTICATION) !== 'true') {
          log(name, `not marked ${KEY_USAGE_AUTHENTICATION}=true.`);
          return null;
        }
        let groups: string[];
        try {
          groups = bootstrapTokenGroups(secret);
        } catch (err) {
          log(name, `has invalid value for key auth-extra-groups: ${(err as Error).message}.`);
          return null;
        }
        return { user: { username: BOOTSTRAP_USER_PREFIX + parsed.id, groups } };
      });
    },
  };
}
