// PKCS#10 certificate signing requests: creating them (the agent, cfssl genkey), and reading one whose
// self-signature must verify (the agent, cfssl sign, certs inspect) through the one parser
// (certificate-request.ts) and the one signature check (csr-signature.ts), with the input named in errors.
import { KubepkiError } from '../util/errors.js';
import { x509 } from './provider.js';
import { decodePem } from './pem.js';
import { toJsonName, type DistinguishedName } from './names.js';
import { canonicalIp, emptySans, type SubjectAltNames } from './san.js';
import { signingAlgorithmFor, toSigningKey, type KeyPair, type SignatureHash } from './keys.js';
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
  const names: x509.JsonGeneralNames = [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value: canonicalIp(value) ?? value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  const alg = signingAlgorithmFor(keyPair.privateKey, signatureHash);
  const spki = new Uint8Array(keyPair.publicKey.export({ type: 'spki', format: 'der' }));
  const publicCryptoKey = await x509.cryptoProvider.get().subtle.importKey('spki', spki, alg, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(toJsonName(subject)),
    keys: { privateKey: (await toSigningKey(keyPair.privateKey, signatureHash)) as unknown as CryptoKeyLike, publicKey: publicCryptoKey },
    signingAlgorithm: { name: alg.name, hash: alg.hash } as unknown as { name: string },
    extensions: [
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      ...(requestCA ? [new x509.BasicConstraintsExtension(true, requestCA.maxPathLen, true)] : []),
    ],
  } as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]);
  return parseCertificateRequest(new Uint8Array(csr.rawData));
}

type CryptoKeyLike = object;

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
