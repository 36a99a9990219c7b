// The new material of a CA rotation, made once at the start of *prepare* and kept in the rotation's state
// object (so a re-run after a crash, and every replica, use the same CAs): a new cluster CA and a new
// front-proxy CA, the new cluster CA cross-signed by the old one (a node that trusts only the old CA accepts
// the new one through it, agent/trust.ts), and a new service-account signing key.
import { createPublicKey } from 'node:crypto';
import { KubepkiError } from '../../util/errors.js';
import { generateKeyPair, keyAlgorithmOf, keyMatchesPublicKey, parsePrivateKeyPem, privateKeyToPem, publicKeyToPem, type KeyAlgorithm } from '../../x509/keys.js';
import { issueCertificate, parseCertificatesPem, type Certificate } from '../../x509/certificate.js';
import { caSans, caSpec, caUsages } from '../certlist.js';
import { DEFAULTS } from '../config.js';
import { CERTIFICATE_BACKDATE_MS } from '../init.js';

/** PEM texts, as stored in the state object's data. */
export interface RotationMaterial {
  oldCA: string;
  oldFrontProxyCA: string;
  oldServiceAccountPub: string;
  newCA: string;
  newCAKey: string;
  /** The new cluster CA's subject and key, issued by the old CA. */
  crossSignedCA: string;
  newFrontProxyCA: string;
  newFrontProxyCAKey: string;
  newServiceAccountKey: string;
  newServiceAccountPub: string;
}

export interface CurrentPki {
  ca: { certPem: string; keyPem: string };
  frontProxyCA: { certPem: string; keyPem: string };
  serviceAccountPub: string;
}

function single(pem: string, what: string): Certificate {
  const certs = parseCertificatesPem(pem, what);
  if (certs.length !== 1) throw new KubepkiError('InvalidCertificate', `${what} holds ${certs.length} certificates; a signing CA file holds one`);
  return certs[0]!;
}

function algorithmOf(c: Certificate): KeyAlgorithm {
  const a = keyAlgorithmOf(c.publicKey);
  if (a.type === 'ECDSA') return a.curve === 'P-384' ? 'ECDSA-P384' : 'ECDSA-P256';
  return a.bits === 4096 ? 'RSA-4096' : a.bits === 3072 ? 'RSA-3072' : 'RSA-2048';
}

/** A CA's CN with a "@<unix seconds>" suffix (the kubelet's self-signed CA naming), an earlier suffix replaced. */
export function rotatedCommonName(cn: string, now: Date): string {
  return `${cn.replace(/@\d+$/, '')}@${Math.floor(now.getTime() / 1000)}`;
}

/** The CA pairs on disk, checked: one CA certificate each, its key matching, not expired. */
export function checkCurrentPki(pki: Pick<CurrentPki, 'ca' | 'frontProxyCA'>, now: Date) {
  const pairs = [
    { name: 'ca', ...pki.ca },
    { name: 'front-proxy-ca', ...pki.frontProxyCA },
  ] as const;
  return pairs.map((p) => {
    const cert = single(p.certPem, `${p.name}.crt`);
    const key = parsePrivateKeyPem(p.keyPem, `${p.name}.key`);
    if (!keyMatchesPublicKey(key, cert.publicKey)) throw new KubepkiError('KeyMismatch', `${p.name}.key does not belong to ${p.name}.crt: refusing to rotate from a CA whose key is not the one on disk`);
    if (now > cert.notAfter) {
      throw new KubepkiError('InvalidCertificate', `${p.name}.crt expired on ${cert.notAfter.toISOString()}: a rotation needs the old CA valid (clients must trust the new one through it); re-create the cluster PKI instead`);
    }
    if (!cert.isCA) throw new KubepkiError('InvalidCertificate', `${p.name}.crt is not a CA certificate`);
    return { ...p, cert, key };
  });
}

/** Checks the CA pairs on disk (key matches, not expired), then makes the new material. */
export async function generateRotationMaterial(pki: CurrentPki, now: Date): Promise<RotationMaterial> {
  const loaded = checkCurrentPki(pki, now);
  const notBefore = new Date(now.getTime() - CERTIFICATE_BACKDATE_MS);
  const notAfter = new Date(now.getTime() + DEFAULTS.caCertificateValidityMs);
  const made = await Promise.all(
    loaded.map(async (p) => {
      const keyPair = await generateKeyPair(algorithmOf(p.cert));
      const spec = caSpec(p.name);
      const template = {
        subject: { commonName: rotatedCommonName(p.cert.subject.commonName ?? spec.commonName, now) },
        sans: caSans(spec),
        notBefore,
        notAfter,
        isCA: true,
        ...caUsages(),
      };
      const certificate = await issueCertificate({ template, publicKey: keyPair.publicKey, issuer: { selfSigned: keyPair } });
      // The cross-certificate ends with the old CA (a certificate cannot outlive its issuer).
      const cross =
        p.name === 'ca'
          ? await issueCertificate({
              template: { ...template, notAfter: new Date(Math.min(notAfter.getTime(), p.cert.notAfter.getTime())) },
              publicKey: keyPair.publicKey,
              issuer: { certificate: p.cert, privateKey: p.key },
            })
          : undefined;
      return { certificate, key: keyPair.privateKey, cross };
    }),
  );
  const sa = await generateKeyPair(algorithmOf(loaded[0]!.cert).startsWith('ECDSA') ? 'ECDSA-P256' : 'RSA-2048');
  return {
    oldCA: loaded[0]!.cert.pem,
    oldFrontProxyCA: loaded[1]!.cert.pem,
    oldServiceAccountPub: pki.serviceAccountPub,
    newCA: made[0]!.certificate.pem,
    newCAKey: privateKeyToPem(made[0]!.key),
    crossSignedCA: made[0]!.cross!.pem,
    newFrontProxyCA: made[1]!.certificate.pem,
    newFrontProxyCAKey: privateKeyToPem(made[1]!.key),
    newServiceAccountKey: privateKeyToPem(sa.privateKey),
    newServiceAccountPub: publicKeyToPem(createPublicKey(sa.privateKey)),
  };
}

/** PEM blocks joined, each ending in a newline. */
export const bundle = (...pems: string[]): string => pems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('');
