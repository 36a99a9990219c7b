// `kubepki init`: builds the kubeadm cluster PKI (three CAs, seven leaves, the service-account key pair) and the
// five kubeconfigs, keeping whatever valid files already exist, as kubeadm's certs and kubeconfig phases do.
//
// It runs in three stages so that nothing is written unless everything is right:
//  1. read and check every existing file (a truncated, mismatched or wrongly signed file is an error naming it);
//  2. generate every missing key at once (Node's async keygen runs on the libuv pool, so they are made in
//     parallel, off the event loop) and sign every missing certificate;
//  3. write all new files in one all-or-nothing batch. A second run finds everything valid and writes nothing.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { generateKeyPair, keyMatchesPublicKey, parsePrivateKeyPem, privateKeyToPem, publicKeyToPem, type KeyAlgorithm, type KeyPair } from '../x509/keys.js';
import { isSignedBy, parseCertificatesPem, type Certificate, type CertificateIssuer } from '../x509/certificate.js';
import { backdatedValidity, basicConstraints, capAtIssuerExpiry, signCertificate, subject as subjectOption, subjectAltNames, usages, withinIssuerValidity } from '../x509/sign-options.js';
import { formatName } from '../x509/names.js';
import { canonicalIp, type SubjectAltNames } from '../x509/san.js';
import { EXT_KEY_USAGE_OIDS } from '../x509/usages.js';
import {
  CA_LIST,
  KUBECONFIG_LIST,
  LEAF_LIST,
  SERVICE_ACCOUNT_KEY_BASE_NAME,
  caSans,
  caUsages,
  clientSubject,
  leafUsages,
  type CAName,
  type CASpec,
  type KubeconfigSpec,
  type LeafSpec,
} from './certlist.js';
import type { ClusterConfig } from './config.js';
import { buildKubeconfig } from './kubeconfig.js';
import {
  CERT_MODE,
  KEY_MODE,
  KUBECONFIG_MODE,
  PUBLIC_KEY_MODE,
  kubeconfigPath,
  loadKubeconfig,
  loadPair,
  loadServiceAccountKeys,
  writePkiFiles,
  type LoadedKubeconfig,
  type LoadedPair,
  type StagedFile,
} from './pki-dir.js';

/** kubeadm backdates NotBefore by five minutes so small clock skew between nodes does not reject fresh certificates. */
export const CERTIFICATE_BACKDATE_MS = 5 * 60_000;

export interface InitOptions {
  certDir: string;
  kubeconfigDir: string;
  config: ClusterConfig;
  clock?: Clock;
}

export type InitAction = 'generated' | 'kept' | 'external';

export interface InitEntry {
  /** kubeadm's name: ca, apiserver, etcd-server, sa, admin.conf... */
  name: string;
  kind: 'ca' | 'leaf' | 'service-account' | 'kubeconfig';
  action: InitAction;
  /** The files of this entry (written or kept). */
  files: string[];
  /** For generated certificates: subject and SANs, for the operator to read. */
  subject?: string;
  sans?: SubjectAltNames;
  /** For certificates: the path under the certificate directory without extension (etcd/server). */
  baseName?: string;
}

export interface InitSummary {
  entries: InitEntry[];
  /** Paths written by this run (empty when everything already existed). */
  written: string[];
  /** Paths found valid and kept. */
  kept: string[];
  /** Things worth saying that do not stop init (an expiring certificate, a kubeconfig pointing elsewhere). */
  warnings: string[];
}

/** The state of one CA after stage 1. */
type CAState =
  | { spec: CASpec; kind: 'existing'; pair: LoadedPair; certificate: Certificate; privateKey: KeyObject }
  | { spec: CASpec; kind: 'external'; pair: LoadedPair; certificate: Certificate }
  | { spec: CASpec; kind: 'new'; pair: LoadedPair };

/**
 * Creates the cluster PKI and kubeconfigs under `certDir` and `kubeconfigDir`, keeping valid existing files.
 *
 * @example
 * const summary = await initClusterPki({ certDir: '/var/lib/kubepki/pki', kubeconfigDir: '/var/lib/kubepki',
 *   config: resolveClusterConfig({ nodeName: 'node-1', advertiseAddress: '10.0.0.5' }) });
 */
