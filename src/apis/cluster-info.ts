// The cluster-info ConfigMap as kubeadm and the bootstrap signer write it and `kubeadm join` reads it
// (k8s.io/cluster-bootstrap/token/api and token/jws): in kube-public, `kubeconfig` holds a kubeconfig with the
// cluster's server and CA, and one `jws-kubeconfig-<token-id>` per signing token holds a detached JWS of it
// (RFC 7515 Appendix F): HS256 with the token secret as the key and the token id as `kid`; the payload is cut
// out, leaving "header..signature". kubeadm's discovery recomputes the signature and compares the strings, so
// the protected header must be byte-for-byte what go-jose writes: {"alg":"HS256","kid":"<token-id>"}.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_CONFIGMAP = 'cluster-info';
export const JWS_SIGNATURE_KEY_PREFIX = 'jws-kubeconfig-';
export const KUBECONFIG_KEY = 'kubeconfig';

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function computeDetachedSignature(content: string, tokenId: string, tokenSecret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', kid: tokenId }));
  const payload = b64url(content);
  const signature = createHmac('sha256', tokenSecret).update(`${header}.${payload}`).digest('base64url');
  return `${header}..${signature}`;
}

/** cluster-bootstrap's DetachedTokenIsValid: recompute and compare, in constant time. */
export function detachedSignatureIsValid(detached: string, content: string, tokenId: string, tokenSecret: string): boolean {
  const expected = Buffer.from(computeDetachedSignature(content, tokenId, tokenSecret));
  const given = Buffer.from(detached);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
