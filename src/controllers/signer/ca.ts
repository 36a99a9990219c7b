// Loading the signing CA(s) named by kube-controller-manager's flags: one default pair
// (--cluster-signing-cert-file/--cluster-signing-key-file) or per-signer pairs
// (--cluster-signing-kubelet-serving-cert-file, ...), never both. A signing certificate file that holds a
// bundle is refused at start, with the way out that the CA rotation guide gives (seed 000).
import { KubepkiError } from '../../util/errors.js';
import { parseCertificatesPem } from '../../x509/certificate.js';
import { keyMatchesPublicKey, parsePrivateKeyPem } from '../../x509/keys.js';
import { signingAuthority, type SigningAuthority } from './issue.js';
import { KUBE_APISERVER_CLIENT_KUBELET_SIGNER, KUBE_APISERVER_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER } from '../../apis/names.js';
import { readBoundedFile } from '../../util/bounded-file.js';

export interface CertKeyFiles {
  certFile: string;
  keyFile: string;
}

/** The signing files as kube-controller-manager's flags give them. */
export interface SigningFiles {
  /** --cluster-signing-cert-file / --cluster-signing-key-file */
  default?: Partial<CertKeyFiles>;
  /** --cluster-signing-kubelet-serving-*, -kubelet-client-*, -kube-apiserver-client-*, -legacy-unknown-* */
  kubeletServing?: Partial<CertKeyFiles>;
  kubeletClient?: Partial<CertKeyFiles>;
  kubeAPIServerClient?: Partial<CertKeyFiles>;
  legacyUnknown?: Partial<CertKeyFiles>;
}

/** Flag prefix of each per-signer pair, for messages. */
const PER_SIGNER: { key: keyof Omit<SigningFiles, 'default'>; signerName: string; flag: string }[] = [
  { key: 'kubeletServing', signerName: KUBELET_SERVING_SIGNER, flag: '--cluster-signing-kubelet-serving' },
  { key: 'kubeletClient', signerName: KUBE_APISERVER_CLIENT_KUBELET_SIGNER, flag: '--cluster-signing-kubelet-client' },
  { key: 'kubeAPIServerClient', signerName: KUBE_APISERVER_CLIENT_SIGNER, flag: '--cluster-signing-kube-apiserver-client' },
  { key: 'legacyUnknown', signerName: LEGACY_UNKNOWN_SIGNER, flag: '--cluster-signing-legacy-unknown' },
];

const isSet = (p?: Partial<CertKeyFiles>) => Boolean(p?.certFile || p?.keyFile);

function complete(p: Partial<CertKeyFiles>, flag: string): CertKeyFiles {
  if (!p.certFile || !p.keyFile) {
    throw new KubepkiError('InvalidConfig', `${flag}-cert-file and ${flag}-key-file must be given together`);
  }
  return { certFile: p.certFile, keyFile: p.keyFile };
}

/**
 * Which files sign for which signerName. Signers without files are left out (their controller does not
 * start, as in kube-controller-manager). Throws for a half-given pair or default + per-signer mixed.
 */
export function resolveSigningFiles(files: SigningFiles): Map<string, CertKeyFiles & { certFlag: string }> {
  const out = new Map<string, CertKeyFiles & { certFlag: string }>();
  const perSignerGiven = PER_SIGNER.filter((s) => isSet(files[s.key]));
  if (isSet(files.default)) {
    if (perSignerGiven.length > 0) throw new KubepkiError('InvalidConfig', 'cannot specify default and per controller certs at the same time');
    const pair = complete(files.default!, '--cluster-signing');
    for (const s of PER_SIGNER) out.set(s.signerName, { ...pair, certFlag: '--cluster-signing-cert-file' });
    return out;
  }
  for (const s of perSignerGiven) out.set(s.signerName, { ...complete(files[s.key]!, s.flag), certFlag: `${s.flag}-cert-file` });
  return out;
}

/** Reads and checks one signing pair: a single CA certificate, a key that belongs to it. */
export async function loadSigningAuthority(files: CertKeyFiles & { certFlag?: string }): Promise<SigningAuthority> {
  const flag = files.certFlag ?? '--cluster-signing-cert-file';
  let certPem: string;
  let keyPem: string;
  try {
    certPem = await readBoundedFile(files.certFile);
  } catch (err) {
    throw new KubepkiError('FileMissing', `${flag}: cannot read ${files.certFile}: ${(err as Error).message}`, { cause: err });
  }
  try {
    keyPem = await readBoundedFile(files.keyFile);
  } catch (err) {
    throw new KubepkiError('FileMissing', `cannot read signing key ${files.keyFile}: ${(err as Error).message}`, { cause: err });
  }
  const certs = parseCertificatesPem(certPem, files.certFile);
  if (certs.length !== 1) {
    throw new KubepkiError(
      'InvalidCertificate',
      `${flag} ${files.certFile} holds a bundle of ${certs.length} certificates; the signing certificate must be exactly one CA certificate. ` +
        `During a CA rotation, copy the new CA certificate into a file of its own and point ${flag} (and --client-ca-file) at that copy; ` +
        `once ca.crt holds a single certificate again, point the flags back at it and delete the copy.`,
    );
  }
  const certificate = certs[0]!;
  if (!certificate.isCA) throw new KubepkiError('InvalidCertificate', `${flag} ${files.certFile} is not a CA certificate (basic constraints CA:FALSE)`);
  const privateKey = parsePrivateKeyPem(keyPem, files.keyFile);
  if (!keyMatchesPublicKey(privateKey, certificate.publicKey)) {
    throw new KubepkiError('KeyMismatch', `the signing key ${files.keyFile} does not belong to the certificate ${files.certFile}`);
  }
  return signingAuthority(certificate, privateKey);
}
