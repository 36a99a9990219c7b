// Who makes a request and what they ask to do, as k8s.io/apiserver's user.Info and authorizer.Attributes:
// the contract between the API machinery (which asks) and the authentication/authorization chain (which
// answers), so that neither imports the other.

/** user.Info: who made a request. Never taken from a client-sent body. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** authorizer.Attributes */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  /** true for /api and /apis resource requests; false for non-resource paths like /healthz. */
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** For non-resource requests. */
  path: string;
}

export type AuthorizationDecision = 'allow' | 'deny' | 'noOpinion';

export interface AuthorizationResult {
  decision: AuthorizationDecision;
  reason: string;
}

export interface Authorizer {
  authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult>;
}
