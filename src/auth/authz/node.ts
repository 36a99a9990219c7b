// The Node authorizer (--authorization-mode=Node; kube's plugin/pkg/auth/authorizer/node), reduced to the
// objects kubepki serves: a node (user system:node:<name> in group system:nodes) gets the static rules of
// the system:node role (CSRs, nodes, events, reviews), may touch only its own Lease in kube-node-lease, and
// gets no Secret, ConfigMap or token access — kube grants those only for objects its pods reference, and
// kubepki runs no pods. Anyone else: no opinion.
import { bootstrapPolicy } from './bootstrap-policy.js';
import { customCaTrustLeaseName, NODE_LEASE_NAMESPACE } from '../../apis/custom-ca-trust.js';
import { ruleAllows, type RuleResolver, type RulesForResult } from './rbac.js';
import type { PolicyRule } from './rbac-types.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer, UserInfo } from '../../apis/authorization.js';
import { nodeIdentity } from '../../apis/node-identity.js';

/** Resources whose access kube decides from the node → pod → object graph. */
const GRAPH_RESOURCES = new Set([
  '/secrets',
  '/configmaps',
  '/persistentvolumeclaims',
  '/persistentvolumes',
  'resource.k8s.io/resourceclaims',
  'storage.k8s.io/volumeattachments',
]);

export class NodeAuthorizer implements Authorizer, RuleResolver {
  private readonly rules: PolicyRule[];

  constructor() {
    this.rules = bootstrapPolicy().clusterRoles.find((r) => r.metadata.name === 'system:node')?.rules ?? [];
  }

  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> {
    const node = nodeIdentity(attrs.user);
    if (node === undefined) return { decision: 'noOpinion', reason: '' };
    if (node === '') return { decision: 'noOpinion', reason: `unknown node for user ${JSON.stringify(attrs.user.username)}` };
    if (attrs.resourceRequest) {
      const gr = `${attrs.apiGroup}/${attrs.resource}`;
      if (GRAPH_RESOURCES.has(gr)) return { decision: 'noOpinion', reason: `no relationship found between node '${node}' and this object` };
      if (gr === '/serviceaccounts') {
        if (attrs.verb !== 'create' || attrs.name === '') return { decision: 'noOpinion', reason: 'can only create tokens for individual service accounts' };
        if (attrs.subresource !== 'token') return { decision: 'noOpinion', reason: 'can only create token subresource of serviceaccount' };
        return { decision: 'noOpinion', reason: `no relationship found between node '${node}' and this object` };
      }
      if (gr === 'coordination.k8s.io/leases') return this.authorizeLease(node, attrs);
    }
    if (this.rules.some((r) => ruleAllows(attrs, r))) return { decision: 'allow', reason: '' };
    return { decision: 'noOpinion', reason: '' };
  }

  private authorizeLease(node: string, attrs: AuthorizationAttributes): AuthorizationResult {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) {
      return { decision: 'noOpinion', reason: 'can only get, create, update, patch, or delete a node lease' };
    }
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) {
      return { decision: 'noOpinion', reason: `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace` };
    }
    // The name is unknown on create; NodeRestriction checks it then (resources/lease-node-restriction.ts).
    // Besides its heartbeat Lease, a node keeps the record of the custom CA trust it applied (agent/custom-ca-trust-report.ts).
    if (attrs.verb !== 'create' && attrs.name !== node && attrs.name !== customCaTrustLeaseName(node)) {
      return { decision: 'noOpinion', reason: 'can only access node lease with the same name as the requesting node' };
    }
    return { decision: 'allow', reason: '' };
  }

  /** kube's Node authorizer does not enumerate a node's rules: the list is marked incomplete. */
  rulesFor(user: UserInfo): RulesForResult {
    if (nodeIdentity(user) === undefined) return { resourceRules: [], nonResourceRules: [], incomplete: false };
    return { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' };
  }
}
