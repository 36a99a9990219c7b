// The CA that -ca/-ca-key name: its certificate and private key, checked to belong together.
import { KubepkiError } from '../util/errors.js';
import { keyMatchesPublicKey, parseCertificatesPem, parsePrivateKeyPem, type CertificateIssuer } from '../x509/index.js';

export interface CaFiles {
  certPem: string;
  /** The path given with -ca, for messages. */
  certSource: string;
  keyPem: string;
  keySource: string;
}

/** Reads -ca (the first certificate of the file, as cfssl) and -ca-key; refuses a key of another CA. */
export function loadCa(files: CaFiles): CertificateIssuer {
  const certificate = parseCertificatesPem(files.certPem, files.certSource)[0]!;
  const privateKey = parsePrivateKeyPem(files.keyPem, files.keySource);
  if (!keyMatchesPublicKey(privateKey, certificate.publicKey)) {
    throw new KubepkiError('KeyMismatch', `${files.keySource}: this private key does not belong to the CA certificate ${files.certSource}`);
  }
  if (!certificate.isCA) throw new KubepkiError('InvalidCertificate', `${files.certSource}: not a CA certificate (basic constraints CA:FALSE)`);
  return { certificate, privateKey };
}
