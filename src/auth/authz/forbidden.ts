// kube-apiserver's Forbidden answer (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go):
// `User "x" cannot list resource "secrets" in API group "" in the namespace "kube-system"`, prefixed by the
// group-qualified resource as apierrors.NewForbidden does, with the authorizer's reason appended.
import type { AuthorizationAttributes } from '../../apis/authorization.js';
import { ApiError, forbidden } from '../../apis/status.js';

const q = (s: string): string => JSON.stringify(s);

export function forbiddenMessage(attrs: AuthorizationAttributes): string {
  const user = attrs.user.username;
  if (!attrs.resourceRequest) return `User ${q(user)} cannot ${attrs.verb} path ${q(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  if (attrs.namespace) {
    return `User ${q(user)} cannot ${attrs.verb} resource ${q(resource)} in API group ${q(attrs.apiGroup)} in the namespace ${q(attrs.namespace)}`;
  }
  return `User ${q(user)} cannot ${attrs.verb} resource ${q(resource)} in API group ${q(attrs.apiGroup)} at the cluster scope`;
}

/** The 403 Status for a request the authorizer did not allow. */
export function forbiddenError(attrs: AuthorizationAttributes, reason = ''): ApiError {
  const msg = reason ? `${forbiddenMessage(attrs)}: ${reason}` : forbiddenMessage(attrs);
  if (!attrs.resourceRequest || (attrs.resource === '' && attrs.apiGroup === '')) {
    return new ApiError(403, 'Forbidden', `forbidden: ${msg}`, {});
  }
  return forbidden({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, msg);
}
