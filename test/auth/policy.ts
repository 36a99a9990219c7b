// An RBAC cache holding the bootstrap policy, as `serve` starts with it.
import { RbacCache } from '../../src/auth/authz/rbac-cache.js';
import { bootstrapPolicy } from '../../src/auth/authz/bootstrap-policy.js';

export function policyCache(): RbacCache {
  const cache = new RbacCache();
  const p = bootstrapPolicy();
  cache.replace('clusterroles', p.clusterRoles);
  cache.replace('clusterrolebindings', p.clusterRoleBindings);
  cache.replace('roles', p.roles);
  cache.replace('rolebindings', p.roleBindings);
  return cache;
}
