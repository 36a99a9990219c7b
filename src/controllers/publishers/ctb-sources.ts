// What the ClusterTrustBundle publisher publishes: each kubernetes.io signer the signing controller serves,
// from its CA certificate file (read again at each resync, so a rotated CA file is followed), and
// kubernetes.io/kube-apiserver-serving from the root CA (the CA kube-apiserver's serving certificate chains
// to, as kube's publisher does for that signer).
import { readFile } from 'node:fs/promises';
import { resolveSigningFiles, type SigningFiles } from '../signer/ca.js';
import type { SigningAuthority } from '../signer/issue.js';
import type { TrustBundleSource } from './ctb-publisher.js';

export const KUBE_APISERVER_SERVING_SIGNER = 'kubernetes.io/kube-apiserver-serving';

export function trustBundleSources(options: {
  signing?: { files: SigningFiles } | { authorities: ReadonlyMap<string, SigningAuthority> };
  authorities: ReadonlyMap<string, SigningAuthority>;
  rootCA?: string;
}): TrustBundleSource[] {
  const out: TrustBundleSource[] = [];
  if (options.signing && 'files' in options.signing) {
    for (const [signerName, files] of resolveSigningFiles(options.signing.files)) out.push({ signerName, read: () => readFile(files.certFile, 'utf8') });
  } else {
    for (const [signerName, a] of options.authorities) out.push({ signerName, read: () => Promise.resolve(a.certificate.pem) });
  }
  if (options.rootCA) {
    const rootCA = options.rootCA;
    out.push({ signerName: KUBE_APISERVER_SERVING_SIGNER, read: () => Promise.resolve(rootCA) });
  }
  return out;
}
