// The request-identity contract between the API server and the authentication/authorization chain,
// shaped as kube-apiserver's (k8s.io/apiserver pkg/authentication/authenticator); user.Info and the
// authorizer's attributes are wire-level contracts in src/apis/authorization.ts.
import type { UserInfo } from '../apis/authorization.js';
import type { Certificate } from '../x509/certificate.js';

/** What an authenticator may look at: the TLS peer chain and the request headers, nothing else. */
export interface AuthenticationRequest {
  /** Lower-cased header names, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The client certificate chain presented in the TLS handshake (leaf first), DER-encoded; empty if none. */
  peerCertificates: Uint8Array[];
  /**
   * Audiences the credential must be valid for (kube's authenticator.WithAudiences): absent = the server's
   * API audiences. TokenReview sets it from spec.audiences.
   */
  audiences?: string[];
}

/**
 * Outcome of one authenticator:
 *  - { user } authenticated;
 *  - null: this authenticator does not apply (no credential of its kind), try the next;
 *  - throw: a credential of its kind was present but is invalid — the error is collected and the next
 *    authenticator is still tried (kube-apiserver's union semantics), and a 401 follows if none succeeds.
 */
export interface AuthenticationResult {
  user: UserInfo;
  /** Audiences the credential was valid for (token authenticators). */
  audiences?: string[];
  /** The verified client certificate (the x509 authenticator), as parsed once for its chain. */
  certificate?: Certificate;
}

export interface Authenticator {
  readonly name: string;
  authenticate(req: AuthenticationRequest): Promise<AuthenticationResult | null>;
}
