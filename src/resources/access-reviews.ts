// authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`) and SubjectAccessReview
// (controllers asking about someone else, e.g. the CSR approver): create-only, never stored; the answer is
// the server's authorizer's decision for the described request.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, bool, mapOf, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { selfSubjectAccessReview, subjectAccessReview } from '../auth/reviews.js';
import type { Authorizer } from '../apis/authorization.js';
import { formatTime } from '../apis/time.js';

const GROUP = 'authorization.k8s.io';

const resourceAttributesSchema = obj(
  {
    fieldSelector: obj({ rawSelector: str(), requirements: arrayOf(obj({ key: str(), operator: str(), values: arrayOf(str()) })) }, { name: 'io.k8s.api.authorization.v1.FieldSelectorAttributes' }),
    group: str(),
    labelSelector: obj({ rawSelector: str(), requirements: arrayOf(obj({ key: str(), operator: str(), values: arrayOf(str()) })) }, { name: 'io.k8s.api.authorization.v1.LabelSelectorAttributes' }),
    name: str(),
    namespace: str(),
    resource: str(),
    subresource: str(),
    verb: str(),
    version: str(),
  },
  { name: 'io.k8s.api.authorization.v1.ResourceAttributes' },
);
const nonResourceAttributesSchema = obj({ path: str(), verb: str() }, { name: 'io.k8s.api.authorization.v1.NonResourceAttributes' });
const statusSchema = obj(
  { allowed: bool(), denied: bool(), evaluationError: str(), reason: str() },
  { name: 'io.k8s.api.authorization.v1.SubjectAccessReviewStatus', required: ['allowed'] },
);

const specSchema = (withUser: boolean) =>
  obj(
    {
      nonResourceAttributes: nonResourceAttributesSchema,
      resourceAttributes: resourceAttributesSchema,
      ...(withUser ? { extra: mapOf(arrayOf(str())), groups: arrayOf(str(), { listType: 'atomic' }), uid: str(), user: str() } : {}),
    },
    { name: withUser ? 'io.k8s.api.authorization.v1.SubjectAccessReviewSpec' : 'io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec' },
  );

function reviewDefinition(kind: 'SelfSubjectAccessReview' | 'SubjectAccessReview'): ResourceDefinition {
  const self = kind === 'SelfSubjectAccessReview';
  return {
    group: GROUP,
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    plural: kind.toLowerCase() + 's',
    singular: kind.toLowerCase(),
    shortNames: [],
    namespaced: false,
    verbs: ['create'],
    schema: kindSchema({
      name: `io.k8s.api.authorization.v1.${kind}`,
      group: GROUP,
      version: 'v1',
      kind,
      required: ['spec'],
      properties: { spec: specSchema(!self), status: statusSchema },
    }),
    validateName: isPathSegmentName,
    strategy: {},
    subresources: [],
    // The review logic is src/auth/reviews.ts (kube's validation, attributes and status).
    async virtualCreate(obj, ctx) {
      const authorizer: Authorizer = { authorize: (a) => ctx.authorize(a) };
      const out = self ? await selfSubjectAccessReview(authorizer, ctx.user, obj) : await subjectAccessReview(authorizer, obj);
      return { ...out, metadata: { creationTimestamp: formatTime(ctx.now) } };
    },
  };
}

export const selfSubjectAccessReviews = reviewDefinition('SelfSubjectAccessReview');
export const subjectAccessReviews = reviewDefinition('SubjectAccessReview');
