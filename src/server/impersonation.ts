// User impersonation (kube-apiserver's filters/impersonation.go): Impersonate-User, -Uid, -Group and
// -Extra-<key> headers make the request act as another identity, provided the requester is authorized to
// `impersonate` each part (users / serviceaccounts / groups in the core group, uids and userextras in
// authentication.k8s.io). `kubectl --as` and `--as-group` send them.
import { forbiddenError } from '../auth/authz/forbidden.js';
import { badRequest } from '../apis/status.js';
import { GROUP_AUTHENTICATED, USER_ANONYMOUS, GROUP_SERVICE_ACCOUNTS, SERVICE_ACCOUNT_USERNAME_PREFIX } from '../apis/names.js';
import type { AuthorizationAttributes, Authorizer, UserInfo } from '../apis/authorization.js';


function headerValues(headers: Record<string, string | string[] | undefined>, name: string): string[] {
  const v = headers[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/**
 * Returns the identity the request acts as: `user` itself without impersonation headers, the impersonated
 * user when every part is allowed. Throws a 400 for a malformed request, a 403 for a forbidden part.
 */
export async function impersonate(user: UserInfo, headers: Record<string, string | string[] | undefined>, authorizer: Authorizer): Promise<UserInfo> {
  const username = headerValues(headers, 'impersonate-user')[0];
  const uid = headerValues(headers, 'impersonate-uid')[0];
  const groups = headerValues(headers, 'impersonate-group');
  const extra: Record<string, string[]> = {};
  for (const [h, v] of Object.entries(headers)) {
    if (!h.startsWith('impersonate-extra-') || v === undefined) continue;
    const key = decodeURIComponent(h.slice('impersonate-extra-'.length));
    extra[key] = [...(extra[key] ?? []), ...(Array.isArray(v) ? v : [v])];
  }
  if (username === undefined) {
    if (uid !== undefined || groups.length > 0 || Object.keys(extra).length > 0) {
      throw badRequest('requested impersonation of groups, extra or uid without impersonating a user');
    }
    return user;
  }
  const check = async (attrs: Omit<AuthorizationAttributes, 'user' | 'verb' | 'resourceRequest' | 'apiVersion' | 'path'>) => {
    const full: AuthorizationAttributes = { user, verb: 'impersonate', resourceRequest: true, apiVersion: '', path: '', ...attrs };
    const d = await authorizer.authorize(full);
    if (d.decision !== 'allow') throw forbiddenError(full, d.reason);
  };
  const sa = username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX) ? username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(':') : undefined;
  if (sa && sa.length === 2) await check({ apiGroup: '', resource: 'serviceaccounts', subresource: '', namespace: sa[0]!, name: sa[1]! });
  else await check({ apiGroup: '', resource: 'users', subresource: '', namespace: '', name: username });
  for (const g of groups) await check({ apiGroup: '', resource: 'groups', subresource: '', namespace: '', name: g });
  if (uid !== undefined) await check({ apiGroup: 'authentication.k8s.io', resource: 'uids', subresource: '', namespace: '', name: uid });
  for (const [k, vs] of Object.entries(extra)) {
    for (const v of vs) await check({ apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: k, namespace: '', name: v });
  }
  const out: UserInfo = { username, groups: [...groups] };
  if (uid !== undefined) out.uid = uid;
  if (Object.keys(extra).length > 0) out.extra = extra;
  // A service account's groups are a fixed mapping, added when none were asked for.
  if (sa && sa.length === 2 && groups.length === 0) out.groups.push(GROUP_SERVICE_ACCOUNTS, `${GROUP_SERVICE_ACCOUNTS}:${sa[0]}`);
  if (username !== USER_ANONYMOUS && !out.groups.includes(GROUP_AUTHENTICATED)) out.groups.push(GROUP_AUTHENTICATED);
  return out;
}
