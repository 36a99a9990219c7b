// authorization.k8s.io/v1 SelfSubjectRulesReview (`kubectl auth can-i --list`): create-only, never stored;
// the caller's rules in a namespace as the RBAC authorizer resolves them (src/auth/reviews.ts).
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, bool, obj, str } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { selfSubjectRulesReview, type SelfSubjectRulesReviewObject } from '../auth/reviews.js';
import type { RuleResolver } from '../auth/authz/rbac.js';

const GROUP = 'authorization.k8s.io';
const strings = (description: string) => arrayOf(str(), { listType: 'atomic', description });

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
        spec: obj({ namespace: str('Namespace to evaluate rules for. Required.') }, { name: 'io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec', description: 'Spec holds information about the request being evaluated.' }),
        status: obj(
          {
            evaluationError: str('EvaluationError can appear in combination with Rules. It indicates an error occurred during rule evaluation.'),
            incomplete: bool('Incomplete is true when the rules returned by this call are incomplete.'),
            nonResourceRules: arrayOf(
              obj(
                { nonResourceURLs: strings('NonResourceURLs is a set of partial urls that a user should have access to.'), verbs: strings('Verb is a list of kubernetes non-resource API verbs.') },
                { name: 'io.k8s.api.authorization.v1.NonResourceRule', description: 'NonResourceRule holds information that describes a rule for the non-resource.' },
              ),
              { listType: 'atomic', description: 'NonResourceRules is the list of actions the subject is allowed to perform on non-resources.' },
            ),
            resourceRules: arrayOf(
              obj(
                {
                  apiGroups: strings('APIGroups is the name of the APIGroup that contains the resources.'),
                  resourceNames: strings('ResourceNames is an optional white list of names that the rule applies to.'),
                  resources: strings('Resources is a list of resources this rule applies to. "*" means all.'),
                  verbs: strings('Verb is a list of kubernetes resource API verbs, like: get, list, watch, create, update, delete, proxy. "*" means all.'),
                },
                { name: 'io.k8s.api.authorization.v1.ResourceRule', description: 'ResourceRule is the list of actions the subject is allowed to perform on resources.' },
              ),
              { listType: 'atomic', description: 'ResourceRules is the list of actions the subject is allowed to perform on resources.' },
            ),
          },
          {
            name: 'io.k8s.api.authorization.v1.SubjectRulesReviewStatus',
            required: ['resourceRules', 'nonResourceRules', 'incomplete'],
            description: 'Status is filled in by the server and indicates the set of actions a user can perform.',
          },
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
