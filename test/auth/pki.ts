// Small PKI builders for the auth tests, made with kubepki's own x509 core (ECDSA keys: fast).
import { generateKeyPair, issueCertificate, parseUsages, type Certificate, type KeyPair } from '../../src/x509/index.js';
import type { KeyObject } from 'node:crypto';

const HOUR = 3_600_000;

export interface TestCA {
  certificate: Certificate;
  privateKey: KeyObject;
  keyPair: KeyPair;
}

export async function makeCA(cn: string, now = new Date()): Promise<TestCA> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  const certificate = await issueCertificate({
    template: {
      subject: { commonName: cn },
      notBefore: new Date(now.getTime() - HOUR),
      notAfter: new Date(now.getTime() + 24 * HOUR),
      isCA: true,
      ...parseUsages(['digital signature', 'key encipherment', 'cert sign']),
    },
    publicKey: keyPair.publicKey,
    issuer: { selfSigned: keyPair },
  });
  return { certificate, privateKey: keyPair.privateKey, keyPair };
}

export async function makeClientCert(
  ca: TestCA,
  cn: string,
  options: { organization?: string[]; usages?: string[]; notBefore?: Date; notAfter?: Date } = {},
): Promise<{ certificate: Certificate; keyPair: KeyPair }> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  const now = new Date();
  const certificate = await issueCertificate({
    template: {
      subject: { commonName: cn, ...(options.organization ? { organization: options.organization } : {}) },
      notBefore: options.notBefore ?? new Date(now.getTime() - HOUR),
      notAfter: options.notAfter ?? new Date(now.getTime() + 12 * HOUR),
      ...parseUsages(options.usages ?? ['digital signature', 'key encipherment', 'client auth']),
    },
    publicKey: keyPair.publicKey,
    issuer: ca,
  });
  return { certificate, keyPair };
}
