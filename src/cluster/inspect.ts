// `certs inspect FILE`: recognise what a file holds (a certificate or bundle, a CSR, a private key, a kubeconfig)
// and describe it without ever revealing key material.
import { createHash, createPublicKey } from 'node:crypto';
import { KubepkiError } from '../util/errors.js';
import { decodePem } from '../x509/pem.js';
import { parseCertificateDer } from '../x509/certificate.js';
import { parseVerifiedCertificateRequest } from '../x509/csr.js';
import { keyAlgorithmOf, parsePrivateKeyPem, parsePublicKeyPem } from '../x509/keys.js';
import {
  describeCertificate,
  describeCertificateRequest,
  formatCertificateRequestText,
  formatCertificateText,
  type CertificateDescription,
  type CertificateRequestDescription,
} from '../x509/describe.js';
import { parseKubeconfigYaml } from './kubeconfig.js';

export type Inspection =
  | { kind: 'Certificate'; file: string; certificates: CertificateDescription[]; text: string }
  | { kind: 'CertificateSigningRequest'; file: string; request: CertificateRequestDescription; text: string }
  | { kind: 'PrivateKey' | 'PublicKey'; file: string; algorithm: string; publicKeySha256: string; text: string }
  | { kind: 'Kubeconfig'; file: string; currentContext: string; clusters: KubeconfigClusterInfo[]; users: KubeconfigUserInfo[]; text: string };

export interface KubeconfigClusterInfo {
  name: string;
  server: string;
  certificateAuthority: CertificateDescription[];
}
export interface KubeconfigUserInfo {
  name: string;
  clientCertificate: CertificateDescription[];
  clientKey?: string;
  /** Files the user references instead of embedding data. */
  clientCertificateFile?: string;
  token?: '(redacted)';
}

/** Describes the content of `text` (read from `file`). */
export async function inspectFile(text: string, file: string): Promise<Inspection> {
  if (text.includes('-----BEGIN ')) return inspectPem(text, file);
  if (/^\s*(apiVersion|kind|clusters|users|contexts|current-context)\s*:/m.test(text)) return inspectKubeconfig(text, file);
  throw new KubepkiError('FileInvalid', `${file}: not a PEM certificate, CSR or key, nor a kubeconfig`);
}

async function inspectPem(text: string, file: string): Promise<Inspection> {
  const blocks = decodePem(text, file);
  const certs = blocks.filter((b) => b.type === 'CERTIFICATE');
  if (certs.length > 0) {
    const parsed = certs.map((b, i) => parseCertificateDer(b.der, certs.length > 1 ? `${file} (certificate ${i + 1})` : file));
    return {
      kind: 'Certificate',
      file,
      certificates: parsed.map(describeCertificate),
      text: parsed.map((c, i) => (parsed.length > 1 ? `# ${i + 1} of ${parsed.length}\n` : '') + formatCertificateText(c)).join('\n'),
    };
  }
  const csr = blocks.find((b) => b.type === 'CERTIFICATE REQUEST' || b.type === 'NEW CERTIFICATE REQUEST');
  if (csr) {
    const request = await parseVerifiedCertificateRequest(csr.der, file);
    return { kind: 'CertificateSigningRequest', file, request: describeCertificateRequest(request), text: formatCertificateRequestText(request) };
  }
  if (blocks.some((b) => /PRIVATE KEY$/.test(b.type))) {
    const key = parsePrivateKeyPem(text, file);
    const pub = createPublicKey(key);
    const algorithm = keyAlgorithmOf(pub).name;
    const sha = spkiSha256(pub);
    return { kind: 'PrivateKey', file, algorithm, publicKeySha256: sha, text: `Private Key: ${algorithm}\n    Public key SHA256: ${sha}\n` };
  }
  if (blocks.some((b) => b.type === 'PUBLIC KEY' || b.type === 'RSA PUBLIC KEY')) {
    const pub = parsePublicKeyPem(text, file);
    const algorithm = keyAlgorithmOf(pub).name;
    const sha = spkiSha256(pub);
    return { kind: 'PublicKey', file, algorithm, publicKeySha256: sha, text: `Public Key: ${algorithm}\n    SHA256: ${sha}\n` };
  }
  throw new KubepkiError('FileInvalid', `${file}: no certificate, CSR or key in it (PEM blocks: ${blocks.map((b) => b.type).join(', ')})`);
}

