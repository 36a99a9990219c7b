// Everything `kubepki doctor` looks at, read once from disk and never thrown over: a file that is missing,
// unreadable or corrupt is recorded as such (doctor reports it; the pure checks in checks.ts never do I/O).
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { parseCertificatesPem, type Certificate } from '../../x509/certificate.js';
import { parsePrivateKeyPem } from '../../x509/keys.js';
import { CA_LIST, KUBECONFIG_LIST, LEAF_LIST, type CAName, type CASpec, type KubeconfigSpec, type LeafSpec } from '../certlist.js';
import { parseKubeconfig } from '../kubeconfig.js';
import { certPath, keyPath, kubeconfigPath, readOptional } from '../pki-dir.js';

/** A certificate (bundle) and key as found on disk. */
export interface PairSnapshot {
  certPath: string;
  keyPath: string;
  certs?: Certificate[];
  key?: KeyObject;
  /** Why the certificate could not be read ("open …: no such file or directory", a parse error). */
  certError?: string;
  keyError?: string;
}

export interface KubeconfigSnapshot {
  spec: KubeconfigSpec;
  path: string;
  server?: string;
  caCerts?: Certificate[];
  clientCert?: Certificate;
  clientKey?: KeyObject;
  error?: string;
}

export interface KubeletPairSnapshot {
  /** <dir>/kubelet-client-current.pem or kubelet-server-current.pem. */
  path: string;
  /** Symlink target when the file is a link. */
  target?: string;
  certs?: Certificate[];
  key?: KeyObject;
  error?: string;
}

export interface PkiSnapshot {
  now: Date;
  certDir: string;
  kubeconfigDir: string;
  cas: { spec: CASpec; pair: PairSnapshot }[];
  leaves: { spec: LeafSpec; pair: PairSnapshot }[];
  kubeconfigs: KubeconfigSnapshot[];
  /** Present when a kubelet (agent) certificate directory was given. */
  kubelet?: { dir: string; client: KubeletPairSnapshot; server: KubeletPairSnapshot };
  /** --requestheader-allowed-names of the API server (kubeadm's default: front-proxy-client). */
  requestHeaderAllowedNames: string[];
}

const noSuchFile = (file: string) => `open ${file}: no such file or directory`;

async function readPair(certDir: string, baseName: string): Promise<PairSnapshot> {
  const pair: PairSnapshot = { certPath: certPath(certDir, baseName), keyPath: keyPath(certDir, baseName) };
  try {
    const text = await readOptional(pair.certPath);
    if (text === undefined) pair.certError = noSuchFile(pair.certPath);
    else pair.certs = parseCertificatesPem(text, pair.certPath);
  } catch (err) {
    pair.certError = (err as Error).message;
  }
  try {
    const text = await readOptional(pair.keyPath);
    if (text === undefined) pair.keyError = noSuchFile(pair.keyPath);
    else pair.key = parsePrivateKeyPem(text, pair.keyPath);
  } catch (err) {
    pair.keyError = (err as Error).message;
  }
  return pair;
}

/** A kubeconfig given on the command line (live checks): read like the cluster's, under its own name. */
export function readKubeconfigFile(file: string): Promise<KubeconfigSnapshot> {
  const spec: KubeconfigSpec = { name: path.basename(file) as KubeconfigSpec['name'], longName: file, renewable: false, clientName: () => '', organizations: [], server: () => '' };
  return readKubeconfig(spec, path.dirname(file), file);
}

async function readKubeconfig(spec: KubeconfigSpec, kubeconfigDir: string, explicit?: string): Promise<KubeconfigSnapshot> {
  const file = explicit ?? kubeconfigPath(kubeconfigDir, spec.name);
  const snap: KubeconfigSnapshot = { spec, path: file };
  try {
    const text = await readOptional(file);
    if (text === undefined) {
      snap.error = noSuchFile(file);
      return snap;
    }
    const kc = parseKubeconfig(text, file);
    snap.server = kc.server;
    if (kc.caPem) snap.caCerts = parseCertificatesPem(kc.caPem, `${file} (certificate-authority-data)`);
    if (kc.clientCertPem) snap.clientCert = parseCertificatesPem(kc.clientCertPem, `${file} (client-certificate-data)`)[0];
    if (kc.clientKeyPem) snap.clientKey = parsePrivateKeyPem(kc.clientKeyPem, `${file} (client-key-data)`);
  } catch (err) {
    snap.error = (err as Error).message;
  }
  return snap;
}

async function readKubeletPair(file: string): Promise<KubeletPairSnapshot> {
  const snap: KubeletPairSnapshot = { path: file };
  try {
    const st = await lstat(file).catch(() => undefined);
    if (st?.isSymbolicLink()) snap.target = await readlink(file);
    const text = await readOptional(file);
    if (text === undefined) {
      snap.error = noSuchFile(file);
      return snap;
    }
    snap.certs = parseCertificatesPem(text, file);
    snap.key = parsePrivateKeyPem(text, file);
  } catch (err) {
    snap.error = (err as Error).message;
  }
  return snap;
}

export async function readPkiSnapshot(options: { certDir: string; kubeconfigDir: string; kubeletDir?: string; requestHeaderAllowedNames?: string[]; now?: Date }): Promise<PkiSnapshot> {
  const { certDir, kubeconfigDir } = options;
  const cas = await Promise.all(CA_LIST.map(async (spec) => ({ spec, pair: await readPair(certDir, spec.baseName) })));
  const leaves = await Promise.all(LEAF_LIST.map(async (spec) => ({ spec, pair: await readPair(certDir, spec.baseName) })));
  const kubeconfigs = await Promise.all(KUBECONFIG_LIST.map((spec) => readKubeconfig(spec, kubeconfigDir)));
  let kubelet: PkiSnapshot['kubelet'];
  if (options.kubeletDir) {
    const dir = options.kubeletDir;
    kubelet = { dir, client: await readKubeletPair(path.join(dir, 'kubelet-client-current.pem')), server: await readKubeletPair(path.join(dir, 'kubelet-server-current.pem')) };
  }
  return {
    now: options.now ?? new Date(),
    certDir,
    kubeconfigDir,
    cas,
    leaves,
    kubeconfigs,
    kubelet,
    requestHeaderAllowedNames: options.requestHeaderAllowedNames ?? ['front-proxy-client'],
  };
}

export function caOf(s: PkiSnapshot, name: CAName): PairSnapshot {
  return s.cas.find((c) => c.spec.name === name)!.pair;
}
