// PKCS#10 certificate signing requests: creating them (the agent, cfssl genkey), and reading one whose
// self-signature must verify (the agent, cfssl sign, certs inspect) through the one parser
// (certificate-request.ts) and the one signature check (csr-signature.ts), with the input named in errors.
import { KubepkiError } from '../util/errors.js';
import * as der from './der.js';
import { extension, signAsync, signatureAlgorithmIdentifier, subjectAltNameValue } from './signed-der.js';
import { decodePem } from './pem.js';
import { encodeName, type DistinguishedName } from './names.js';
import { canonicalIp, emptySans, type SubjectAltNames } from './san.js';
import { keyAlgorithmOf, signingAlgorithmFor, type KeyPair, type SignatureHash } from './keys.js';
import { parseCertificateRequest, type CertificateRequest } from './certificate-request.js';
import { checkCsrSignature } from './csr-signature.js';

export type { CertificateRequest };

export async function createCertificateRequest(options: {
  subject: DistinguishedName;
  sans?: SubjectAltNames;
  keyPair: KeyPair;
  /** Digest of the self-signature; default: Go's choice for the key. */
  signatureHash?: SignatureHash;
  /** Requests basic constraints CA:TRUE (critical), as cfssl's csr.json "ca" section does. */
  requestCA?: { maxPathLen?: number };
}): Promise<CertificateRequest> {
  const { subject, sans = emptySans(), keyPair, signatureHash, requestCA } = options;
  // Encoded here (der.ts) as Go's CreateCertificateRequest does; the extensionRequest attribute only when
  // there is an extension to request.
  const hash = String(signingAlgorithmFor(keyPair.privateKey, signatureHash).hash); // throws for keys we cannot sign with
  const algorithm = signatureAlgorithmIdentifier(keyAlgorithmOf(keyPair.privateKey).type as 'RSA' | 'ECDSA', hash);
  const sanValue = subjectAltNameValue({ ...sans, ipAddresses: sans.ipAddresses.map((ip) => canonicalIp(ip) ?? ip) });
  const extensions = [
    ...(sanValue ? [extension(OID_SUBJECT_ALT_NAME, false, sanValue)] : []),
    ...(requestCA
      ? [extension(OID_BASIC_CONSTRAINTS, true, der.sequence(der.boolean(true), ...(requestCA.maxPathLen !== undefined ? [der.integer(requestCA.maxPathLen)] : [])))]
      : []),
  ];
  const attributes = extensions.length ? [der.sequence(der.oid(OID_EXTENSION_REQUEST), der.set(der.sequence(...extensions)))] : [];
  const info = der.sequence(
    der.integer(0),
    encodeName(subject),
    keyPair.publicKey.export({ type: 'spki', format: 'der' }),
    der.tlv(0xa0, ...attributes),
  );
  const signature = await signAsync(hash.replace('-', '').toLowerCase(), info, keyPair.privateKey);
  return parseCertificateRequest(new Uint8Array(der.sequence(info, algorithm.der, der.bitString(signature))));
}

const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_EXTENSION_REQUEST = '1.2.840.113549.1.9.14';


/** Parses a DER request and verifies its self-signature; errors name `what`. */
export async function parseVerifiedCertificateRequest(der: Uint8Array, what = 'certificate request'): Promise<CertificateRequest> {
  let req: CertificateRequest;
  try {
    req = parseCertificateRequest(der);
  } catch (err) {
    throw new KubepkiError('InvalidCSR', `${what}: not a valid PKCS#10 certificate request: ${(err as Error).message}`, { cause: err });
  }
  try {
    await checkCsrSignature(req);
  } catch (err) {
    throw new KubepkiError('SignatureInvalid', `${what}: the request's signature does not verify (${(err as Error).message})`, { cause: err });
  }
  return req;
}

/** Reads the one CERTIFICATE REQUEST block of a PEM text and verifies its self-signature. */
export async function parseCertificateRequestPem(pem: string, what = 'certificate request'): Promise<CertificateRequest> {
  const blocks = decodePem(pem, what).filter((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST');
  if (blocks.length !== 1) throw new KubepkiError('InvalidCSR', `${what}: expected one CERTIFICATE REQUEST PEM block, found ${blocks.length}`);
  return parseVerifiedCertificateRequest(blocks[0]!.der, what);
}
