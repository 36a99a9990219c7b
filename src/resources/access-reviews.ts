// authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`) and SubjectAccessReview
// (controllers asking about someone else, e.g. the CSR approver): create-only, never stored; the answer is
// the server's authorizer's decision for the described request.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition, StrategyContext } from '../api/registry.js';
import { arrayOf, bool, mapOf, obj, str } from '../api/schema.js';
import { formatTime } from '../api/store.js';
import { invalidObject, invalid, required, type FieldError } from '../api/status.js';
import type { KubeObject } from '../api/types.js';
import { isPathSegmentName } from '../api/validation.js';
import type { UserInfo } from '../auth/types.js';

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

interface Review extends KubeObject {
  spec?: {
    resourceAttributes?: Record<string, string | undefined>;
    nonResourceAttributes?: { path?: string; verb?: string };
    user?: string;
    groups?: string[];
    uid?: string;
    extra?: Record<string, string[]>;
  };
}

function validateAttributes(r: Review, kind: string): void {
  const spec = r.spec ?? {};
  const errs: FieldError[] = [];
  const hasR = spec.resourceAttributes !== undefined;
  const hasN = spec.nonResourceAttributes !== undefined;
  if (hasR === hasN) errs.push(invalid('spec.resourceAttributes', spec.resourceAttributes ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (kind === 'SubjectAccessReview' && !spec.user && (spec.groups ?? []).length === 0) errs.push(required('spec.user', 'at least one of user or group must be specified'));
  if (errs.length > 0) throw invalidObject({ group: GROUP, kind }, '', errs);
}

async function decide(r: Review, user: UserInfo, ctx: StrategyContext): Promise<Record<string, unknown>> {
  const spec = r.spec ?? {};
  const ra = spec.resourceAttributes;
  const result = ra
    ? await ctx.authorize({
        user,
        verb: ra['verb'] ?? '',
        resourceRequest: true,
        apiGroup: ra['group'] ?? '',
        apiVersion: ra['version'] ?? '',
        resource: ra['resource'] ?? '',
        subresource: ra['subresource'] ?? '',
        namespace: ra['namespace'] ?? '',
        name: ra['name'] ?? '',
        path: '',
      })
    : await ctx.authorize({
        user,
        verb: spec.nonResourceAttributes?.verb ?? '',
        resourceRequest: false,
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        namespace: '',
        name: '',
        path: spec.nonResourceAttributes?.path ?? '',
      });
  const status: Record<string, unknown> = { allowed: result.decision === 'allow' };
  if (result.decision === 'deny') status['denied'] = true;
  if (result.reason) status['reason'] = result.reason;
  return status;
}

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
    async virtualCreate(obj, ctx) {
      const r = obj as Review;
      validateAttributes(r, kind);
      const spec = r.spec ?? {};
      const user: UserInfo = self
        ? ctx.user
        : { username: spec.user ?? '', groups: spec.groups ?? [], ...(spec.uid ? { uid: spec.uid } : {}), ...(spec.extra ? { extra: spec.extra } : {}) };
      const status = await decide(r, user, ctx);
      return { kind, apiVersion: `${GROUP}/v1`, metadata: { creationTimestamp: formatTime(ctx.now) }, spec, status };
    },
  };
}

export const selfSubjectAccessReviews = reviewDefinition('SelfSubjectAccessReview');
export const subjectAccessReviews = reviewDefinition('SubjectAccessReview');
