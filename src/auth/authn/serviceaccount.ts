// The service-account token authenticator (kube's pkg/serviceaccount/jwt.go with the bound-token validator
// of claims.go and the legacy one of legacy.go). A JWT whose issuer is not ours is "not mine"; one that is
// ours must verify with one of the --service-account-key-file keys (in its own algorithm family: never
// "none", never HMAC), carry an audience the caller accepts, be within its validity (one minute of leeway,
// as go-jose), and still point at the live objects it was issued for: the ServiceAccount with the same uid,
// and the bound Secret/Pod/Node or, for legacy tokens, the Secret that still holds this very token.
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { systemClock, type Clock } from '../../util/clock.js';
import type { AuthenticationResult } from '../types.js';
import { secretDataBytes, type CredentialObjectLookup } from '../objects.js';
import {
  LEGACY_ISSUER,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  verificationAlgorithmsForKey,
} from '../serviceaccount-token.js';
import { intersectAudiences, type TokenAuthenticator } from './bearer-token.js';
import { AggregateAuthenticationError, AuthenticationError } from './errors.js';
import type { UserInfo } from '../../apis/authorization.js';

export const EXTRA_POD_NAME = 'authentication.kubernetes.io/pod-name';
export const EXTRA_POD_UID = 'authentication.kubernetes.io/pod-uid';
export const EXTRA_NODE_NAME = 'authentication.kubernetes.io/node-name';
export const EXTRA_NODE_UID = 'authentication.kubernetes.io/node-uid';
export const EXTRA_CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

/** go-jose's jwt.DefaultLeeway. */
const LEEWAY_MS = 60_000;

export interface ServiceAccountAuthenticatorOptions {
  /** --service-account-key-file keys (several during a rotation). A function lets serve reload them. */
  keys: KeyObject[] | (() => KeyObject[]);
  /** --service-account-issuer values; the first is the one tokens are issued with. */
  issuers: string[];
  /** --api-audiences (default: the issuers). */
  apiAudiences: string[];
  lookup: CredentialObjectLookup;
  /** Accept legacy Secret-based tokens (iss kubernetes/serviceaccount). Default true. */
  legacy?: boolean;
  clock?: Clock;
}

interface Claims {
  iss?: unknown;
  sub?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  iat?: unknown;
  jti?: unknown;
  [k: string]: unknown;
}

interface Ref {
  name?: string;
  uid?: string;
}

interface KubernetesClaims {
  namespace?: string;
  serviceaccount?: Ref;
  pod?: Ref;
  secret?: Ref;
  node?: Ref;
}

/** The unverified issuer of a compact JWS, or undefined if it is not one (kube's hasCorrectIssuer). */
function unverifiedIssuer(token: string): string | undefined {
  if (token.trim().startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (payload && typeof payload === 'object' && typeof (payload as Claims).iss === 'string') return (payload as Claims).iss as string;
  } catch {
    return undefined;
  }
  return undefined;
}

