// The review APIs' logic (kube's pkg/registry/authentication/tokenreview and
// pkg/registry/authorization/{subjectaccessreview,localsubjectaccessreview,selfsubjectaccessreview,selfsubjectrulesreview}): each
// takes the posted object and the caller, and returns the object with its status. Nothing is stored.
import { intersectAudiences } from './authn/bearer-token.js';
import type { RuleResolver, RulesForResult } from './authz/rbac.js';
import type { Authenticator } from './types.js';
import type { AuthorizationAttributes, Authorizer, UserInfo } from '../apis/authorization.js';
import type { KubeObject } from '../apis/objects.js';
import { badRequest, internalError, invalid, invalidObject, type FieldError } from '../apis/status.js';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

export interface SubjectAccessReviewObject extends KubeObject {
  spec?: {
    resourceAttributes?: ResourceAttributes | null;
    nonResourceAttributes?: NonResourceAttributes | null;
    user?: string;
    groups?: string[] | null;
    extra?: Record<string, string[]> | null;
    uid?: string;
  };
  status?: SubjectAccessReviewStatus;
}

export interface SubjectAccessReviewStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

const AUTHORIZATION_GROUP = 'authorization.k8s.io';

/** kube's authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom. */
export function attributesFromReview(user: UserInfo, spec: { resourceAttributes?: ResourceAttributes | null; nonResourceAttributes?: NonResourceAttributes | null }): AuthorizationAttributes {
  if (spec.resourceAttributes) {
    const a = spec.resourceAttributes;
    return {
      user,
      verb: a.verb ?? '',
      resourceRequest: true,
      apiGroup: a.group ?? '',
      apiVersion: a.version || '*',
      resource: a.resource ?? '',
      subresource: a.subresource ?? '',
      namespace: a.namespace ?? '',
      name: a.name ?? '',
      path: '',
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: n.path ?? '' };
}

function exactlyOneAttributes(spec: NonNullable<SubjectAccessReviewObject['spec']>): FieldError[] {
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    return [invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes')];
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    return [invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  }
  return [];
}

async function decide(authorizer: Authorizer, attrs: AuthorizationAttributes): Promise<SubjectAccessReviewStatus> {
  try {
    const r = await authorizer.authorize(attrs);
    const status: SubjectAccessReviewStatus = { allowed: r.decision === 'allow' };
    if (r.decision === 'deny') status.denied = true;
    if (r.reason) status.reason = r.reason;
    return status;
  } catch (err) {
    return { allowed: false, evaluationError: (err as Error).message };
  }
}

const withStatus = <T extends KubeObject>(obj: T, kind: string, status: unknown): T => ({
  ...obj,
  apiVersion: `${AUTHORIZATION_GROUP}/v1`,
  kind,
  metadata: { ...(obj.metadata ?? {}), creationTimestamp: null },
  status,
});

/** ValidateSubjectAccessReviewSpec: one kind of attributes, and someone to ask about. */
function subjectAccessReviewSpecErrors(spec: NonNullable<SubjectAccessReviewObject['spec']>): FieldError[] {
  const errs = exactlyOneAttributes(spec);
  if (!spec.user && (spec.groups ?? []).length === 0) errs.push(invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  return errs;
}

function reviewedUser(spec: NonNullable<SubjectAccessReviewObject['spec']>): UserInfo {
  const user: UserInfo = { username: spec.user ?? '', groups: [...(spec.groups ?? [])] };
  if (spec.uid) user.uid = spec.uid;
  if (spec.extra) user.extra = structuredClone(spec.extra);
  return user;
}

/** POST /apis/authorization.k8s.io/v1/subjectaccessreviews: may the given user/groups do this? */
export async function subjectAccessReview(authorizer: Authorizer, review: SubjectAccessReviewObject): Promise<SubjectAccessReviewObject> {
  const spec = review.spec ?? {};
  const errs = subjectAccessReviewSpecErrors(spec);
  if (errs.length > 0) throw invalidObject({ group: AUTHORIZATION_GROUP, kind: 'SubjectAccessReview' }, '', errs);
  return withStatus(review, 'SubjectAccessReview', await decide(authorizer, attributesFromReview(reviewedUser(spec), spec)));
}

/**
 * POST .../namespaces/{namespace}/localsubjectaccessreviews: the same question within one namespace, which a
 * namespace's admin may be allowed to ask (ValidateLocalSubjectAccessReview). `review.metadata.namespace` is
 * the request's namespace.
 */
export async function localSubjectAccessReview(authorizer: Authorizer, review: SubjectAccessReviewObject): Promise<SubjectAccessReviewObject> {
  const spec = review.spec ?? {};
  const namespace = review.metadata?.namespace ?? '';
  const errs = subjectAccessReviewSpecErrors(spec);
  if (spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
    errs.push(invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace ?? '', 'must match metadata.namespace'));
  }
  if (spec.nonResourceAttributes) errs.push(invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'disallowed on this kind of request'));
  if (errs.length > 0) throw invalidObject({ group: AUTHORIZATION_GROUP, kind: 'LocalSubjectAccessReview' }, '', errs);
  return withStatus(review, 'LocalSubjectAccessReview', await decide(authorizer, attributesFromReview(reviewedUser(spec), spec)));
}

/** POST .../selfsubjectaccessreviews: may I do this? */
export async function selfSubjectAccessReview(authorizer: Authorizer, caller: UserInfo, review: SubjectAccessReviewObject): Promise<SubjectAccessReviewObject> {
  const spec = review.spec ?? {};
  const errs = exactlyOneAttributes(spec);
  if (errs.length > 0) throw invalidObject({ group: AUTHORIZATION_GROUP, kind: 'SelfSubjectAccessReview' }, '', errs);
  return withStatus(review, 'SelfSubjectAccessReview', await decide(authorizer, attributesFromReview(caller, spec)));
}

export interface SelfSubjectRulesReviewObject extends KubeObject {
  spec?: { namespace?: string };
  status?: RulesForResult;
}

/** POST .../selfsubjectrulesreviews: what may I do in this namespace (kubectl auth can-i --list)? */
export function selfSubjectRulesReview(resolvers: RuleResolver[], caller: UserInfo, review: SelfSubjectRulesReviewObject): SelfSubjectRulesReviewObject {
  const namespace = review.spec?.namespace ?? '';
  if (namespace === '') throw badRequest('no namespace on request');
  const status: RulesForResult = { resourceRules: [], nonResourceRules: [], incomplete: false };
  const errors: string[] = [];
  for (const r of resolvers) {
    const res = r.rulesFor(caller, namespace);
    status.resourceRules.push(...res.resourceRules);
    status.nonResourceRules.push(...res.nonResourceRules);
    status.incomplete ||= res.incomplete;
    if (res.evaluationError) errors.push(res.evaluationError);
  }
  if (errors.length > 0) status.evaluationError = errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
  return withStatus(review, 'SelfSubjectRulesReview', status);
}

export interface TokenReviewObject extends KubeObject {
  spec?: { token?: string; audiences?: string[] | null };
  status?: {
    authenticated?: boolean;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
    audiences?: string[];
    error?: string;
  };
}

/**
 * POST /apis/authentication.k8s.io/v1/tokenreviews: runs the token through the server's own
 * authenticator chain as a request carrying only `Authorization: Bearer <token>`.
 */
export async function tokenReview(options: { authenticator: Authenticator; apiAudiences: string[]; review: TokenReviewObject }): Promise<TokenReviewObject> {
  const { authenticator, apiAudiences, review } = options;
  const token = review.spec?.token ?? '';
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const specAuds = review.spec?.audiences ?? [];
  const auds = specAuds.length > 0 ? specAuds : apiAudiences;
  // kube's status.user is a struct, not a pointer: an unauthenticated review still carries `user: {}`.
  const status: NonNullable<TokenReviewObject['status']> = { user: {} };
  let result;
  try {
    result = await authenticator.authenticate({
      headers: { authorization: `Bearer ${token}` },
      peerCertificates: [],
      ...(auds.length > 0 ? { audiences: auds } : {}),
    });
  } catch (err) {
    status.error = (err as Error).message;
  }
  if (result) {
    if (auds.length > 0 && intersectAudiences(auds, result.audiences ?? []).length === 0) {
      throw internalError(new Error('error validating audiences'));
    }
    status.authenticated = true;
    const u = result.user;
    status.user = { username: u.username, groups: [...u.groups] };
    if (u.uid) status.user.uid = u.uid;
    if (u.extra) status.user.extra = structuredClone(u.extra);
    status.audiences = result.audiences ?? [];
  }
  return {
    ...review,
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenReview',
    metadata: { ...(review.metadata ?? {}), creationTimestamp: null },
    status,
  };
}
