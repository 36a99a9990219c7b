// The authorizer chain kube-apiserver builds (pkg/kubeapiserver/authorizer/config.go): the privileged
// group (system:masters) is allowed everything before any mode is consulted, then the modes in order
// (RBAC). The first allow or deny decides; "no opinion" reasons are kept for the Forbidden message.
import { GROUP_MASTERS } from '../../apis/names.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer } from '../../apis/authorization.js';

/** authorizerfactory.NewPrivilegedGroups: members of these groups may do anything. */
export function privilegedGroupsAuthorizer(groups: string[] = [GROUP_MASTERS]): Authorizer {
  return {
    async authorize(attrs) {
      if (attrs.user.groups.some((g) => groups.includes(g))) return { decision: 'allow', reason: '' };
      return { decision: 'noOpinion', reason: '' };
    },
  };
}

export function unionAuthorizer(authorizers: Authorizer[]): Authorizer {
  return {
    async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> {
      const reasons: string[] = [];
      for (const a of authorizers) {
        const r = await a.authorize(attrs);
        if (r.decision !== 'noOpinion') return r;
        if (r.reason !== '') reasons.push(r.reason);
      }
      return { decision: 'noOpinion', reason: reasons.join('\n') };
    },
  };
}