const numeric = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const goQuoteList = (l: string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;

export function serviceAccountAuthenticator(options: ServiceAccountAuthenticatorOptions): TokenAuthenticator {
  const clock = options.clock ?? systemClock;
  const legacy = options.legacy ?? true;
  const issuers = new Set(options.issuers);
  const withAlgorithms = (list: KeyObject[]) => list.map((key) => ({ key, algorithms: verificationAlgorithmsForKey(key) }));
  const keysOf = typeof options.keys === 'function' ? options.keys : () => options.keys as KeyObject[];
  let lastKeys = keysOf();
  let keys = withAlgorithms(lastKeys);

  async function verify(token: string): Promise<Claims> {
    // A token that is not even a JWS is rejected before any key is tried.
    try {
      decodeProtectedHeader(token);
    } catch {
      throw new AuthenticationError('go-jose/go-jose: compact JWS format must have three parts');
    }
    const errors: Error[] = [];
    const current = keysOf();
    if (current !== lastKeys) {
      lastKeys = current;
      keys = withAlgorithms(current);
    }
    for (const { key, algorithms } of keys) {
      try {
        const { payload } = await compactVerify(token, key, { algorithms });
        const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
        if (!claims || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('invalid claims');
        return claims as Claims;
      } catch {
        errors.push(new AuthenticationError('go-jose/go-jose: error in cryptographic primitive'));
      }
    }
    throw new AggregateAuthenticationError(errors.length > 0 ? errors : [new AuthenticationError('no service-account verification keys')]);
  }

  function checkTime(claims: Claims, now: number): void {
    const nbf = numeric(claims.nbf);
    const exp = numeric(claims.exp);
    const iat = numeric(claims.iat);
    if (nbf !== undefined && now + LEEWAY_MS < nbf * 1000) throw new AuthenticationError('service account token is not valid yet');
    if (exp !== undefined && now - LEEWAY_MS > exp * 1000) throw new AuthenticationError('service account token has expired');
    if (iat !== undefined && now + LEEWAY_MS < iat * 1000) throw new AuthenticationError('service account token is issued in the future');
  }

  /** claims.go's validator: the live objects must still be the ones the token names. */
  async function validateBound(claims: Claims, now: number): Promise<UserInfo> {
    checkTime(claims, now);
    const k8s = (claims['kubernetes.io'] ?? {}) as KubernetesClaims;
    const namespace = str(k8s.namespace);
    const saName = str(k8s.serviceaccount?.name);
    const saUid = str(k8s.serviceaccount?.uid);
    const deletedBefore = now - LEEWAY_MS;
    const deletedLongAgo = (ts: unknown) => typeof ts === 'string' && new Date(ts).getTime() < deletedBefore;
    const sa = await options.lookup.getServiceAccount(namespace, saName);
    if (!sa) throw new AuthenticationError(`serviceaccounts ${JSON.stringify(saName)} not found`);
    if ((sa.metadata.uid ?? '') !== saUid) throw new AuthenticationError(`service account UID (${sa.metadata.uid ?? ''}) does not match claim (${saUid})`);
    if (deletedLongAgo(sa.metadata.deletionTimestamp)) throw new AuthenticationError(`service account ${namespace}/${saName} has been deleted`);
    const extra: Record<string, string[]> = {};
    if (k8s.secret) {
      const secret = await options.lookup.getSecret(namespace, str(k8s.secret.name));
      if (!secret) throw new AuthenticationError('service account token has been invalidated');
      if ((secret.metadata.uid ?? '') !== str(k8s.secret.uid)) {
        throw new AuthenticationError(`secret UID (${secret.metadata.uid ?? ''}) does not match service account secret ref claim (${str(k8s.secret.uid)})`);
      }
      if (deletedLongAgo(secret.metadata.deletionTimestamp)) throw new AuthenticationError('service account token has been invalidated');
    }
    if (k8s.pod) {
      const pod = options.lookup.getPod ? await options.lookup.getPod(namespace, str(k8s.pod.name)) : null;
      if (!pod) throw new AuthenticationError('service account token has been invalidated');
      if ((pod.metadata.uid ?? '') !== str(k8s.pod.uid)) {
        throw new AuthenticationError(`pod UID (${pod.metadata.uid ?? ''}) does not match service account pod ref claim (${str(k8s.pod.uid)})`);
      }
      if (deletedLongAgo(pod.metadata.deletionTimestamp)) throw new AuthenticationError('service account token has been invalidated');
      extra[EXTRA_POD_NAME] = [str(k8s.pod.name)];
      extra[EXTRA_POD_UID] = [str(k8s.pod.uid)];
    }
    if (k8s.node) {
      const node = options.lookup.getNode ? await options.lookup.getNode(str(k8s.node.name)) : null;
      if (!node) throw new AuthenticationError('service account token has been invalidated');
      if ((node.metadata.uid ?? '') !== str(k8s.node.uid)) {
        throw new AuthenticationError(`node UID (${node.metadata.uid ?? ''}) does not match service account node ref claim (${str(k8s.node.uid)})`);
      }
      if (deletedLongAgo(node.metadata.deletionTimestamp)) throw new AuthenticationError('service account token has been invalidated');
    }
    const jti = str(claims.jti);
    if (jti !== '') extra[EXTRA_CREDENTIAL_ID] = [`JTI=${jti}`];
    if (k8s.node) {
      extra[EXTRA_NODE_NAME] = [str(k8s.node.name)];
      extra[EXTRA_NODE_UID] = [str(k8s.node.uid)];
    }
    const user: UserInfo = { username: serviceAccountUsername(namespace, saName), uid: saUid, groups: serviceAccountGroups(namespace) };
    if (Object.keys(extra).length > 0) user.extra = extra;
    return user;
  }

  /** legacy.go's validator: the Secret must still exist and hold exactly this token. */
  async function validateLegacy(token: string, claims: Claims): Promise<UserInfo> {
    const namespace = str(claims['kubernetes.io/serviceaccount/namespace']);
    const secretName = str(claims['kubernetes.io/serviceaccount/secret.name']);
    const saName = str(claims['kubernetes.io/serviceaccount/service-account.name']);
    const saUid = str(claims['kubernetes.io/serviceaccount/service-account.uid']);
    if (str(claims.sub) === '') throw new AuthenticationError('sub claim is missing');
    if (namespace === '') throw new AuthenticationError('namespace claim is missing');
    if (secretName === '') throw new AuthenticationError('secretName claim is missing');
    if (saName === '') throw new AuthenticationError('serviceAccountName claim is missing');
    if (saUid === '') throw new AuthenticationError('serviceAccountUID claim is missing');
    const subject = splitServiceAccountUsername(str(claims.sub));
    if (!subject || subject.namespace !== namespace || subject.name !== saName) throw new AuthenticationError('sub claim is invalid');
    const secret = await options.lookup.getSecret(namespace, secretName);
    if (!secret || secret.metadata.deletionTimestamp) throw new AuthenticationError('token has been invalidated');
    const stored = secretDataBytes(secret, 'token') ?? Buffer.alloc(0);
    const presented = Buffer.from(token, 'utf8');
    if (stored.length !== presented.length || !timingSafeEqual(stored, presented)) throw new AuthenticationError("token does not match server's copy");
    const sa = await options.lookup.getServiceAccount(namespace, saName);
    if (!sa) throw new AuthenticationError(`serviceaccounts ${JSON.stringify(saName)} not found`);
    if (sa.metadata.deletionTimestamp) throw new AuthenticationError(`ServiceAccount ${namespace}/${saName} has been deleted`);
    if ((sa.metadata.uid ?? '') !== saUid) throw new AuthenticationError(`ServiceAccount UID (${sa.metadata.uid ?? ''}) does not match claim (${saUid})`);
    return { username: serviceAccountUsername(namespace, saName), uid: saUid, groups: serviceAccountGroups(namespace) };
  }

  return {
    name: 'serviceaccount',
    async authenticateToken(token, requested): Promise<AuthenticationResult | null> {
      const iss = unverifiedIssuer(token);
      const isLegacy = legacy && iss === LEGACY_ISSUER;
      if (iss === undefined || (!isLegacy && !issuers.has(iss))) return null;
      const claims = await verify(token);
      if (str(claims.iss) !== iss) throw new AuthenticationError(`token issuer ${JSON.stringify(str(claims.iss))} is invalid`);
      const aud = claims.aud;
      let tokenAudiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
      if (tokenAudiences.length === 0) tokenAudiences = options.apiAudiences; // legacy tokens carry none
      const wanted = requested ?? options.apiAudiences;
      const auds = intersectAudiences(tokenAudiences, wanted);
      if (auds.length === 0 && options.apiAudiences.length > 0) {
        throw new AuthenticationError(`token audiences ${goQuoteList(tokenAudiences)} is invalid for the target audiences ${goQuoteList(wanted)}`);
      }
      const now = clock.now().getTime();
      const user = isLegacy ? await validateLegacy(token, claims) : await validateBound(claims, now);
      return { user, audiences: auds };
    },
  };
}
