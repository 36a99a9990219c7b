// `certs renew <name>|all`: re-issue a certificate with the same subject, SANs and usages, a new key, a new
// serial and a new validity, signed by the CA on disk now (kubeadm's RenewUsingLocalCA). Kubeconfigs get their
// embedded client certificate and key replaced, everything else in them kept. The old files are kept next to
// the new ones as `<file>.<UTC time>.bak`. All requested renewals are written together or not at all.
import { systemClock, type Clock } from '../util/clock.js';
import { KubepkiError } from '../util/errors.js';
import { generateKeyPair, keyAlgorithmOf, keyMatchesPublicKey, privateKeyToPem, KEY_ALGORITHMS, type KeyAlgorithm } from '../x509/keys.js';
import type { Certificate, CertificateIssuer } from '../x509/certificate.js';
import { backdatedValidity, capAtIssuerExpiry, signCertificate, subject, subjectAltNames, usages, withinIssuerValidity } from '../x509/sign-options.js';
import { KUBECONFIG_LIST, LEAF_LIST, RENEWABLE_NAMES, caSpec, leafUsages, type CAName } from './certlist.js';
import { DEFAULTS } from './config.js';
import { CERTIFICATE_BACKDATE_MS } from './init.js';
import { embeddedClientCertificate } from './expiration.js';
import { replaceClientCredentials } from './kubeconfig.js';
import {
  CERT_MODE,
  KEY_MODE,
  KUBECONFIG_MODE,
  certPath,
  fileMode,
  freeBackupPath,
  keyPath,
  kubeconfigPath,
  loadCertificateFile,
  loadKubeconfig,
  loadPair,
  readOptional,
  writePkiFiles,
  type StagedFile,
} from './pki-dir.js';

export interface RenewOptions {
  certDir: string;
  kubeconfigDir: string;
  /** kubeadm's names (apiserver, etcd-peer, admin.conf, ...) or ['all']. */
  names: string[];
  /** Validity of the renewed certificates (default 1 year, capped at the CA's expiry). */
  certificateValidityMs?: number;
  /** Key algorithm of the new keys; default: the algorithm of the key being replaced. */
  encryptionAlgorithm?: KeyAlgorithm;
  clock?: Clock;
  /**
   * Also accept kubelet.conf (its embedded certificate). Only a CA rotation asks for it: the new CA leaves
   * an embedded kubelet.conf certificate unverifiable, and only a kubelet.conf that references
   * kubelet-client-current.pem is rotated by a kubelet (the manual CA rotation re-creates it likewise).
   */
  includeKubeletConf?: boolean;
}

export interface RenewResult {
  name: string;
  longName: string;
  status: 'renewed' | 'missing';
  /** Files replaced, and where their previous content was kept. */
  files: string[];
  backups: string[];
}

/** Expands and checks the requested names; unknown names and kubelet.conf are refused with the reason. */
export function renewTargets(names: string[], options: { includeKubeletConf?: boolean } = {}): { names: string[]; all: boolean } {
  if (names.length === 0) throw new KubepkiError('InvalidArgument', `name a certificate to renew: one of ${RENEWABLE_NAMES.join(', ')}, or all`);
  if (names.includes('all')) {
    if (names.length > 1) throw new KubepkiError('InvalidArgument', '"all" cannot be combined with other names');
    return { names: [...RENEWABLE_NAMES], all: true };
  }
  for (const n of names) {
    if (n === 'kubelet.conf' && options.includeKubeletConf) continue;
    if (n === 'kubelet.conf') {
      throw new KubepkiError('InvalidArgument', 'kubelet.conf is not renewed (as with kubeadm): the kubelet rotates its own client certificate through the certificates API');
    }
    if (!RENEWABLE_NAMES.includes(n)) throw new KubepkiError('InvalidArgument', `unknown certificate "${n}": use one of ${RENEWABLE_NAMES.join(', ')}, or all`);
  }
  return { names: [...new Set(names)], all: false };
}

type Plan =
  | { kind: 'leaf'; name: string; longName: string; caName: CAName; cert: Certificate; certFile: string; keyFile: string; oldCertText: string; oldKeyText: string | undefined }
  | { kind: 'kubeconfig'; name: string; longName: string; caName: CAName; cert: Certificate; file: string; oldText: string };

/**
 * Renews the named certificates.
 *
 * @example
 * await renewCertificates({ certDir: '/etc/kubernetes/pki', kubeconfigDir: '/etc/kubernetes', names: ['apiserver'] });
 */
