// The resources `kubepki serve` serves, in discovery order.
import type { ResourceDefinition } from '../api/registry.js';
import { localSubjectAccessReviews, selfSubjectAccessReviews, subjectAccessReviews } from './access-reviews.js';
import { certificateSigningRequests } from './certificatesigningrequests.js';
import { clusterRoleBindings } from './clusterrolebindings.js';
import { clusterRoles } from './clusterroles.js';
import { clusterTrustBundles } from './clustertrustbundles.js';
import { configMaps } from './configmaps.js';
import { events } from './events.js';
import { leases } from './leases.js';
import { namespaces } from './namespaces.js';
import { roleBindings } from './rolebindings.js';
import { roles } from './roles.js';
import { secrets } from './secrets.js';
import { selfSubjectReviews } from './selfsubjectreviews.js';
import { serviceAccounts } from './serviceaccounts.js';
import { services } from './services.js';

export function builtinResources(): ResourceDefinition[] {
  return [
    configMaps,
    events,
    namespaces,
    secrets,
    serviceAccounts,
    services,
    selfSubjectReviews,
    selfSubjectAccessReviews,
    subjectAccessReviews,
    localSubjectAccessReviews,
    certificateSigningRequests,
    clusterTrustBundles,
    leases,
    clusterRoleBindings,
    clusterRoles,
    roleBindings,
    roles,
  ];
}
