// Bootstrap tokens as Secrets (k8s.io/cluster-bootstrap token/api, token/util, secret util): the token
// format `[a-z0-9]{6}.[a-z0-9]{16}`, the Secret `bootstrap-token-<id>` of type bootstrap.kubernetes.io/token
// in kube-system, its data keys, usages, extra groups and expiration. Shared by the authenticator and by
// `kubepki token`.
import { randomInt } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { secretDataString } from './objects.js';
import { NAMESPACE_SYSTEM, GROUP_BOOTSTRAPPERS } from '../apis/names.js';
import type { Secret } from '../apis/objects.js';
import { formatTime } from '../util/time.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_SECRET_PREFIX = 'bootstrap-token-';

export const KEY_TOKEN_ID = 'token-id';
export const KEY_TOKEN_SECRET = 'token-secret';
export const KEY_EXPIRATION = 'expiration';
export const KEY_DESCRIPTION = 'description';
export const KEY_EXTRA_GROUPS = 'auth-extra-groups';
export const KEY_USAGE_PREFIX = 'usage-bootstrap-';
export const KEY_USAGE_AUTHENTICATION = 'usage-bootstrap-authentication';
export const KEY_USAGE_SIGNING = 'usage-bootstrap-signing';

export const KNOWN_TOKEN_USAGES = ['signing', 'authentication'] as const;

export const BOOTSTRAP_TOKEN_PATTERN = '\\A([a-z0-9]{6})\\.([a-z0-9]{16})\\z';
export const BOOTSTRAP_TOKEN_ID_PATTERN = '\\A([a-z0-9]{6})\\z';
export const BOOTSTRAP_GROUP_PATTERN = '\\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z';
const TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const TOKEN_ID_RE = /^[a-z0-9]{6}$/;
const GROUP_RE = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

export const bootstrapTokenSecretName = (id: string): string => BOOTSTRAP_TOKEN_SECRET_PREFIX + id;

/** `<id>.<secret>` split, or null when the string is not a bootstrap token. */
export function parseBootstrapToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

export const isValidBootstrapTokenId = (id: string): boolean => TOKEN_ID_RE.test(id);

const TOKEN_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A fresh random token (uniform over the alphabet: crypto.randomInt rejects biased draws). */
export function generateBootstrapToken(random: (max: number) => number = randomInt): string {
  const pick = (n: number) => Array.from({ length: n }, () => TOKEN_CHARS[random(TOKEN_CHARS.length)]).join('');
  return `${pick(6)}.${pick(16)}`;
}

export function validateBootstrapGroupName(group: string): void {
  if (!GROUP_RE.test(group)) {
    throw new KubepkiError('InvalidArgument', `bootstrap group "${group}" is invalid (must match ${BOOTSTRAP_GROUP_PATTERN})`);
  }
}

export function validateUsages(usages: string[]): void {
  const invalid = [...new Set(usages.filter((u) => !(KNOWN_TOKEN_USAGES as readonly string[]).includes(u)))].sort();
  if (invalid.length > 0) {
    throw new KubepkiError('InvalidArgument', `invalid bootstrap token usage string: ${invalid.join(',')}, valid usage options: ${KNOWN_TOKEN_USAGES.join(',')}`);
  }
}

/**
 * The groups a bootstrap token authenticates with: system:bootstrappers plus auth-extra-groups, each
 * validated, de-duplicated and sorted (bootstrapsecretutil.GetGroups). Throws on an invalid group.
 */
export function bootstrapTokenGroups(secret: Secret): string[] {
  const groups = new Set([GROUP_BOOTSTRAPPERS]);
  const extra = secretDataString(secret, KEY_EXTRA_GROUPS) ?? '';
  if (extra !== '') {
    for (const g of extra.split(',')) {
      validateBootstrapGroupName(g);
      groups.add(g);
    }
  }
  return [...groups].sort();
}

