// The authorizer `serve` uses until RBAC is configured: system:masters may do everything (kube's privileged
// group), as may kubeadm:cluster-admins (admin.conf's group, which kubeadm binds to cluster-admin — RBAC
// takes that over from this stand-in), and anyone may read the public-info paths and ask who they are or what they may do (the grants of
// kube's system:public-info-viewer and system:basic-user bootstrap roles). Everything else: no opinion (→ 403).
import { privilegedGroupsAuthorizer, unionAuthorizer } from './union.js';
import { GROUP_MASTERS, GROUP_AUTHENTICATED } from '../../apis/names.js';
import type { Authorizer } from '../../apis/authorization.js';

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version', '/version/']);
const SELF_REVIEWS = new Set(['selfsubjectreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews']);

const publicInfoAndSelfReviews: Authorizer = {
  async authorize(attrs) {
    if (!attrs.resourceRequest && attrs.verb === 'get' && PUBLIC_PATHS.has(attrs.path)) return { decision: 'allow', reason: '' };
    if (attrs.resourceRequest && attrs.verb === 'create' && SELF_REVIEWS.has(attrs.resource) && attrs.user.groups.includes(GROUP_AUTHENTICATED)) {
      return { decision: 'allow', reason: '' };
    }
    return { decision: 'noOpinion', reason: '' };
  },
};

export const alwaysAllowMasters: Authorizer = unionAuthorizer([privilegedGroupsAuthorizer([GROUP_MASTERS, 'kubeadm:cluster-admins']), publicInfoAndSelfReviews]);