export async function initClusterPki(options: InitOptions): Promise<InitSummary> {
  const { certDir, kubeconfigDir, config } = options;
  const now = (options.clock ?? systemClock).now();
  const warnings: string[] = [];

  // Stage 1: read everything there is.
  const [caPairs, leafPairs, sa, kubeconfigs] = await Promise.all([
    Promise.all(CA_LIST.map((ca) => loadPair(certDir, ca.baseName))),
    Promise.all(LEAF_LIST.map((leaf) => loadPair(certDir, leaf.baseName))),
    loadServiceAccountKeys(certDir, SERVICE_ACCOUNT_KEY_BASE_NAME),
    Promise.all(KUBECONFIG_LIST.map((k) => loadKubeconfig(kubeconfigDir, k.name))),
  ]);

  const cas = new Map<CAName, CAState>();
  CA_LIST.forEach((spec, i) => cas.set(spec.name, checkCA(spec, caPairs[i]!, now, warnings)));

  const leafNeeds: LeafSpec[] = [];
  LEAF_LIST.forEach((spec, i) => {
    if (checkLeaf(spec, leafPairs[i]!, cas.get(spec.caName)!, config, now, warnings) === 'new') leafNeeds.push(spec);
  });

  const saNeed = checkServiceAccount(sa);

  const kubeconfigNeeds: KubeconfigSpec[] = [];
  KUBECONFIG_LIST.forEach((spec, i) => {
    if (checkKubeconfig(spec, kubeconfigs[i], cas.get('ca')!, config, kubeconfigDir, now, warnings) === 'new') kubeconfigNeeds.push(spec);
  });

  // Stage 2: every missing key at once, then the CAs, then everything they sign.
  const newCAs = [...cas.values()].filter((c) => c.kind === 'new');
  const keys = await generateKeys(config.encryptionAlgorithm, newCAs.length + leafNeeds.length + kubeconfigNeeds.length + (saNeed === 'new' ? 1 : 0));
  const nextKey = () => keys.pop()!;

  const files: StagedFile[] = [];
  const entries: InitEntry[] = [];

  const issuers = new Map<CAName, CertificateIssuer>();
  await Promise.all(
    [...cas.values()].map(async (state) => {
      if (state.kind === 'existing') {
        issuers.set(state.spec.name, { certificate: state.certificate, privateKey: state.privateKey });
        return;
      }
      if (state.kind === 'external') return;
      const keyPair = nextKey();
      const certificate = await signCertificate({
        publicKey: keyPair.publicKey,
        issuer: { selfSigned: keyPair },
        options: [
          subjectOption({ commonName: state.spec.commonName }),
          subjectAltNames(caSans(state.spec)),
          backdatedValidity({ now, ttlMs: config.caCertificateValidityMs, backdateMs: CERTIFICATE_BACKDATE_MS }),
          basicConstraints({ isCA: true }),
          usages(caUsages()),
        ],
      });
      issuers.set(state.spec.name, { certificate, privateKey: keyPair.privateKey });
      files.push({ path: state.pair.certPath, data: certificate.pem, mode: CERT_MODE }, { path: state.pair.keyPath, data: privateKeyToPem(keyPair.privateKey), mode: KEY_MODE });
    }),
  );
  for (const state of cas.values()) {
    entries.push({
      name: state.spec.name,
      kind: 'ca',
      action: state.kind === 'new' ? 'generated' : state.kind === 'existing' ? 'kept' : 'external',
      files: state.kind === 'external' ? [state.pair.certPath] : [state.pair.certPath, state.pair.keyPath],
      baseName: state.spec.baseName,
    });
  }

  // A leaf cannot usefully outlive its CA: it is capped at the CA's expiry (kubeadm only warns and issues an
  // unusable tail).
  const leafValidity = [backdatedValidity({ now, ttlMs: config.certificateValidityMs, backdateMs: CERTIFICATE_BACKDATE_MS }), capAtIssuerExpiry(), withinIssuerValidity()];

  const issued = await Promise.all([
    ...leafNeeds.map(async (spec) => {
      const issuer = issuers.get(spec.caName)!;
      const keyPair = nextKey();
      const sans = spec.sans(config);
      const subject = spec.subject(config);
      const certificate = await signCertificate({
        publicKey: keyPair.publicKey,
        issuer,
        options: [subjectOption(subject), subjectAltNames(sans), ...leafValidity, usages(leafUsages(spec.extKeyUsages))],
      });
      const pair = leafPairs[LEAF_LIST.indexOf(spec)]!;
      files.push({ path: pair.certPath, data: certificate.pem, mode: CERT_MODE }, { path: pair.keyPath, data: privateKeyToPem(keyPair.privateKey), mode: KEY_MODE });
      return { name: spec.name, subject: formatName(subject), sans };
    }),
    ...kubeconfigNeeds.map(async (spec) => {
      const issuer = issuers.get('ca')!;
      const keyPair = nextKey();
      const subject = clientSubject(spec, config);
      const certificate = await signCertificate({
        publicKey: keyPair.publicKey,
        issuer,
        options: [subjectOption(subject), ...leafValidity, usages(leafUsages(['client auth']))],
      });
      const text = buildKubeconfig({
        clusterName: config.clusterName,
        server: spec.server(config),
        caPem: issuer.certificate.pem,
        userName: spec.clientName(config),
        clientCertPem: certificate.pem,
        clientKeyPem: privateKeyToPem(keyPair.privateKey),
      });
      files.push({ path: kubeconfigPathOf(kubeconfigDir, spec, kubeconfigs), data: text, mode: KUBECONFIG_MODE });
      return { name: spec.name, subject: formatName(subject), sans: undefined };
    }),
  ]);
  const issuedByName = new Map(issued.map((i) => [i.name, i]));

  for (const [i, spec] of LEAF_LIST.entries()) {
    const pair = leafPairs[i]!;
    const info = issuedByName.get(spec.name);
    entries.push({ name: spec.name, kind: 'leaf', action: info ? 'generated' : 'kept', files: [pair.certPath, pair.keyPath], baseName: spec.baseName, ...(info ? { subject: info.subject, sans: info.sans } : {}) });
  }

  // The service-account key pair: no certificate, only the key (kube-controller-manager signs tokens) and its public half.
  if (saNeed === 'new') {
    const keyPair = nextKey();
    files.push({ path: sa.keyPath, data: privateKeyToPem(keyPair.privateKey), mode: KEY_MODE }, { path: sa.pubPath, data: publicKeyToPem(keyPair.publicKey), mode: PUBLIC_KEY_MODE });
  } else if (saNeed === 'public-half') {
    files.push({ path: sa.pubPath, data: publicKeyToPem(createPublicKey(sa.key!.key)), mode: PUBLIC_KEY_MODE });
  }
  entries.push({ name: 'sa', kind: 'service-account', action: saNeed === 'kept' ? 'kept' : 'generated', files: [sa.keyPath, sa.pubPath] });

  for (const spec of KUBECONFIG_LIST) {
    const info = issuedByName.get(spec.name);
    entries.push({ name: spec.name, kind: 'kubeconfig', action: info ? 'generated' : 'kept', files: [kubeconfigPathOf(kubeconfigDir, spec, kubeconfigs)], ...(info ? { subject: info.subject } : {}) });
  }

  // Stage 3: all or nothing.
  await writePkiFiles(files);
  const written = files.map((f) => f.path);
  const writtenSet = new Set(written);
  const kept = entries.flatMap((e) => e.files).filter((f) => !writtenSet.has(f));
  return { entries, written, kept, warnings };
}

