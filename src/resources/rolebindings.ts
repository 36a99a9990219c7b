// rbac.authorization.k8s.io/v1 RoleBinding: grants a Role or ClusterRole within one namespace.
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isPathSegmentName } from '../api/validation.js';
import { bindingSchema, bindingStrategy, RBAC_GROUP, roleColumn, subjectsOf, type BindingLike } from './rbac-common.js';

export const bindingPrinterColumns = [
  NAME_COLUMN,
  { name: 'Role', type: 'string' as const, description: 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.' },
  AGE_COLUMN,
  { name: 'Users', type: 'string' as const, priority: 1, description: 'Users in the binding' },
  { name: 'Groups', type: 'string' as const, priority: 1, description: 'Groups in the binding' },
  { name: 'ServiceAccounts', type: 'string' as const, priority: 1, description: 'ServiceAccounts in the binding' },
];

export const bindingCells = (o: BindingLike, now: Date): unknown[] => [
  o.metadata.name ?? '',
  roleColumn(o),
  age(o.metadata.creationTimestamp, now),
  subjectsOf(o, 'User'),
  subjectsOf(o, 'Group'),
  subjectsOf(o, 'ServiceAccount'),
];

export const roleBindings: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  kind: 'RoleBinding',
  listKind: 'RoleBindingList',
  plural: 'rolebindings',
  singular: 'rolebinding',
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: bindingSchema('RoleBinding', 'RoleBinding references a role, but does not contain it.'),
  validateName: isPathSegmentName,
  strategy: bindingStrategy(true),
  subresources: [],
  printer: { columns: bindingPrinterColumns, cells: (o, now) => bindingCells(o as BindingLike, now) },
};
