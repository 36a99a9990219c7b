// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a ClusterRole cluster-wide.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { arrayOf } from '../api/schema.js';
import { isPathSegmentName } from '../api/validation.js';
import { RBAC_GROUP, roleRefSchema, subjectSchema, validateBinding, validateRoleRefUnchanged, type BindingLike } from './rbac-common.js';
import { bindingCells, bindingPrinterColumns } from './rolebindings.js';

export const clusterRoleBindings: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  shortNames: [],
  namespaced: false,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.rbac.v1.ClusterRoleBinding',
    group: RBAC_GROUP,
    version: 'v1',
    kind: 'ClusterRoleBinding',
    description: 'ClusterRoleBinding references a ClusterRole, but not contain it.',
    required: ['roleRef'],
    properties: {
      roleRef: roleRefSchema,
      subjects: arrayOf(subjectSchema, { listType: 'atomic', description: 'Subjects holds references to the objects the role applies to.' }),
    },
  }),
  validateName: isPathSegmentName,
  strategy: {
    validate: (o) => validateBinding(o as BindingLike, false),
    validateUpdate: (n, o) => [...validateBinding(n as BindingLike, false), ...validateRoleRefUnchanged(n as BindingLike, o as BindingLike)],
  },
  subresources: [],
  printer: { columns: bindingPrinterColumns, cells: (o, now) => bindingCells(o as BindingLike, now) },
};
