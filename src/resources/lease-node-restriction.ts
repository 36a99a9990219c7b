// kube-apiserver's NodeRestriction admission for Leases (plugin/pkg/admission/noderestriction admitLease): the
// Node authorizer cannot see a name on create, so a node could otherwise create another node's heartbeat
// Lease (and mark a dead node alive). A node may create only its own Lease in kube-node-lease — and, in
// kubepki, its custom CA trust report Lease (apis/custom-ca-trust.ts), which the authorizer also allows it.
import type { UserInfo } from '../apis/authorization.js';
import { customCaTrustLeaseName, NODE_LEASE_NAMESPACE } from '../apis/custom-ca-trust.js';
import { nodeIdentity } from '../apis/node-identity.js';
import type { KubeObject } from '../apis/objects.js';
import { forbidden } from '../apis/status.js';

const LEASES = { group: 'coordination.k8s.io', resource: 'leases' };

/** Throws kube's Forbidden when a node creates a Lease that is not its own; anyone else passes. */
export function checkNodeLeaseCreate(lease: KubeObject, user: UserInfo): void {
  const node = nodeIdentity(user);
  if (node === undefined) return;
  const name = lease.metadata.name ?? '';
  if (node === '') throw forbidden(LEASES, name, `could not determine node from user "${user.username}"`);
  if (lease.metadata.namespace !== NODE_LEASE_NAMESPACE) throw forbidden(LEASES, name, `can only access leases in the "${NODE_LEASE_NAMESPACE}" system namespace`);
  if (name !== node && name !== customCaTrustLeaseName(node)) throw forbidden(LEASES, name, 'can only access node lease with the same name as the requesting node');
}
