// rbac.authorization.k8s.io/v1 ClusterRoleBinding: grants a ClusterRole cluster-wide.
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { isPathSegmentName } from '../api/validation.js';
import { bindingSchema, bindingStrategy, RBAC_GROUP, type BindingLike } from './rbac-common.js';
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
  schema: bindingSchema('ClusterRoleBinding', 'ClusterRoleBinding references a ClusterRole, but not contain it.'),
  validateName: isPathSegmentName,
  strategy: bindingStrategy(false),
  subresources: [],
  printer: { columns: bindingPrinterColumns, cells: (o, now) => bindingCells(o as BindingLike, now) },
};
