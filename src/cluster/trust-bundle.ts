// The trust-anchor PEM of a ClusterTrustBundle (kube's ValidateClusterTrustBundle trustBundle rules): only
// CERTIFICATE blocks, no PEM headers, each parsing (the one x509 reader) as a CA certificate, no duplicates,
// at least one. Returns the first problem, or null; the API edge turns it into a field error.
import { createHash } from 'node:crypto';
import { decodePem, parseCertificateDer, type Certificate } from '../x509/index.js';

export function trustBundleProblem(pem: string): string | null {
  let blocks;
  try {
    blocks = decodePem(pem, 'trustBundle');
  } catch (err) {
    return (err as Error).message.replace(/^trustBundle: /, '');
  }
  const seen = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    const which = `entry ${i}`;
    if (b.type !== 'CERTIFICATE') return `${which} has bad block type: ${b.type}`;
    if (b.headers && Object.keys(b.headers).length > 0) return `${which} has PEM block headers`;
    let cert: Certificate;
    try {
      cert = parseCertificateDer(b.der, which);
    } catch (err) {
      return `${which} does not parse as X.509: ${(err as Error).message.replace(`${which}: `, '')}`;
    }
    if (!cert.isCA) return `${which} does not have the CA bit set`;
    const fp = createHash('sha256').update(b.der).digest('hex');
    if (seen.has(fp)) return `duplicate trust anchor (indices ${[...seen].indexOf(fp)} and ${i})`;
    seen.add(fp);
  }
  return null;
}

/** The certificates of a valid trust bundle, deduplicated, in order. */
export function trustBundleCertificates(pem: string): Certificate[] {
  const seen = new Set<string>();
  const out: Certificate[] = [];
  for (const b of decodePem(pem, 'trustBundle')) {
    if (b.type !== 'CERTIFICATE') continue;
    const fp = createHash('sha256').update(b.der).digest('hex');
    if (seen.has(fp)) continue;
    seen.add(fp);
    out.push(parseCertificateDer(b.der, 'trustBundle'));
  }
  return out;
}
