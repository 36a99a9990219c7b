// `certs check-expiration` on a node: the kubelet's rotating client and serving certificates
// (kubelet-client-current.pem, kubelet-server-current.pem — certificate and key in one file), which kubeadm's
// command skips. Listed when the directory given (or the cert dir itself, e.g. /var/lib/kubelet/pki) holds them.
import path from 'node:path';
import { parseCertificatesPem, type Certificate } from '../x509/certificate.js';
import { readOptional } from './pki-dir.js';

export const KUBELET_PAIRS = ['kubelet-client-current.pem', 'kubelet-server-current.pem'] as const;

/** The kubelet certificates found in `dirs` (first directory holding a file wins); a corrupt file is an error naming it. */
export async function kubeletCertificates(dirs: string[]): Promise<{ name: string; certificate: Certificate }[]> {
  const out: { name: string; certificate: Certificate }[] = [];
  for (const name of KUBELET_PAIRS) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      const text = await readOptional(file);
      if (text === undefined) continue;
      out.push({ name, certificate: parseCertificatesPem(text, file)[0]! });
      break;
    }
  }
  return out;
}