function spkiSha256(pub: ReturnType<typeof createPublicKey>): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').toUpperCase().match(/../g)!.join(':');
}

async function inspectKubeconfig(text: string, file: string): Promise<Inspection> {
  const d = parseKubeconfigYaml(text, file);
  const invalid = (why: string) => new KubepkiError('FileInvalid', `${file}: not a valid kubeconfig: ${why}`);
  const list = (key: string): Record<string, unknown>[] => {
    const v = d[key] ?? [];
    if (!Array.isArray(v)) throw invalid(`${key} is not a list`);
    return v.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
  };
  const certsOf = (b64: unknown, what: string) => {
    if (typeof b64 !== 'string' || b64 === '') return [];
    const pem = Buffer.from(b64, 'base64').toString('utf8');
    return decodePem(pem, what)
      .filter((b) => b.type === 'CERTIFICATE')
      .map((b) => parseCertificateDer(b.der, what));
  };
  const clusters: KubeconfigClusterInfo[] = [];
  const clusterTexts: string[] = [];
  for (const c of list('clusters')) {
    const body = (c['cluster'] ?? {}) as Record<string, unknown>;
    const name = String(c['name'] ?? '');
    const server = String(body['server'] ?? '');
    const certs = certsOf(body['certificate-authority-data'], `${file} (cluster "${name}" certificate-authority-data)`);
    clusters.push({ name, server, certificateAuthority: certs.map(describeCertificate) });
    clusterTexts.push([`Cluster "${name}" (server ${server}):`, ...certs.map((cert) => indent(formatCertificateText(cert), '    '))].join('\n'));
  }
  const textParts: string[] = [`Kubeconfig: ${file}`, `    Current context: ${String(d['current-context'] ?? '')}`];
  const users: KubeconfigUserInfo[] = [];
  const userTexts: string[] = [];
  for (const u of list('users')) {
    const body = (u['user'] ?? {}) as Record<string, unknown>;
    const name = String(u['name'] ?? '');
    const certs = certsOf(body['client-certificate-data'], `${file} (user "${name}" client-certificate-data)`);
    const info: KubeconfigUserInfo = { name, clientCertificate: certs.map(describeCertificate) };
    if (typeof body['client-key-data'] === 'string' && body['client-key-data'] !== '') {
      const key = parsePrivateKeyPem(Buffer.from(body['client-key-data'], 'base64').toString('utf8'), `${file} (user "${name}" client-key-data)`);
      info.clientKey = keyAlgorithmOf(createPublicKey(key)).name;
    }
    if (typeof body['client-certificate'] === 'string') info.clientCertificateFile = body['client-certificate'];
    if (body['token'] !== undefined) info.token = '(redacted)';
    users.push(info);
    userTexts.push(
      [`User "${name}":`, ...(info.clientKey ? [`    client-key-data: ${info.clientKey} private key`] : []), ...(info.clientCertificateFile ? [`    client-certificate: ${info.clientCertificateFile}`] : []), ...(info.token ? ['    token: (redacted)'] : []), ...certs.map((c) => indent(formatCertificateText(c), '    '))].join('\n'),
    );
  }
  return { kind: 'Kubeconfig', file, currentContext: String(d['current-context'] ?? ''), clusters, users, text: [...textParts, ...clusterTexts, ...userTexts].join('\n') + '\n' };
}

function indent(text: string, prefix: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}
