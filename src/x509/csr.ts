// PKCS#10 certificate signing requests: creating them (the agent, cfssl genkey) and reading them (the API
// server's validation, the signer). A request whose self-signature does not verify is rejected here.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { x509 } from './provider.js';
import { decodePem, encodePem } from './pem.js';
import { fromName, toJsonName, type DistinguishedName } from './names.js';
import { canonicalIp, emptySans, sansFromGeneralNames, type SubjectAltNames } from './san.js';
import { signingAlgorithmFor, toSigningKey, type KeyPair, type SignatureHash } from './keys.js';

export interface CertificateRequest {
  der: Uint8Array;
  pem: string;
  subject: DistinguishedName;
  sans: SubjectAltNames;
  publicKey: KeyObject;
  /** Key usage bits and EKU OIDs requested through the extensionRequest attribute, if any. */
  requestedKeyUsage: number;
  requestedExtKeyUsages: string[];
  requestedIsCA: boolean | undefined;
  signatureAlgorithm: string;
}

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
  return parseCertificateRequestDer(new Uint8Array(csr.rawData));
}

type CryptoKeyLike = object;

/** Parses and verifies a DER PKCS#10 request. */
export async function parseCertificateRequestDerVerified(der: Uint8Array, what = 'certificate request'): Promise<CertificateRequest> {
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new KubepkiError('InvalidCSR', `${what}: not a valid PKCS#10 certificate request: ${(err as Error).message}`, { cause: err });
  }
  let ok = false;
  try {
    ok = await req.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new KubepkiError('SignatureInvalid', `${what}: the request's signature does not verify`);
  return describe(req, der, what);
}

/** Parses a DER request without verifying its signature (use the Verified variant for untrusted input). */
export function parseCertificateRequestDer(der: Uint8Array, what = 'certificate request'): CertificateRequest {
  let req: x509.Pkcs10CertificateRequest;
  try {
    req = new x509.Pkcs10CertificateRequest(der);
  } catch (err) {
    throw new KubepkiError('InvalidCSR', `${what}: not a valid PKCS#10 certificate request: ${(err as Error).message}`, { cause: err });
  }
  return describe(req, der, what);
}

/** Reads the one CERTIFICATE REQUEST block of a PEM text and verifies its self-signature. */
export async function parseCertificateRequestPem(pem: string, what = 'certificate request'): Promise<CertificateRequest> {
  const blocks = decodePem(pem, what).filter((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST');
  if (blocks.length !== 1) throw new KubepkiError('InvalidCSR', `${what}: expected one CERTIFICATE REQUEST PEM block, found ${blocks.length}`);
  return parseCertificateRequestDerVerified(blocks[0]!.der, what);
}

function describe(req: x509.Pkcs10CertificateRequest, der: Uint8Array, what: string): CertificateRequest {
  const san = findExt(req, x509.SubjectAlternativeNameExtension);
  const sans = sansFromGeneralNames(san?.names.items ?? []);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(req.publicKey.rawData), format: 'der', type: 'spki' });
  } catch (err) {
    throw new KubepkiError('InvalidCSR', `${what}: unsupported public key: ${(err as Error).message}`, { cause: err });
  }
  const ku = findExt(req, x509.KeyUsagesExtension);
  const eku = findExt(req, x509.ExtendedKeyUsageExtension);
  const bc = findExt(req, x509.BasicConstraintsExtension);
  const sig = req.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  return {
    der,
    pem: encodePem('CERTIFICATE REQUEST', der),
    subject: fromName(req.subjectName),
    sans,
    publicKey,
    requestedKeyUsage: ku?.usages ?? 0,
    requestedExtKeyUsages: Array.from(eku?.usages ?? [], String),
    requestedIsCA: bc?.ca,
    signatureAlgorithm: `${sig.name ?? 'unknown'}${sig.hash?.name ? `/${sig.hash.name}` : ''}`,
  };
}

function findExt<T extends x509.Extension>(req: x509.Pkcs10CertificateRequest, cls: new (...args: never[]) => T): T | undefined {
  return req.extensions.find((e): e is T => e instanceof cls);
}
