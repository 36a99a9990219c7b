// Custom CA trust for nodes (AKS's custom-ca-trust, seed 001): the rules for the Secret
// kube-system/custom-ca-trust-secret and for the seed's blank-line-separated certificate file. The seed's
// troubleshooting section is all silent failures (bad base64, CRLF files, a certificate that is not a CA);
// here each of them is a problem naming the key, found when the Secret is written instead of on a node later.
// Pure: data in, data out; the API edge turns problems into field errors, the agent into a report.
import { createHash } from 'node:crypto';
import { decodePem, parseCertificateDer, type Certificate } from '../x509/index.js';
import { KubepkiError } from '../util/errors.js';

export { CUSTOM_CA_TRUST_NAMESPACE, CUSTOM_CA_TRUST_SECRET } from '../apis/custom-ca-trust.js';
/** AKS's limit: at most 10 certificates in all. */
export const MAX_CUSTOM_CA_CERTIFICATES = 10;

/** One reason a Secret value (or file) cannot be used; `key` is the data key, or '' for the whole Secret. */
export interface CustomCaProblem {
  key: string;
  detail: string;
}

export interface CustomCa {
  /** The data key it came from (or `file` for the seed file). */
  key: string;
  /** Position within that value (0-based). */
  index: number;
  certificate: Certificate;
}

export interface CustomCaSet {
  certificates: CustomCa[];
  problems: CustomCaProblem[];
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** The certificates of one PEM text: only CERTIFICATE blocks, each a CA, parsed by the one x509 reader, unexpired. */
function caCertificatesOfPem(text: string, key: string, now: Date, out: CustomCaSet): void {
  if (text.includes('\r')) {
    out.problems.push({ key, detail: 'contains CR characters (CRLF line endings); convert the certificate to LF line endings' });
    return;
  }
  if (!text.includes('-----BEGIN')) {
    const compact = text.replace(/\s+/g, '');
    const twice = compact !== '' && BASE64_RE.test(compact) && Buffer.from(compact, 'base64').toString('latin1').includes('-----BEGIN');
    out.problems.push({
      key,
      detail: twice ? 'is base64-encoded twice: the value must be base64 of the PEM text, encoded once' : 'is not base64 of a PEM certificate (no "-----BEGIN CERTIFICATE-----" after decoding)',
    });
    return;
  }
  let blocks;
  try {
    blocks = decodePem(text, key);
  } catch (err) {
    out.problems.push({ key, detail: `is not a valid PEM certificate: ${stripWhat((err as Error).message, key)}` });
    return;
  }
  blocks.forEach((b, index) => {
    const which = blocks.length > 1 ? `certificate ${index + 1}: ` : '';
    if (b.type !== 'CERTIFICATE') {
      out.problems.push({ key, detail: `${which}holds a "${b.type}" block; only CERTIFICATE blocks are allowed` });
      return;
    }
    let certificate: Certificate;
    try {
      certificate = parseCertificateDer(b.der, key);
    } catch (err) {
      out.problems.push({ key, detail: `${which}does not parse: ${stripWhat((err as Error).message, key)}` });
      return;
    }
    if (!certificate.isCA) {
      out.problems.push({ key, detail: `${which}${describe(certificate)} is not a CA certificate (basic constraints CA:TRUE required)` });
      return;
    }
    if (certificate.notAfter.getTime() <= now.getTime()) {
      out.problems.push({ key, detail: `${which}${describe(certificate)} expired at ${certificate.notAfter.toISOString()}` });
      return;
    }
    out.certificates.push({ key, index, certificate });
  });
}

const describe = (c: Certificate): string => `"${c.subject.commonName ?? c.serialNumber}"`;
const stripWhat = (message: string, what: string): string => (message.startsWith(`${what}: `) ? message.slice(what.length + 2) : message);

function checkCount(set: CustomCaSet, key: string): void {
  if (set.certificates.length > MAX_CUSTOM_CA_CERTIFICATES) {
    set.problems.push({ key, detail: `holds ${set.certificates.length} certificates; at most ${MAX_CUSTOM_CA_CERTIFICATES} are allowed in all` });
  }
}

/**
 * Reads the Secret's `data` (base64 values, as stored). Keys are read in sorted order so that every reader
 * sees the same list and the same bundle.
 */
export function customCasFromSecretData(data: Record<string, string> | undefined, now: Date): CustomCaSet {
  const set: CustomCaSet = { certificates: [], problems: [] };
  for (const key of Object.keys(data ?? {}).sort()) {
    const value = data![key]!.replace(/[\r\n]/g, ''); // stored as sent; base64 decoding skips line breaks (Go's too)
    if (!BASE64_RE.test(value) || value.length % 4 !== 0) {
      set.problems.push({ key, detail: 'is not valid base64' });
      continue;
    }
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length === 0) {
      set.problems.push({ key, detail: 'is empty' });
      continue;
    }
    caCertificatesOfPem(decoded.toString('utf8'), key, now, set);
  }
  checkCount(set, '');
  return set;
}

/**
 * The seed's file for `--custom-ca-trust-certificates` and `kubepki trust set`: PEM certificates separated
 * by blank lines, not base64-encoded, at most 10.
 */
export function customCasFromFile(text: string, now: Date, what = 'file'): CustomCaSet {
  const set: CustomCaSet = { certificates: [], problems: [] };
  caCertificatesOfPem(text, what, now, set);
  checkCount(set, what);
  return set;
}

/** Like customCasFromFile, but every problem is one thrown error (CLI edges). */
export function readCustomCaFile(text: string, now: Date, what: string): CustomCa[] {
  const set = customCasFromFile(text, now, what);
  if (set.problems.length > 0) throw new KubepkiError('InvalidCertificate', set.problems.map((p) => `${p.key}: ${p.detail}`).join('; '));
  return set.certificates;
}

/** The distinct certificates in order (the same CA under two keys is installed once). */
export function distinctCas(cas: readonly CustomCa[]): CustomCa[] {
  const seen = new Set<string>();
  return cas.filter((c) => {
    const fp = createHash('sha256').update(c.certificate.der).digest('hex');
    if (seen.has(fp)) return false;
    seen.add(fp);
    return true;
  });
}

/** The PEM bundle of a set, in order: what the agent writes to --custom-ca-trust-bundle and what it hashes. */
export function customCaBundlePem(cas: readonly CustomCa[]): string {
  return distinctCas(cas)
    .map((c) => c.certificate.pem)
    .join('');
}

/** SHA-256 (hex) of the bundle: the identity of a set that nodes report and `trust status` compares. */
export function customCaBundleSha256(cas: readonly CustomCa[]): string {
  return createHash('sha256').update(customCaBundlePem(cas)).digest('hex');
}

/** Secret data for a set read from a seed file: one key per certificate, `ca1.crt`, `ca2.crt`, ... */
export function secretDataOf(cas: readonly CustomCa[]): Record<string, string> {
  const data: Record<string, string> = {};
  distinctCas(cas).forEach((c, i) => (data[`ca${i + 1}.crt`] = Buffer.from(c.certificate.pem, 'utf8').toString('base64')));
  return data;
}
