// kube's certificateIdentifier (k8s.io/apiserver pkg/authentication/request/x509): how kube-apiserver names a
// client certificate in "verifying certificate … failed: …" log lines.
import type { Certificate } from './certificate.js';

const colonHex = (hex: string) => (hex.toUpperCase().match(/../g) ?? []).join(':');

export function certificateIdentifier(c: Certificate): string {
  const parts = [`SN=${BigInt(`0x${c.serialNumber || '0'}`).toString(10)}`];
  if (c.subjectKeyId) parts.push(`SKID=${colonHex(c.subjectKeyId)}`);
  if (c.authorityKeyId) parts.push(`AKID=${colonHex(c.authorityKeyId)}`);
  return parts.join(', ');
}
