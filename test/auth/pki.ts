// The auth tests' CA and client certificates, in the shapes those tests use, built by test/helpers/pki.ts.
import type { KeyObject } from 'node:crypto';
import type { Certificate, KeyPair } from '../../src/x509/index.js';
import { HOUR, issueLeaf, makeCa } from '../helpers/pki.js';

export interface TestCA {
  certificate: Certificate;
  privateKey: KeyObject;
  keyPair: KeyPair;
}

export function makeCA(cn: string, now = new Date()): Promise<TestCA> {
  return makeCa({ cn, notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 24 * HOUR) });
}

export async function makeClientCert(
  ca: TestCA,
  cn: string,
  options: { organization?: string[]; usages?: string[]; notBefore?: Date; notAfter?: Date } = {},
): Promise<{ certificate: Certificate; keyPair: KeyPair }> {
  const now = Date.now();
  const { certificate, privateKey } = await issueLeaf(ca, {
    cn,
    orgs: options.organization ?? [],
    usages: options.usages ?? ['digital signature', 'key encipherment', 'client auth'],
    notBefore: options.notBefore ?? new Date(now - HOUR),
    notAfter: options.notAfter ?? new Date(now + 12 * HOUR),
  });
  return { certificate, keyPair: { privateKey: privateKey!, publicKey: certificate.publicKey } };
}
