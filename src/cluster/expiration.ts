// `certs check-expiration`: when each kubeadm certificate and CA expires, including the client certificates
// embedded in kubeconfigs, in the shape of kubeadm's output API (output.kubeadm.k8s.io CertificateExpirationInfo).
import { systemClock, type Clock } from '../util/clock.js';
import { KubepkiError } from '../util/errors.js';
import { parseCertificatesPem, type Certificate } from '../x509/certificate.js';
import { CA_LIST, LEAF_LIST, expirationEntries, type CAName } from './certlist.js';
import { certPath, keyPath, loadCertificateFile, loadKubeconfig, readOptional, type LoadedKubeconfig } from './pki-dir.js';
import { kubeletCertificates } from './kubelet-expiration.js';

export interface ExpirationEntry {
  name: string;
  /** Absent for CAs (kubeadm's caName is omitted for root CAs). */
  caName?: CAName;
  expirationDate: Date | null;
  /** Whole seconds until expiry (negative once expired), as kubeadm's residualTime. */
  residualTimeSeconds: number;
  /** The CA's key is not on disk: kubepki cannot renew what it signs (kubeadm's external CA mode). */
  externallyManaged: boolean;
  missing: boolean;
}

export interface ExpirationInfo {
  certificates: ExpirationEntry[];
  certificateAuthorities: ExpirationEntry[];
}

/** Reads every certificate kubeadm's renewal manager knows and reports its expiry. A corrupt file is an error naming it. */
export async function checkExpiration(options: { certDir: string; kubeconfigDir: string; kubeletCertDir?: string; clock?: Clock }): Promise<ExpirationInfo> {
  const { certDir, kubeconfigDir } = options;
  const now = (options.clock ?? systemClock).now();

  const caInfo = await Promise.all(
    CA_LIST.map(async (ca) => {
      const [cert, keyText] = await Promise.all([loadCertificateFile(certPath(certDir, ca.baseName)), readOptional(keyPath(certDir, ca.baseName))]);
      return { ca, cert: cert?.certificate, externallyManaged: cert !== undefined && keyText === undefined };
    }),
  );
  const external = new Map<CAName, boolean>(caInfo.map((c) => [c.ca.name, c.externallyManaged]));

  const certificates = await Promise.all(
    expirationEntries().map(async (entry): Promise<ExpirationEntry> => {
      let cert: Certificate | undefined;
      if (entry.kind === 'leaf') {
        const leaf = LEAF_LIST.find((l) => l.name === entry.name)!;
        cert = (await loadCertificateFile(certPath(certDir, leaf.baseName)))?.certificate;
      } else {
        const kc = await loadKubeconfig(kubeconfigDir, entry.name);
        cert = kc ? embeddedClientCertificate(kc) : undefined;
      }
      return toEntry(entry.name, cert, now, external.get(entry.caName) ?? false, entry.caName);
    }),
  );

  // A node's kubelet certificates (kubeadm skips them): from --kubelet-cert-dir, or the cert dir itself.
  const kubelet = await kubeletCertificates(options.kubeletCertDir ? [options.kubeletCertDir, certDir] : [certDir]);
  for (const k of kubelet) certificates.push(toEntry(k.name, k.certificate, now, external.get('ca') ?? false, 'ca'));

  // kubeadm lists the CAs sorted by name (ca, etcd-ca, front-proxy-ca).
  const certificateAuthorities = caInfo.map((c) => toEntry(c.ca.name, c.cert, now, c.externallyManaged)).sort((a, b) => (a.name < b.name ? -1 : 1));
  return { certificates, certificateAuthorities };
}

function toEntry(name: string, cert: Certificate | undefined, now: Date, externallyManaged: boolean, caName?: CAName): ExpirationEntry {
  if (!cert) return { name, ...(caName ? { caName } : {}), expirationDate: null, residualTimeSeconds: 0, externallyManaged: false, missing: true };
  return {
    name,
    ...(caName ? { caName } : {}),
    expirationDate: cert.notAfter,
    residualTimeSeconds: Math.trunc((cert.notAfter.getTime() - now.getTime()) / 1000),
    externallyManaged,
    missing: false,
  };
}

/** The client certificate a kubeconfig embeds for its current user. */
export function embeddedClientCertificate(kc: LoadedKubeconfig): Certificate {
  if (kc.parsed.clientCertPem === undefined) {
    const ref = kc.parsed.clientCertFile ? ` (it references the file ${kc.parsed.clientCertFile}; only embedded certificates are managed)` : '';
    throw new KubepkiError('FileInvalid', `${kc.path}: user "${kc.parsed.userName}" has no client-certificate-data${ref}`);
  }
  return parseCertificatesPem(kc.parsed.clientCertPem, `${kc.path} (client-certificate-data)`)[0]!;
}
