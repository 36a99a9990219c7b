// rbac.authorization.k8s.io/v1 Role: namespaced policy rules.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { arrayOf } from '../api/schema.js';
import { defaultPrinter } from '../api/table.js';
import { isPathSegmentName } from '../api/validation.js';
import { policyRuleSchema, RBAC_GROUP, validateRules, type RoleLike } from './rbac-common.js';

export const roles: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'Role',
  listKind: 'RoleList',
  plural: 'roles',
  singular: 'role',
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.rbac.v1.Role',
    group: RBAC_GROUP,
    version: 'v1',
    kind: 'Role',
    description: 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.',
    properties: { rules: arrayOf(policyRuleSchema, { listType: 'atomic', description: 'Rules holds all the PolicyRules for this Role' }) },
  }),
  validateName: isPathSegmentName,
  strategy: {
    validate: (o) => validateRules(o as RoleLike, true),
    validateUpdate: (n) => validateRules(n as RoleLike, true),
  },
  subresources: [],
  printer: defaultPrinter,
};
