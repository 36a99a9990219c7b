// Signer authorization for CertificateSigningRequests (kube's pkg/apis/certificates
// IsAuthorizedForSignerName, used by the approval and signing admission plugins): approving a CSR needs
// `approve`, and writing its status.certificate needs `sign`, on resource `signers` of certificates.k8s.io
// named after the CSR's signerName — or `<domain>/*` for every signer of that domain.
import type { Authorizer, AuthorizationAttributes, UserInfo } from '../../apis/authorization.js';
import { forbidden, type ApiError } from '../../apis/status.js';

export type SignerVerb = 'approve' | 'sign' | 'attest';

export function signerAttributes(user: UserInfo, verb: SignerVerb, name: string): AuthorizationAttributes {
  return {
    user,
    verb,
    resourceRequest: true,
    apiGroup: 'certificates.k8s.io',
    apiVersion: '*',
    resource: 'signers',
    subresource: '',
    namespace: '',
    name,
    path: '',
  };
}

/** True when the user may `verb` the signer, by its exact name or by `<domain>/*`. */
export async function authorizeSigner(authorizer: Authorizer, user: UserInfo, verb: SignerVerb, signerName: string): Promise<boolean> {
  try {
    if ((await authorizer.authorize(signerAttributes(user, verb, signerName))).decision === 'allow') return true;
  } catch {
    // an authorizer error is not an allow; the wildcard is still tried, as kube does
  }
  const domain = signerName.split('/')[0];
  try {
    return (await authorizer.authorize(signerAttributes(user, verb, `${domain}/*`))).decision === 'allow';
  } catch {
    return false;
  }
}

/** The admission error kube returns: `certificatesigningrequests.certificates.k8s.io "x" is forbidden: user not permitted to approve requests with signerName "y"`. */
export function signerForbiddenError(csrName: string, verb: SignerVerb, signerName: string): ApiError {
  return forbidden(
    { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' },
    csrName,
    `user not permitted to ${verb} requests with signerName ${JSON.stringify(signerName)}`,
  );
}
