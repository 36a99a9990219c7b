// kube's NodeIdentifier (pkg/auth/nodeidentifier): which node a user is, for the Node authorizer and the
// NodeRestriction admission checks.
import type { UserInfo } from './authorization.js';
import { GROUP_NODES, NODE_USER_PREFIX } from './names.js';

/** The node name, '' for an unidentifiable node (system:node: with no name), undefined when not a node. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.username.startsWith(NODE_USER_PREFIX) || !user.groups.includes(GROUP_NODES)) return undefined;
  return user.username.slice(NODE_USER_PREFIX.length);
}
