// What a CA rotation step changes in one control-plane node's data directory: trust files, kubeconfigs, the
// signing CA pairs, the control plane's leaves. `kubepki ca rotate` does it in the directory it is given and
// every `serve` replica does the same in its own directory as it follows the rotation through the shared
// storage (server/ca-rotation-follower.ts). Each is idempotent, writes atomically, leaves a file whose
// content is already right untouched (no reload for nothing), and orders its writes so that every moment in
// between is a valid trust set for serve's live reload.
import path from 'node:path';
import { rm } from 'node:fs/promises';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { KubepkiError } from '../../util/errors.js';
import type { Clock } from '../../util/clock.js';
import { fingerprint, parseCertificatesPem } from '../../x509/certificate.js';
import { keyMatchesPublicKey, parsePrivateKeyPem } from '../../x509/keys.js';
import { parseKubeconfig, replaceClusterCA } from '../kubeconfig.js';
import { readOptional } from '../pki-dir.js';
import { bundle, type RotationMaterial } from './material.js';
import type { RotationState } from './plan.js';

/** The files serve reads the rotation's extra trust from (server/dynamic-certs.ts ROTATION_TRUST_FILES). */
export const TRUST = { ca: 'ca-rotation-trust.crt', frontProxy: 'front-proxy-ca-rotation-trust.crt', sa: 'sa-rotation-trust.pub' };
export const KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf'];
// kubelet.conf only when its certificate is embedded (one that references kubelet-client-current.pem is the
// kubelet's to rotate, and embeddedClientCertificate refuses it, so it is skipped).
const REISSUED = ['apiserver', 'apiserver-kubelet-client', 'front-proxy-client', 'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', 'kubelet.conf'];

const fingerprints = (pem: string) => new Set(parseCertificatesPem(pem).map((c) => fingerprint(c)));
export const sameCertSet = (a: string, b: string): boolean => {
  const x = fingerprints(a);
  const y = fingerprints(b);
  return x.size === y.size && [...x].every((f) => y.has(f));
};
export const skidOf = (pem: string): string => parseCertificatesPem(pem)[0]!.subjectKeyId ?? '';

const pkiFile = (dataDir: string, f: string) => path.join(dataDir, 'pki', f);

/** The dated directory the old CA pairs are kept in (never deleted silently). */
export const backupDir = (dataDir: string, state: RotationState): string =>
  pkiFile(dataDir, `ca-rotation-backup-${state.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);

/** Writes atomically unless the file already holds exactly this. */
async function put(file: string, data: string, mode: number, mkdirs = false): Promise<void> {
  if ((await readOptional(file)) === data) return;
  await writeFileAtomic(file, data, { mode, ...(mkdirs ? { mkdirs } : {}) });
}

/** The old cluster CA's key in this data directory: ca.key while it is still the old one, else the dated backup. */
export async function findOldCAKey(dataDir: string, state: RotationState, oldCA: string): Promise<string> {
  const publicKey = parseCertificatesPem(oldCA, 'oldCA')[0]!.publicKey;
  for (const f of [pkiFile(dataDir, 'ca.key'), path.join(backupDir(dataDir, state), 'ca.key')]) {
    const pem = await readOptional(f);
    if (!pem) continue;
    try {
      if (keyMatchesPublicKey(parsePrivateKeyPem(pem, f), publicKey)) return pem;
    } catch {
      // not a key: try the next
    }
  }
  throw new KubepkiError('KeyMismatch', `no key of the rotation's old CA in ${pkiFile(dataDir, 'ca.key')} or its backup: this data directory is not a control-plane node of this cluster`);
}

export async function writeKubeconfigCAs(dataDir: string, caBundle: string): Promise<void> {
  for (const name of KUBECONFIGS) {
    const file = path.join(dataDir, name);
    const text = await readOptional(file);
    if (text === undefined) continue;
    const parsed = parseKubeconfig(text, file);
    if (parsed.caPem && sameCertSet(parsed.caPem, caBundle)) continue;
    await writeFileAtomic(file, replaceClusterCA(text, file, caBundle), { mode: 0o600 });
  }
}

export interface FileStepInput {
  dataDir: string;
  state: RotationState;
  /** With the private keys for trust-files and signing-ca. */
  material: RotationMaterial;
  clock?: Clock;
}

