// Builders for the controllers' tests (cert-manager's gen style: a base object and modifier functions).
// Keys and requests are real, made with src/x509; CAs are made once per algorithm and cached.
import type { KeyObject } from 'node:crypto';
import {
  createCertificateRequest,
  generateKeyPair,
  type Certificate,
  type DistinguishedName,
  type KeyAlgorithm,
  type KeyPair,
  type SubjectAltNames,
} from '../../src/x509/index.js';
import { emptySans } from '../../src/x509/san.js';
import { issueFromRequest, signingAuthority, type SigningAuthority } from '../../src/controllers/signer/issue.js';
import { parseSpecRequest } from '../../src/controllers/csr.js';
import { encodePem } from '../../src/x509/pem.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';
import { makeCa } from '../helpers/pki.js';

export interface TestCA {
  certificate: Certificate;
  privateKey: KeyObject;
  authority: SigningAuthority;
}

const caCache = new Map<string, Promise<TestCA>>();

export function testCA(algorithm: KeyAlgorithm = 'ECDSA-P256', options: { notBefore?: Date; notAfter?: Date; commonName?: string } = {}): Promise<TestCA> {
  const k = `${algorithm}|${options.notBefore?.toISOString()}|${options.notAfter?.toISOString()}|${options.commonName}`;
  let p = caCache.get(k);
  if (!p) {
    p = (async () => {
      const { certificate, privateKey } = await makeCa({
        algorithm,
        cn: options.commonName ?? 'kubernetes',
        notBefore: options.notBefore ?? new Date('2020-01-01T00:00:00Z'),
        notAfter: options.notAfter ?? new Date('2040-01-01T00:00:00Z'),
      });
      return { certificate, privateKey, authority: signingAuthority(certificate, privateKey) };
    })();
    caCache.set(k, p);
  }
  return p;
}

let sharedKeys: Promise<KeyPair> | undefined;
/** One ECDSA key reused by requests whose key does not matter (keygen is slow). */
export const sharedKeyPair = (): Promise<KeyPair> => (sharedKeys ??= generateKeyPair('ECDSA-P256'));

export function sans(partial: Partial<SubjectAltNames>): SubjectAltNames {
  return { ...emptySans(), ...partial };
}

export async function requestPem(subject: DistinguishedName, altNames?: Partial<SubjectAltNames>, keyPair?: KeyPair): Promise<string> {
  const req = await createCertificateRequest({ subject, sans: sans(altNames ?? {}), keyPair: keyPair ?? (await sharedKeyPair()) });
  return req.pem;
}

export type CSRModifier = (csr: CertificateSigningRequest) => void;

/** A CSR object around a PEM request; defaults: a kubelet client request from a bootstrap token. */
export function csrObject(name: string, pem: string, ...mods: CSRModifier[]): CertificateSigningRequest {
  const csr: CertificateSigningRequest = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: {
      request: Buffer.from(pem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'client auth'],
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'],
    },
  };
  for (const m of mods) m(csr);
  return csr;
}

export const withSigner = (signerName: string): CSRModifier => (c) => void (c.spec.signerName = signerName);
export const withUsages = (...usages: string[]): CSRModifier => (c) => void (c.spec.usages = usages);
export const withRequester = (username: string, groups: string[]): CSRModifier => (c) => {
  c.spec.username = username;
  c.spec.groups = groups;
};
export const withExpirationSeconds = (s: number): CSRModifier => (c) => void (c.spec.expirationSeconds = s);
export const approved = (at = '2026-01-01T00:00:00Z'): CSRModifier => (c) => {
  c.status ??= {};
  c.status.conditions = [...(c.status.conditions ?? []), { type: 'Approved', status: 'True', reason: 'Test', message: 'test', lastUpdateTime: at, lastTransitionTime: at }];
};
export const denied = (at = '2026-01-01T00:00:00Z'): CSRModifier => (c) => {
  c.status ??= {};
  c.status.conditions = [...(c.status.conditions ?? []), { type: 'Denied', status: 'True', reason: 'Test', message: 'test', lastUpdateTime: at, lastTransitionTime: at }];
};
export const failed = (at = '2026-01-01T00:00:00Z'): CSRModifier => (c) => {
  c.status ??= {};
  c.status.conditions = [...(c.status.conditions ?? []), { type: 'Failed', status: 'True', reason: 'Test', message: 'test', lastUpdateTime: at, lastTransitionTime: at }];
};
export const issuedWith = (certPem: string): CSRModifier => (c) => {
  c.status ??= {};
  c.status.certificate = Buffer.from(certPem).toString('base64');
};
export const createdAt = (at: string): CSRModifier => (c) => void (c.metadata.creationTimestamp = at);

export const NODE_SUBJECT = (node: string): DistinguishedName => ({ commonName: `system:node:${node}`, organization: ['system:nodes'] });

/** A node client certificate (PEM) issued by the ECDSA test CA, valid from `notBefore` to `notAfter`. */
export async function nodeClientCertPem(notBefore: Date, notAfter: Date): Promise<string> {
  const ca = await testCA('ECDSA-P256');
  const request = parseSpecRequest({ spec: { request: Buffer.from(await requestPem(NODE_SUBJECT('n'))).toString('base64') } } as CertificateSigningRequest);
  return encodePem('CERTIFICATE', await issueFromRequest({ authority: ca.authority, request, usages: ['client auth'], validity: { notBefore, notAfter } }));
}
