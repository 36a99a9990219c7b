// The tests' one PKI builder, made with kubepki's own x509 core (ECDSA keys: fast): a CA, leaves with chosen
// names, usages and validity, and cross-certificates. Tests that need openssl-made files use helpers/openssl.ts.
import type { KeyObject } from 'node:crypto';
import {
  generateKeyPair,
  issueCertificate,
  parseUsages,
  parseHosts,
  privateKeyToPem,
  type Certificate,
  type CertificateIssuer,
  type KeyAlgorithm,
  type KeyPair,
} from '../../src/x509/index.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface TestCa extends CertificateIssuer {
  keyPair: KeyPair;
}

export async function makeCa(options: { cn?: string; notBefore?: Date; notAfter?: Date; algorithm?: KeyAlgorithm } = {}): Promise<TestCa> {
  const keyPair = await generateKeyPair(options.algorithm ?? 'ECDSA-P256');
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const certificate = await issueCertificate({
    template: {
      subject: { commonName: options.cn ?? 'kubernetes' },
      notBefore,
      notAfter: options.notAfter ?? new Date(notBefore.getTime() + 3650 * DAY),
      isCA: true,
      ...parseUsages(['digital signature', 'key encipherment', 'cert sign']),
    },
    publicKey: keyPair.publicKey,
    issuer: { selfSigned: keyPair },
  });
  return { certificate, privateKey: keyPair.privateKey, keyPair };
}

export interface LeafOptions {
  cn?: string;
  orgs?: string[];
  usages?: string[];
  hosts?: string[];
  notBefore?: Date;
  notAfter?: Date;
  publicKey?: KeyObject;
}

export async function issueLeaf(ca: CertificateIssuer, options: LeafOptions = {}): Promise<{ certificate: Certificate; privateKey: KeyObject | null; keyPem: string | null }> {
  let privateKey: KeyObject | null = null;
  let publicKey = options.publicKey;
  if (!publicKey) {
    const kp = await generateKeyPair('ECDSA-P256');
    privateKey = kp.privateKey;
    publicKey = kp.publicKey;
  }
  const notBefore = options.notBefore ?? new Date(Date.now() - HOUR);
  const certificate = await issueCertificate({
    template: {
      subject: { commonName: options.cn ?? 'system:node:node-1', organization: options.orgs ?? ['system:nodes'] },
      sans: parseHosts(options.hosts ?? []),
      notBefore,
      notAfter: options.notAfter ?? new Date(notBefore.getTime() + DAY),
      ...parseUsages(options.usages ?? ['digital signature', 'client auth']),
    },
    publicKey,
    issuer: ca,
  });
  return { certificate, privateKey, keyPem: privateKey ? privateKeyToPem(privateKey) : null };
}

/** A certificate for `subjectCa`'s name and key, signed by `issuer`: a cross-certificate (or a CA issued by it). */
export async function crossSign(subjectCa: TestCa, issuer: CertificateIssuer, options: { notBefore?: Date; notAfter?: Date } = {}): Promise<Certificate> {
  const now = Date.now();
  return issueCertificate({
    template: {
      subject: subjectCa.certificate.subject,
      notBefore: options.notBefore ?? new Date(now - DAY),
      notAfter: options.notAfter ?? new Date(now + 365 * DAY),
      isCA: true,
      ...parseUsages(['digital signature', 'cert sign']),
    },
    publicKey: subjectCa.keyPair.publicKey,
    issuer,
  });
}