/** prepare/trust-files: old+new trusted, the new service-account key signs (old and new tokens verify). */
async function trustFiles({ dataDir, material: m }: FileStepInput): Promise<void> {
  await put(pkiFile(dataDir, TRUST.ca), bundle(m.newCA, m.crossSignedCA), 0o644);
  await put(pkiFile(dataDir, TRUST.frontProxy), m.newFrontProxyCA, 0o644);
  // Every moment verifies old and new tokens, and the signing key always has a verification key.
  await put(pkiFile(dataDir, TRUST.sa), bundle(m.oldServiceAccountPub, m.newServiceAccountPub), 0o600);
  await put(pkiFile(dataDir, 'sa.key'), m.newServiceAccountKey, 0o600);
  await put(pkiFile(dataDir, 'sa.pub'), m.newServiceAccountPub, 0o600);
  await put(pkiFile(dataDir, TRUST.sa), m.oldServiceAccountPub, 0o600);
}

/** switch/signing-ca: the new pairs sign; the old ones kept (dated); both CAs stay trusted. */
async function signingCA({ dataDir, material: m, state }: FileStepInput): Promise<void> {
  const backup = backupDir(dataDir, state);
  for (const [base, newCert, newKey, oldCert, trustFile] of [
    ['ca', m.newCA, m.newCAKey, m.oldCA, TRUST.ca],
    ['front-proxy-ca', m.newFrontProxyCA, m.newFrontProxyCAKey, m.oldFrontProxyCA, TRUST.frontProxy],
  ] as const) {
    const onDisk = (await readOptional(pkiFile(dataDir, `${base}.crt`))) ?? '';
    // Trust both whatever ca.crt says from here on.
    await put(pkiFile(dataDir, trustFile), base === 'ca' ? bundle(m.oldCA, m.newCA, m.crossSignedCA) : bundle(oldCert, newCert), 0o644);
    if (onDisk && sameCertSet(onDisk, newCert) && (await readOptional(pkiFile(dataDir, `${base}.key`))) === newKey) continue;
    if (!newKey) throw new KubepkiError('FileMissing', `the new ${base} key is not available (the rotation state no longer holds it)`);
    if (onDisk && sameCertSet(onDisk, oldCert)) {
      await put(path.join(backup, `${base}.crt`), onDisk, 0o644, true);
      await put(path.join(backup, `${base}.key`), (await readOptional(pkiFile(dataDir, `${base}.key`))) ?? '', 0o600);
    }
    await put(pkiFile(dataDir, `${base}.key`), newKey, 0o600);
    await put(pkiFile(dataDir, `${base}.crt`), newCert, 0o644);
  }
}

/** switch/reissue (this node's part): the serving and client leaves still from the old CAs, re-issued from the new ones with their own names. */
async function reissue({ dataDir, material: m, clock }: FileStepInput): Promise<void> {
  const newIds = new Set([skidOf(m.newCA), skidOf(m.newFrontProxyCA)]);
  const [{ LEAF_LIST }, { embeddedClientCertificate }, { loadCertificateFile, loadKubeconfig }, { renewCertificates }] = await Promise.all([
    import('../certlist.js'),
    import('../expiration.js'),
    import('../pki-dir.js'),
    import('../renew.js'),
  ]);
  const stale: string[] = [];
  for (const name of REISSUED) {
    const leaf = LEAF_LIST.find((l) => l.name === name);
    const cert = leaf
      ? (await loadCertificateFile(pkiFile(dataDir, `${leaf.baseName}.crt`)))?.certificate
      : await loadKubeconfig(dataDir, name).then((kc) => (kc ? embeddedClientCertificate(kc) : undefined)).catch(() => undefined);
    if (cert && !newIds.has(cert.authorityKeyId ?? '')) stale.push(name);
  }
  if (stale.length > 0) await renewCertificates({ certDir: path.join(dataDir, 'pki'), kubeconfigDir: dataDir, names: stale, includeKubeletConf: true, ...(clock ? { clock } : {}) });
}

/** complete/remove-old (this node's part): the rotation's extra trust files gone, kubeconfigs trust the new CA alone. */
async function removeOld({ dataDir, material: m }: FileStepInput): Promise<void> {
  for (const f of Object.values(TRUST)) await rm(pkiFile(dataDir, f), { force: true });
  await writeKubeconfigCAs(dataDir, m.newCA);
}

/** The steps that change a node's files, by step name; the others act on the cluster only. */
export const FILE_STEPS: Record<string, (input: FileStepInput) => Promise<void>> = {
  'trust-files': trustFiles,
  kubeconfigs: ({ dataDir, material: m }) => writeKubeconfigCAs(dataDir, bundle(m.oldCA, m.newCA, m.crossSignedCA)),
  'signing-ca': signingCA,
  reissue,
  'remove-old': removeOld,
};

/** Steps whose file work needs the new private keys. */
export const STEPS_NEEDING_KEYS = new Set(['trust-files', 'signing-ca']);
