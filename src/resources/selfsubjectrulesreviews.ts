// authorization.k8s.io/v1 SelfSubjectRulesReview (`kubectl auth can-i --list`): create-only, never stored;
// the caller's rules in a namespace as the RBAC authorizer resolves them (src/auth/reviews.ts).
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, bool, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { selfSubjectRulesReview, type SelfSubjectRulesReviewObject } from '../auth/reviews.js';
import type { RuleResolver } from '../auth/authz/rbac.js';

const GROUP = 'authorization.k8s.io';
const strings = () => arrayOf(str(), { listType: 'atomic' });

export function selfSubjectRulesReviews(deps: { resolvers: RuleResolver[] }): ResourceDefinition {
  return {
    group: GROUP,
    version: 'v1',
    kind: 'SelfSubjectRulesReview',
    listKind: 'SelfSubjectRulesReviewList',
    plural: 'selfsubjectrulesreviews',
    singular: 'selfsubjectrulesreview',
    shortNames: [],
    namespaced: false,
    verbs: ['create'],
    schema: kindSchema({
      name: 'io.k8s.api.authorization.v1.SelfSubjectRulesReview',
      group: GROUP,
      version: 'v1',
      kind: 'SelfSubjectRulesReview',
      description: 'SelfSubjectRulesReview enumerates the set of actions the current user can perform within a namespace.',
      required: ['spec'],
      properties: {
        spec: obj({ namespace: str() }, { name: 'io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec' }),
        status: obj(
          {
            evaluationError: str(),
            incomplete: bool(),
            nonResourceRules: arrayOf(obj({ nonResourceURLs: strings(), verbs: strings() }, { name: 'io.k8s.api.authorization.v1.NonResourceRule' }), { listType: 'atomic' }),
            resourceRules: arrayOf(
              obj({ apiGroups: strings(), resourceNames: strings(), resources: strings(), verbs: strings() }, { name: 'io.k8s.api.authorization.v1.ResourceRule' }),
              { listType: 'atomic' },
            ),
          },
          { name: 'io.k8s.api.authorization.v1.SubjectRulesReviewStatus', required: ['resourceRules', 'nonResourceRules', 'incomplete'] },
        ),
      },
    }),
    validateName: isPathSegmentName,
    strategy: {},
    subresources: [],
    async virtualCreate(object, ctx) {
      return selfSubjectRulesReview(deps.resolvers, ctx.user, object as SelfSubjectRulesReviewObject);
    },
  };
}
