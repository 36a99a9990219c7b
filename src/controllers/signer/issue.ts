// The certificate for an approved request, as kube's signer builds it (authority.Sign with
// PermissiveSigningPolicy): subject (re-encoded the way Go's pkix.Name does), SANs and public key from the
// request, key usage and extended key usages from spec.usages (EKUs sorted in Go's enum order), CA:FALSE,
// the validity the policy computed. Encoding and signing are the x509 core's issueCertificate, whose
// signature runs on libuv's thread pool, so signing never stalls the event loop.
import { isCanonicalEcSpki, type Certificate, type CertificateIssuer } from '../../x509/certificate.js';
import { basicConstraints, signCertificate, subject, subjectAltNames, usages as usagesOption, validity as validityOption, withinIssuerValidity } from '../../x509/sign-options.js';
import { EXT_KEY_USAGE_OIDS, parseUsages } from '../../x509/usages.js';
import { KubepkiError } from '../../util/errors.js';
import type { KeyObject } from 'node:crypto';
import type { CertificateRequest } from '../../x509/certificate-request.js';
import type { Validity } from './policy.js';

/** A CA ready to sign: its parsed certificate and key. */
export type SigningAuthority = CertificateIssuer;

export function signingAuthority(certificate: Certificate, privateKey: KeyObject): SigningAuthority {
  return { certificate, privateKey };
}

/** EKU OIDs in Go's x509.ExtKeyUsage enum order (kube sorts them so). */
const EKU_ORDER: string[] = [...new Set(Object.values(EXT_KEY_USAGE_OIDS))];

/** Key usage bits and EKUs from certificates.k8s.io usage names, with kube's error for unknown ones. */
export function usagesToExtensions(usages: readonly string[]): { keyUsage: number; extKeyUsages: string[] } {
  const unknown = usages.filter((u) => {
    try {
      parseUsages([u]);
      return false;
    } catch {
      return true;
    }
  });
  if (unknown.length > 0) throw new KubepkiError('InvalidArgument', `unrecognized usage values: [${unknown.map((u) => JSON.stringify(u)).join(' ')}]`);
  const { keyUsage, extKeyUsages } = parseUsages(usages);
  return { keyUsage, extKeyUsages: [...extKeyUsages].sort((a, b) => EKU_ORDER.indexOf(a) - EKU_ORDER.indexOf(b)) };
}

/** Signs `request` with `authority`; returns the certificate's DER. */
export async function issueFromRequest(options: {
  authority: SigningAuthority;
  request: CertificateRequest;
  usages: readonly string[];
  validity: Validity;
  /**
   * The request's key was already imported and its signature checked (by kubepki's API server at create): a
   * key already encoded as Go would encode it is copied as is instead of being imported again.
   */
  keyVerified?: boolean;
}): Promise<Uint8Array> {
  const { authority, request, usages, validity } = options;
  const cert = await signCertificate({
    publicKey: options.keyVerified && isCanonicalEcSpki(request.spki) ? { spki: request.spki } : request.publicKey,
    issuer: authority,
    options: [
      subject(request.subject),
      subjectAltNames(request.sans),
      validityOption(validity),
      basicConstraints({ isCA: false }),
      usagesOption(usagesToExtensions(usages)),
      withinIssuerValidity(),
    ],
  });
  return cert.der;
}