export async function renewCertificates(options: RenewOptions): Promise<RenewResult[]> {
  const { certDir, kubeconfigDir } = options;
  const now = (options.clock ?? systemClock).now();
  const validity = options.certificateValidityMs ?? DEFAULTS.certificateValidityMs;
  const targets = renewTargets(options.names, { includeKubeletConf: options.includeKubeletConf ?? false });

  // Read what is to be renewed; a missing certificate is an error when named, skipped (as kubeadm) for "all".
  const plans: Plan[] = [];
  const results: RenewResult[] = [];
  for (const name of targets.names) {
    const leaf = LEAF_LIST.find((l) => l.name === name);
    if (leaf) {
      const certFile = certPath(certDir, leaf.baseName);
      const keyFile = keyPath(certDir, leaf.baseName);
      const [loaded, oldKeyText] = await Promise.all([loadCertificateFile(certFile), readOptional(keyFile)]);
      if (!loaded) {
        if (!targets.all) throw new KubepkiError('FileMissing', `cannot renew ${name}: ${certFile} does not exist (run init to create it)`);
        results.push({ name, longName: leaf.longName, status: 'missing', files: [], backups: [] });
        continue;
      }
      plans.push({ kind: 'leaf', name, longName: leaf.longName, caName: leaf.caName, cert: loaded.certificate, certFile, keyFile, oldCertText: loaded.text, oldKeyText });
      continue;
    }
    const kc = KUBECONFIG_LIST.find((k) => k.name === name)!;
    const loaded = await loadKubeconfig(kubeconfigDir, kc.name);
    if (!loaded) {
      if (!targets.all) throw new KubepkiError('FileMissing', `cannot renew ${name}: ${kubeconfigPath(kubeconfigDir, name)} does not exist (run init to create it)`);
      results.push({ name, longName: kc.longName, status: 'missing', files: [], backups: [] });
      continue;
    }
    plans.push({ kind: 'kubeconfig', name, longName: kc.longName, caName: 'ca', cert: embeddedClientCertificate(loaded), file: loaded.path, oldText: loaded.text });
  }

  // The CAs that sign them: certificate and key must both be here (no key = external CA = refuse).
  const issuers = new Map<CAName, CertificateIssuer>();
  for (const caName of new Set(plans.map((p) => p.caName))) {
    const spec = caSpec(caName);
    const pair = await loadPair(certDir, spec.baseName);
    const needing = plans.filter((p) => p.caName === caName).map((p) => p.name).join(', ');
    if (!pair.cert) throw new KubepkiError('FileMissing', `cannot renew ${needing}: the ${caName} certificate ${pair.certPath} does not exist`);
    if (!pair.key) {
      throw new KubepkiError('CAKeyMissing', `cannot renew ${needing}: the ${caName} key ${pair.keyPath} is absent (external CA); renew with the CA that holds the key`);
    }
    if (!keyMatchesPublicKey(pair.key.key, pair.cert.certificate.publicKey)) {
      throw new KubepkiError('KeyMismatch', `${pair.keyPath} does not match ${pair.certPath} (the private key belongs to another certificate)`);
    }
    if (now > pair.cert.certificate.notAfter) throw new KubepkiError('InvalidCertificate', `cannot renew ${needing}: the ${caName} certificate ${pair.certPath} expired on ${pair.cert.certificate.notAfter.toISOString()}`);
    issuers.set(caName, { certificate: pair.cert.certificate, privateKey: pair.key.key });
  }

  // New keys in parallel, then the certificates.
  const keys = await Promise.all(plans.map((p) => generateKeyPair(options.encryptionAlgorithm ?? algorithmOf(p.cert))));
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.(\d{3})Z$/, '.$1Z');
  const files: StagedFile[] = [];
  const taken = new Set<string>();
  const backup = async (file: string, data: string, mode?: number): Promise<string> => {
    const target = await freeBackupPath(file, stamp, taken);
    taken.add(target);
    files.push({ path: target, data, mode: mode ?? (await fileMode(file)) });
    return target;
  };

  for (const [i, plan] of plans.entries()) {
    const issuer = issuers.get(plan.caName)!;
    const keyPair = keys[i]!;
    const old = plan.cert;
    const fallback = leafUsages(plan.kind === 'kubeconfig' ? ['client auth'] : []);
    const certificate = await signCertificate({
      publicKey: keyPair.publicKey,
      issuer,
      options: [
        subject(old.subject),
        subjectAltNames(old.sans),
        backdatedValidity({ now, ttlMs: validity, backdateMs: CERTIFICATE_BACKDATE_MS }),
        capAtIssuerExpiry(),
        withinIssuerValidity(),
        usages({ keyUsage: old.keyUsage || fallback.keyUsage, extKeyUsages: old.extKeyUsages.length > 0 ? old.extKeyUsages : fallback.extKeyUsages }),
      ],
    });
    const keyPem = privateKeyToPem(keyPair.privateKey);
    if (plan.kind === 'leaf') {
      const backups = [await backup(plan.certFile, plan.oldCertText)];
      if (plan.oldKeyText !== undefined) backups.push(await backup(plan.keyFile, plan.oldKeyText, KEY_MODE));
      files.push({ path: plan.certFile, data: certificate.pem, mode: CERT_MODE }, { path: plan.keyFile, data: keyPem, mode: KEY_MODE });
      results.push({ name: plan.name, longName: plan.longName, status: 'renewed', files: [plan.certFile, plan.keyFile], backups });
    } else {
      const text = replaceClientCredentials(plan.oldText, plan.file, { certPem: certificate.pem, keyPem });
      const backups = [await backup(plan.file, plan.oldText, KUBECONFIG_MODE)];
      files.push({ path: plan.file, data: text, mode: KUBECONFIG_MODE });
      results.push({ name: plan.name, longName: plan.longName, status: 'renewed', files: [plan.file], backups });
    }
  }

  await writePkiFiles(files);
  return results.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The kubepki algorithm of an existing certificate's key (RSA of another size falls back to RSA-2048). */
function algorithmOf(cert: Certificate): KeyAlgorithm {
  const name = keyAlgorithmOf(cert.publicKey).name;
  return (KEY_ALGORITHMS as readonly string[]).includes(name) ? (name as KeyAlgorithm) : 'RSA-2048';
}
