// authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview
// (controllers asking about someone else, e.g. the CSR approver) and LocalSubjectAccessReview (the same, within
// one namespace): create-only, never stored; the answer is the server's authorizer's decision for the
// described request.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition, StrategyContext } from '../api/registry.js';
import { arrayOf, bool, mapOf, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { localSubjectAccessReview, selfSubjectAccessReview, subjectAccessReview } from '../auth/reviews.js';
import type { Authorizer } from '../apis/authorization.js';
import type { KubeObject } from '../apis/objects.js';

const GROUP = 'authorization.k8s.io';

const selectorAttributes = (what: 'Field' | 'Label', description: string) =>
  obj(
    {
      rawSelector: str(`rawSelector is the serialization of a ${what.toLowerCase()} selector that would be included in a query parameter.`),
      requirements: arrayOf(
        obj(
          {
            key: str(`key is the ${what.toLowerCase()} selector key that the requirement applies to.`),
            operator: str('operator represents a key\'s relationship to a set of values: In, NotIn, Exists, DoesNotExist.'),
            values: arrayOf(str(), { description: 'values is an array of string values.' }),
          },
          { description: `A ${what.toLowerCase()} selector requirement.` },
        ),
        { description: 'requirements is the parsed interpretation of a selector.' },
      ),
    },
    { name: `io.k8s.api.authorization.v1.${what}SelectorAttributes`, description },
  );

const resourceAttributesSchema = obj(
  {
    fieldSelector: selectorAttributes('Field', 'fieldSelector describes the limitation on access based on field; it can only limit access, not broaden it.'),
    group: str('Group is the API Group of the Resource. "*" means all.'),
    labelSelector: selectorAttributes('Label', 'labelSelector describes the limitation on access based on labels; it can only limit access, not broaden it.'),
    name: str('Name is the name of the resource being requested for a "get" or deleted for a "delete". "" (empty) means all.'),
    namespace: str('Namespace is the namespace of the action being requested. "" (empty) means all namespaces for namespace-scoped resources and is the only value for cluster-scoped ones.'),
    resource: str('Resource is one of the existing resource types. "*" means all.'),
    subresource: str('Subresource is one of the existing resource types. "" means none.'),
    verb: str('Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy. "*" means all.'),
    version: str('Version is the API Version of the Resource. "*" means all.'),
  },
  { name: 'io.k8s.api.authorization.v1.ResourceAttributes', description: 'ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface.' },
);
const nonResourceAttributesSchema = obj(
  { path: str('Path is the URL path of the request.'), verb: str('Verb is the standard HTTP verb.') },
  { name: 'io.k8s.api.authorization.v1.NonResourceAttributes', description: 'NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface.' },
);
const statusSchema = obj(
  {
    allowed: bool('Allowed is required. True if the action would be allowed, false otherwise.'),
    denied: bool('Denied is optional. True if the action would be denied, otherwise false. If both allowed is false and denied is false, then the authorizer has no opinion on whether to authorize the action.'),
    evaluationError: str('EvaluationError is an indication that some error occurred during the authorization check.'),
    reason: str('Reason is optional. It indicates why a request was allowed or denied.'),
  },
  { name: 'io.k8s.api.authorization.v1.SubjectAccessReviewStatus', required: ['allowed'], description: 'SubjectAccessReviewStatus is the result of the access check.' },
);

const specSchema = (withUser: boolean) =>
  obj(
    {
      nonResourceAttributes: nonResourceAttributesSchema,
      resourceAttributes: resourceAttributesSchema,
      ...(withUser
        ? {
            extra: mapOf(arrayOf(str()), 'Extra corresponds to the user.Info.GetExtra() method from the authenticator.'),
            groups: arrayOf(str(), { listType: 'atomic', description: 'Groups is the groups you\'re testing for.' }),
            uid: str('UID information about the requesting user.'),
            user: str('User is the user you\'re testing for.'),
          }
        : {}),
    },
    {
      name: withUser ? 'io.k8s.api.authorization.v1.SubjectAccessReviewSpec' : 'io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec',
      description: 'The attributes of the request being checked: exactly one of resourceAttributes and nonResourceAttributes must be set.',
    },
  );

type ReviewKind = 'SelfSubjectAccessReview' | 'SubjectAccessReview' | 'LocalSubjectAccessReview';

const DESCRIPTIONS: Record<ReviewKind, string> = {
  SelfSubjectAccessReview: 'SelfSubjectAccessReview checks whether or the current user can perform an action. Not filling in a spec.namespace means "in all namespaces".',
  SubjectAccessReview: 'SubjectAccessReview checks whether or not a user or group can perform an action.',
  LocalSubjectAccessReview:
    'LocalSubjectAccessReview checks whether or not a user or group can perform an action in a given namespace. Having a namespace scoped resource makes it much easier to grant namespace scoped policy that includes permissions checking.',
};

const REVIEWS: Record<ReviewKind, (authorizer: Authorizer, obj: KubeObject, ctx: StrategyContext) => Promise<KubeObject>> = {
  SelfSubjectAccessReview: (authorizer, obj, ctx) => selfSubjectAccessReview(authorizer, ctx.user, obj),
  SubjectAccessReview: (authorizer, obj) => subjectAccessReview(authorizer, obj),
  LocalSubjectAccessReview: (authorizer, obj) => localSubjectAccessReview(authorizer, obj),
};

function reviewDefinition(kind: ReviewKind): ResourceDefinition {
  const self = kind === 'SelfSubjectAccessReview';
  return {
    group: GROUP,
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural: kind.toLowerCase() + 's',
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced: kind === 'LocalSubjectAccessReview',
    verbs: ['create'],
    schema: kindSchema({
      name: `io.k8s.api.authorization.v1.${kind}`,
      group: GROUP,
      version: 'v1',
      kind,
      description: DESCRIPTIONS[kind],
      required: ['spec'],
      properties: { spec: specSchema(!self), status: statusSchema },
    }),
    validateName: isPathSegmentName,
    strategy: {},
    subresources: [],
    // The review logic is src/auth/reviews.ts (kube's validation, attributes and status).
    async virtualCreate(obj, ctx) {
      const authorizer: Authorizer = { authorize: (a) => ctx.authorize(a) };
      // kube answers with the posted review and its status: never stored, it has no creation time (null).
      return REVIEWS[kind](authorizer, obj, ctx);
    },
  };
}

export const selfSubjectAccessReviews = reviewDefinition('SelfSubjectAccessReview');
export const subjectAccessReviews = reviewDefinition('SubjectAccessReview');
export const localSubjectAccessReviews = reviewDefinition('LocalSubjectAccessReview');
