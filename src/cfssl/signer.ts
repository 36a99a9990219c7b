// cfssl's local signer: turns a verified CSR and a signing profile into a certificate with cfssl's
// choices — notBefore = now rounded to the minute minus 5 minutes, notAfter = notBefore + expiry (not
// capped at the CA's), 20-byte random serial, SHA-384/512 for big RSA keys, CA constraint from the
// profile, a CA keeping only IP SANs, no AKI on a self-signed certificate.
import { randomBytes, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import type { Clock } from '../util/clock.js';
import {
  keyAlgorithmOf,
  parseHosts,
  emptySans,
  type Certificate,
  type CertificateIssuer,
  type CertificateRequest,
  type KeyPair,
  type SignatureHash,
  type SubjectAltNames,
} from '../x509/index.js';
import { basicConstraints, omitAuthorityKeyId, serialNumber, signCertificate, subject, subjectAltNames, usages, validity } from '../x509/sign-options.js';
import { profileUsages, type SigningProfile } from './ca-config.js';

const MINUTE_MS = 60_000;
const DEFAULT_BACKDATE_MS = 5 * MINUTE_MS;

/** The digest cfssl signs with for a key (helpers.SignerAlgo): by RSA size, or by curve. */
export function cfsslSignatureHash(key: KeyObject): SignatureHash {
  const alg = keyAlgorithmOf(key);
  if (alg.type === 'RSA') return alg.bits >= 4096 ? 'SHA-512' : alg.bits >= 3072 ? 'SHA-384' : 'SHA-256';
  if (alg.type === 'ECDSA') return alg.curve === 'P-521' ? 'SHA-512' : alg.curve === 'P-384' ? 'SHA-384' : 'SHA-256';
  throw new KubepkiError('Unsupported', `cfssl cannot sign with ${alg.name} keys`);
}

/** 20 random bytes, top bit clear (cfssl's serial), as minimal-DER hex. */
export function cfsslSerialNumber(): string {
  const bytes = randomBytes(20);
  bytes[0]! &= 0x7f;
  let hex = bytes.toString('hex').replace(/^(00)+/, '');
  if (hex === '') hex = '01';
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  return hex;
}

/** Go's time.Round(time.Minute): halves round up. */
function roundToMinute(ms: number): number {
  return Math.floor((ms + MINUTE_MS / 2) / MINUTE_MS) * MINUTE_MS;
}

export interface CfsslSignOptions {
  /** A CSR whose self-signature has been verified. */
  request: CertificateRequest;
  /** cfssl's SignRequest.Hosts: when given (even empty), replaces the CSR's SANs. */
  hosts: string[] | undefined;
  profile: SigningProfile;
  /** Supplies the expiry when the profile's is 0. */
  defaultProfile: SigningProfile;
  issuer: CertificateIssuer | { selfSigned: KeyPair };
  clock: Clock;
}

export async function cfsslSign(options: CfsslSignOptions): Promise<Certificate> {
  const { request, profile, defaultProfile, issuer, clock } = options;
  const { keyUsage, extKeyUsages } = profileUsages(profile);
  if (keyUsage === 0 && extKeyUsages.length === 0) {
    const which = profile.name === 'default' ? 'the default profile' : `profile "${profile.name}"`;
    throw new KubepkiError('InvalidConfig', `${which} has no key usages to sign with (choose a profile with usages, e.g. -profile=server)`);
  }
  const cc = profile.caConstraint;
  if (request.requestedIsCA && !cc.isCA) {
    throw new KubepkiError('InvalidCSR', `the CSR asks for a CA certificate, which profile "${profile.name}" does not allow (it needs "ca_constraint": {"is_ca": true})`);
  }
  let sans: SubjectAltNames = options.hosts !== undefined ? parseHosts(options.hosts) : request.sans;
  // cfssl gives a CA certificate no DNS, email or URI names (a name-less CA); IP addresses stay.
  if (cc.isCA) sans = { ...emptySans(), ipAddresses: [...sans.ipAddresses] };

  const backdate = profile.backdateMs ?? DEFAULT_BACKDATE_MS;
  const notBefore = profile.notBefore ?? new Date(roundToMinute(clock.now().getTime()) - backdate);
  const expiry = profile.expiryMs || defaultProfile.expiryMs;
  const notAfter = profile.notAfter ?? new Date(notBefore.getTime() + expiry);
  const selfSigned = 'selfSigned' in issuer;
  const signerKey = selfSigned ? issuer.selfSigned.privateKey : issuer.privateKey;
  let maxPathLen: number | undefined;
  if (cc.isCA) maxPathLen = cc.maxPathLen > 0 ? cc.maxPathLen : cc.maxPathLen === 0 && cc.maxPathLenZero ? 0 : undefined;
  // cfssl does not cap a profile's expiry at the CA's: no withinIssuerValidity here.
  return signCertificate({
    publicKey: request.publicKey,
    issuer,
    signatureHash: cfsslSignatureHash(signerKey),
    options: [
      subject(request.subject),
      subjectAltNames(sans),
      validity({ notBefore, notAfter }),
      basicConstraints({ isCA: cc.isCA, ...(maxPathLen === undefined ? {} : { maxPathLen }) }),
      usages({ keyUsage, extKeyUsages }),
      serialNumber(cfsslSerialNumber()),
      // Go writes the issuer's SKI as AKI, so none when self-signed or when the CA has no SKI.
      ...(selfSigned || issuer.certificate.subjectKeyId === '' ? [omitAuthorityKeyId()] : []),
    ],
  });
}