function kubeconfigPathOf(dir: string, spec: KubeconfigSpec, loaded: (LoadedKubeconfig | undefined)[]): string {
  return loaded[KUBECONFIG_LIST.indexOf(spec)]?.path ?? kubeconfigPath(dir, spec.name);
}

async function generateKeys(algorithm: KeyAlgorithm, count: number): Promise<KeyPair[]> {
  return Promise.all(Array.from({ length: count }, () => generateKeyPair(algorithm)));
}

function fileError(message: string): KubepkiError {
  return new KubepkiError('FileInvalid', message);
}

function checkPeriod(what: string, cert: Certificate, now: Date, warnings: string[]): void {
  if (now > cert.notAfter) warnings.push(`${what} expired on ${cert.notAfter.toISOString()}`);
  else if (now < cert.notBefore) warnings.push(`${what} is not valid before ${cert.notBefore.toISOString()}`);
}

function checkCA(spec: CASpec, pair: LoadedPair, now: Date, warnings: string[]): CAState {
  if (!pair.cert && pair.key) {
    throw fileError(`${pair.keyPath} exists but ${pair.certPath} does not: restore the CA certificate, or remove the key to generate a new CA`);
  }
  if (!pair.cert) return { spec, kind: 'new', pair };
  const certificate = pair.cert.certificate;
  if (!certificate.isCA) throw fileError(`${pair.certPath} is not a CA certificate (basic constraints CA:FALSE), so it cannot be the ${spec.name}`);
  checkPeriod(pair.certPath, certificate, now, warnings);
  if (!pair.key) return { spec, kind: 'external', pair, certificate };
  if (!keyMatchesPublicKey(pair.key.key, certificate.publicKey)) {
    throw new KubepkiError('KeyMismatch', `${pair.keyPath} does not match ${pair.certPath} (the private key belongs to another certificate)`);
  }
  return { spec, kind: 'existing', pair, certificate, privateKey: pair.key.key };
}

