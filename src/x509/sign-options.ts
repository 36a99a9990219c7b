// The one issuing path of kubepki (smallstep's ordered sign options): a caller describes the certificate as
// a list of options — modifiers that fill in the template in order, then validators that check the finished
// template against the issuer — and signCertificate applies them and signs with issueCertificate. `init`,
// `certs renew`, cfssl and the CSR signer differ only in the options they pass (their validity rules, their
// usages, whether a certificate may outlive its CA), not in how a certificate gets made.
import type { KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { issueCertificate, type Certificate, type CertificateIssuer, type CertificateTemplate } from './certificate.js';
import type { KeyPair, SignatureHash } from './keys.js';
import type { DistinguishedName } from './names.js';
import type { SubjectAltNames } from './san.js';
import type { Usages } from './usages.js';

type Issuer = CertificateIssuer | { selfSigned: KeyPair };

/** What a modifier fills in; the template is complete once subject and validity are set. */
export type TemplateDraft = Partial<CertificateTemplate>;

export type SignOption =
  | { type: 'modify'; name: string; apply(draft: TemplateDraft, issuer: Issuer): void }
  | { type: 'validate'; name: string; check(template: CertificateTemplate, issuer: Issuer): void };

const modify = (name: string, apply: (draft: TemplateDraft, issuer: Issuer) => void): SignOption => ({ type: 'modify', name, apply });
const validate = (name: string, check: (template: CertificateTemplate, issuer: Issuer) => void): SignOption => ({ type: 'validate', name, check });
const issuerCertificate = (issuer: Issuer) => ('selfSigned' in issuer ? undefined : issuer.certificate);

export const subject = (dn: DistinguishedName): SignOption => modify('subject', (d) => void (d.subject = dn));
export const subjectAltNames = (sans: SubjectAltNames): SignOption => modify('subjectAltNames', (d) => void (d.sans = sans));
export const usages = (u: Usages): SignOption =>
  modify('usages', (d) => {
    d.keyUsage = u.keyUsage;
    d.extKeyUsages = [...u.extKeyUsages];
  });
export const basicConstraints = (c: { isCA: boolean; maxPathLen?: number }): SignOption =>
  modify('basicConstraints', (d) => {
    d.isCA = c.isCA;
    if (c.maxPathLen === undefined) delete d.maxPathLen;
    else d.maxPathLen = c.maxPathLen;
  });
export const serialNumber = (hex: string): SignOption => modify('serialNumber', (d) => void (d.serialNumber = hex));
/** No Authority Key Identifier (Go writes none when the issuer has no SKI, or on a self-signed certificate). */
export const omitAuthorityKeyId = (): SignOption => modify('omitAuthorityKeyId', (d) => void (d.omitAuthorityKeyId = true));

/** An exact validity period (cfssl's profile, the signer's policy window). */
export const validity = (v: { notBefore: Date; notAfter: Date }): SignOption =>
  modify('validity', (d) => {
    d.notBefore = v.notBefore;
    d.notAfter = v.notAfter;
  });

/** kubeadm's validity: from `now` less the backdate (clock skew between nodes) until `now` + `ttlMs`. */
export const backdatedValidity = (o: { now: Date; ttlMs: number; backdateMs: number }): SignOption =>
  validity({ notBefore: new Date(o.now.getTime() - o.backdateMs), notAfter: new Date(o.now.getTime() + o.ttlMs) });

/** A certificate cannot usefully outlive its CA: its notAfter is cut to the issuer's (kubeadm only warns). */
export const capAtIssuerExpiry = (): SignOption =>
  modify('capAtIssuerExpiry', (d, issuer) => {
    const ca = issuerCertificate(issuer);
    if (ca && d.notAfter && d.notAfter > ca.notAfter) d.notAfter = new Date(ca.notAfter.getTime());
  });

/** Refuses a certificate that would outlive its CA (every issuer but cfssl, which allows it). */
export const withinIssuerValidity = (): SignOption =>
  validate('withinIssuerValidity', (t, issuer) => {
    const ca = issuerCertificate(issuer);
    if (ca && t.notAfter > ca.notAfter) throw new KubepkiError('InvalidArgument', `the certificate would outlive its CA (CA expires ${ca.notAfter.toISOString()})`);
  });

/** Refuses an impossible period and dates X.509 cannot hold. */
const wellFormedValidity = validate('wellFormedValidity', (t) => {
  if (!(t.notBefore.getTime() <= t.notAfter.getTime())) throw new KubepkiError('InvalidArgument', 'the certificate would expire before it becomes valid');
  if (t.notAfter.getTime() > Date.UTC(9999, 11, 31, 23, 59, 59)) throw new KubepkiError('InvalidArgument', 'the certificate would expire after the year 9999 (expiry too long)');
});

/**
 * Applies `options` in order (modifiers, then validators) and signs the certificate for `publicKey`.
 *
 * @example
 * await signCertificate({ publicKey, issuer, options: [subject({ commonName: 'x' }), backdatedValidity({ now, ttlMs, backdateMs }), usages(u)] });
 */
export async function signCertificate(o: {
  /** The subject's key, or its already verified canonical SPKI (see issueCertificate). */
  publicKey: KeyObject | { spki: Uint8Array };
  issuer: Issuer;
  options: readonly SignOption[];
  signatureHash?: SignatureHash;
}): Promise<Certificate> {
  const draft: TemplateDraft = { keyUsage: 0, extKeyUsages: [] };
  for (const opt of o.options) if (opt.type === 'modify') opt.apply(draft, o.issuer);
  if (!draft.subject || !draft.notBefore || !draft.notAfter) throw new KubepkiError('InvalidArgument', 'a certificate needs a subject and a validity period');
  const template = draft as CertificateTemplate;
  for (const opt of [...o.options, wellFormedValidity]) if (opt.type === 'validate') opt.check(template, o.issuer);
  return issueCertificate({
    template,
    publicKey: o.publicKey,
    issuer: o.issuer,
    ...(o.signatureHash ? { signatureHash: o.signatureHash } : {}),
    allowOutlivingIssuer: true, // decided by the options (withinIssuerValidity)
  });
}