/** The expiration, or undefined when the token never expires; an unparseable date counts as expired. */
export function bootstrapTokenExpiration(secret: Secret): { expires?: Date; invalid: boolean } {
  const v = secretDataString(secret, KEY_EXPIRATION) ?? '';
  if (v === '') return { invalid: false };
  // RFC 3339 as Go's time.Parse(time.RFC3339) accepts it.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v)) return { invalid: true };
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? { invalid: true } : { expires: d, invalid: false };
}

export function isBootstrapTokenExpired(secret: Secret, now: Date): boolean {
  const { expires, invalid } = bootstrapTokenExpiration(secret);
  if (invalid) return true;
  return expires !== undefined && expires.getTime() - now.getTime() <= 0;
}

export interface BootstrapTokenSpec {
  token: string;
  description?: string;
  /** Milliseconds; 0 or absent = never expires. */
  ttlMs?: number;
  usages: string[];
  groups: string[];
}

/** The Secret kubeadm writes for a token (BootstrapTokenToSecret). Validates the spec first. */
export function bootstrapTokenToSecret(spec: BootstrapTokenSpec, now: Date): Secret {
  const parsed = parseBootstrapToken(spec.token);
  if (!parsed) throw new KubepkiError('InvalidArgument', `the bootstrap token "${spec.token}" was not of the form ${BOOTSTRAP_TOKEN_PATTERN}`);
  validateUsages(spec.usages);
  for (const g of spec.groups) validateBootstrapGroupName(g);
  const data: Record<string, string> = { [KEY_TOKEN_ID]: parsed.id, [KEY_TOKEN_SECRET]: parsed.secret };
  if (spec.description) data[KEY_DESCRIPTION] = spec.description;
  if (spec.ttlMs !== undefined && spec.ttlMs > 0) data[KEY_EXPIRATION] = formatTime(new Date(now.getTime() + spec.ttlMs));
  for (const u of spec.usages) data[KEY_USAGE_PREFIX + u] = 'true';
  if (spec.groups.length > 0) data[KEY_EXTRA_GROUPS] = spec.groups.join(',');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: bootstrapTokenSecretName(parsed.id), namespace: NAMESPACE_SYSTEM },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

export interface BootstrapTokenInfo {
  token: string;
  description: string;
  expires?: Date;
  usages: string[];
  groups: string[];
}

/** The token a Secret describes (kubeadm's BootstrapTokenFromSecret); throws naming what is wrong. */
export function bootstrapTokenFromSecret(secret: Secret): BootstrapTokenInfo {
  const name = secret.metadata.name ?? '';
  const id = secretDataString(secret, KEY_TOKEN_ID) ?? '';
  if (!isValidBootstrapTokenId(id)) throw new KubepkiError('InvalidArgument', `bootstrap token id is not valid for secret "${name}"`);
  if (name !== bootstrapTokenSecretName(id)) {
    throw new KubepkiError('InvalidArgument', `bootstrap token name is not of the form '${BOOTSTRAP_TOKEN_SECRET_PREFIX}(token-id)'. Actual: "${name}". Expected: "${bootstrapTokenSecretName(id)}"`);
  }
  const tokenSecret = secretDataString(secret, KEY_TOKEN_SECRET) ?? '';
  const token = `${id}.${tokenSecret}`;
  if (!parseBootstrapToken(token)) throw new KubepkiError('InvalidArgument', `bootstrap token could not be parsed from secret "${name}"`);
  const exp = bootstrapTokenExpiration(secret);
  if (exp.invalid) throw new KubepkiError('InvalidArgument', `can't parse expiration time of bootstrap token "${name}"`);
  const usages = Object.keys(secret.data ?? {})
    .filter((k) => k.startsWith(KEY_USAGE_PREFIX) && secretDataString(secret, k) === 'true')
    .map((k) => k.slice(KEY_USAGE_PREFIX.length))
    .sort();
  const extra = secretDataString(secret, KEY_EXTRA_GROUPS) ?? '';
  const info: BootstrapTokenInfo = {
    token,
    description: secretDataString(secret, KEY_DESCRIPTION) ?? '',
    usages,
    groups: extra === '' ? [] : extra.split(','),
  };
  if (exp.expires) info.expires = exp.expires;
  return info;
}