function checkLeaf(spec: LeafSpec, pair: LoadedPair, ca: CAState, config: ClusterConfig, now: Date, warnings: string[]): 'new' | 'kept' {
  if (!pair.cert && !pair.key) {
    if (ca.kind === 'external') {
      throw new KubepkiError('CAKeyMissing', `${pair.certPath} is missing and cannot be created: the ${ca.spec.name} key ${ca.pair.keyPath} is absent (external CA mode); provide ${pair.certPath} and ${pair.keyPath} signed by ${ca.pair.certPath}`);
    }
    return 'new';
  }
  if (!pair.cert) throw fileError(`${pair.keyPath} exists but ${pair.certPath} does not: remove the key to regenerate both, or restore the certificate`);
  if (!pair.key) throw fileError(`${pair.certPath} exists but ${pair.keyPath} does not: remove the certificate to regenerate both, or restore the key`);
  const cert = pair.cert.certificate;
  if (!keyMatchesPublicKey(pair.key.key, cert.publicKey)) {
    throw new KubepkiError('KeyMismatch', `${pair.keyPath} does not match ${pair.certPath} (the private key belongs to another certificate)`);
  }
  if (ca.kind === 'new') {
    throw fileError(`${pair.certPath} exists but its CA ${ca.pair.certPath} does not: it cannot be signed by a new CA; restore the CA or remove ${pair.certPath} and ${pair.keyPath}`);
  }
  if (!isSignedBy(cert, ca.certificate)) {
    throw new KubepkiError('SignatureInvalid', `${pair.certPath} is not signed by ${ca.pair.certPath} (the ${ca.spec.name}); remove it and its key to regenerate, or restore the matching CA`);
  }
  const missing = missingSans(cert, spec.sans(config));
  if (missing.length > 0) {
    throw fileError(`${pair.certPath} is not valid for this configuration: it lacks SAN ${missing.join(', ')}; remove it and its key to regenerate`);
  }
  for (const eku of spec.extKeyUsages) {
    const oid = EXT_KEY_USAGE_OIDS[eku];
    if (!cert.extKeyUsages.includes(oid)) throw fileError(`${pair.certPath} is not valid for ${spec.name}: it lacks the ${eku} extended key usage`);
  }
  checkPeriod(pair.certPath, cert, now, warnings);
  return 'kept';
}

