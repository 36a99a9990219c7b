// The detached JWS the bootstrap signer writes into cluster-info (k8s.io/cluster-bootstrap/token/jws,
// RFC 7515 Appendix F): HS256 with the token secret as the key and the token id as `kid`, over the
// kubeconfig; the payload is then cut out, leaving "header..signature". kubeadm's discovery recomputes the
// signature and compares the strings, so the protected header must be byte-for-byte what go-jose writes:
// {"alg":"HS256","kid":"<token-id>"} (keys sorted, no spaces).
import { createHmac, timingSafeEqual } from 'node:crypto';

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
