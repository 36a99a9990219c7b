// rbac.authorization.k8s.io/v1 ClusterRole: cluster-wide policy rules, optionally aggregated from other
// ClusterRoles by label selector (the aggregation controller fills rules; the API only stores the rule).
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { arrayOf, obj } from '../api/schema.js';
import { defaultPrinter } from '../api/table.js';
import { isPathSegmentName } from '../api/validation.js';
import { labelSelectorSchema, policyRuleSchema, RBAC_GROUP, validateRules, type RoleLike } from './rbac-common.js';

export const clusterRoles: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  plural: 'clusterroles',
  singular: 'clusterrole',
  shortNames: [],
  namespaced: false,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.rbac.v1.ClusterRole',
    group: RBAC_GROUP,
    version: 'v1',
    kind: 'ClusterRole',
    description: 'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.',
    properties: {
      aggregationRule: obj(
        { clusterRoleSelectors: arrayOf(labelSelectorSchema, { listType: 'atomic', description: 'ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules.' }) },
        { name: 'io.k8s.api.rbac.v1.AggregationRule', description: 'AggregationRule is an optional field that describes how to build the Rules for this ClusterRole.' },
      ),
      rules: arrayOf(policyRuleSchema, { listType: 'atomic', description: 'Rules holds all the PolicyRules for this ClusterRole' }),
    },
  }),
  validateName: isPathSegmentName,
  strategy: {
    validate: (o) => validateRules(o as RoleLike, false),
    validateUpdate: (n) => validateRules(n as RoleLike, false),
  },
  subresources: [],
  printer: defaultPrinter,
};