/** SANs the configuration needs that the certificate does not cover (kubeadm's validateCertificateWithConfig). */
function missingSans(cert: Certificate, wanted: SubjectAltNames): string[] {
  const missing: string[] = [];
  for (const dns of wanted.dnsNames) if (!cert.sans.dnsNames.some((have) => dnsMatches(have, dns))) missing.push(`DNS:${dns}`);
  const haveIps = new Set(cert.sans.ipAddresses.map((ip) => canonicalIp(ip) ?? ip));
  for (const ip of wanted.ipAddresses) if (!haveIps.has(canonicalIp(ip) ?? ip)) missing.push(`IP:${ip}`);
  return missing;
}

function dnsMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  if (p === n) return true;
  if (p.startsWith('*.')) {
    const dot = n.indexOf('.');
    return dot > 0 && n.slice(dot) === p.slice(1);
  }
  return false;
}

function checkServiceAccount(sa: Awaited<ReturnType<typeof loadServiceAccountKeys>>): 'new' | 'kept' | 'public-half' {
  if (!sa.key && !sa.pub) return 'new';
  if (!sa.key) throw fileError(`${sa.pubPath} exists but ${sa.keyPath} does not: tokens cannot be signed without the private key; restore it or remove ${sa.pubPath}`);
  if (!sa.pub) return 'public-half';
  if (!keyMatchesPublicKey(sa.key.key, sa.pub.key)) {
    throw new KubepkiError('KeyMismatch', `${sa.pubPath} does not match ${sa.keyPath} (the public key belongs to another key pair)`);
  }
  return 'kept';
}

function checkKubeconfig(
  spec: KubeconfigSpec,
  loaded: LoadedKubeconfig | undefined,
  ca: CAState,
  config: ClusterConfig,
  kubeconfigDir: string,
  now: Date,
  warnings: string[],
): 'new' | 'kept' {
  if (!loaded) {
    if (ca.kind === 'external') {
      throw new KubepkiError('CAKeyMissing', `${kubeconfigPath(kubeconfigDir, spec.name)} is missing and cannot be created: the CA key ${ca.pair.keyPath} is absent (external CA mode); provide ${spec.name} with a client certificate signed by ${ca.pair.certPath}`);
    }
    return 'new';
  }
  const { path: file, parsed } = loaded;
  if (parsed.caPem === undefined) throw fileError(`${file} has no embedded certificate-authority-data`);
  if (ca.kind === 'new') throw fileError(`${file} exists but the CA ${ca.pair.certPath} does not: its CA cannot match a new CA; restore the CA or remove ${file}`);
  const embeddedCa = parseCertificatesPem(parsed.caPem, `${file} (certificate-authority-data)`)[0]!;
  if (Buffer.compare(Buffer.from(embeddedCa.der), Buffer.from(ca.certificate.der)) !== 0) {
    throw fileError(`a kubeconfig file ${file} exists already but has got the wrong CA cert (not ${ca.pair.certPath})`);
  }
  if (parsed.clientCertPem === undefined || parsed.clientKeyPem === undefined) {
    throw fileError(`${file} has no embedded client-certificate-data and client-key-data for user "${parsed.userName}"`);
  }
  const clientCert = parseCertificatesPem(parsed.clientCertPem, `${file} (client-certificate-data)`)[0]!;
  const clientKey = parsePrivateKeyPem(parsed.clientKeyPem, `${file} (client-key-data)`);
  if (!keyMatchesPublicKey(clientKey, clientCert.publicKey)) {
    throw new KubepkiError('KeyMismatch', `${file}: client-key-data does not match client-certificate-data`);
  }
  if (!isSignedBy(clientCert, ca.certificate)) {
    throw new KubepkiError('SignatureInvalid', `${file}: the client certificate is not signed by ${ca.pair.certPath}; remove ${file} to regenerate it`);
  }
  const expected = spec.server(config);
  if (parsed.server !== expected) warnings.push(`${file} has server ${parsed.server}, expected ${expected} (kept as it is)`);
  checkPeriod(`${file} (client certificate)`, clientCert, now, warnings);
  return 'kept';
}

