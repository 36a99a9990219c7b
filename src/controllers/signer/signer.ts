// One signer per signerName (cert-manager's Signer per issuer, kube's per-signer validators): what it will
// sign and for how long. The signing controller looks a request's signerName up in a table of these, so a
// signer's rules can never be applied to another signer's requests, and a new signer (CA rotation's custom
// signers) is one more module in the table, not another branch.
import type { RequestSubject } from '../kubelet-csr.js';
import { certificateTtl } from './policy.js';

export interface SignerDefinition {
  /** The signerName it serves (kubernetes.io/kube-apiserver-client, ...). */
  signerName: string;
  /** null when the request may be signed; otherwise why not (the Failed condition's message). */
  validate(request: RequestSubject, usages: readonly string[]): string | null;
  /** The certificate's lifetime for a request asking for `expirationSeconds`, under --cluster-signing-duration. */
  ttlMs(options: { maxTtlMs: number; expirationSeconds?: number | null }): number;
}

/** kube's rule for every built-in signer: --cluster-signing-duration, or spec.expirationSeconds when shorter. */
export const clusterSigningDuration: SignerDefinition['ttlMs'] = ({ maxTtlMs, expirationSeconds }) => certificateTtl(maxTtlMs, expirationSeconds);
