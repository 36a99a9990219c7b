// Subject alternative names: cfssl's and kubeadm's rule for sorting a "hosts" list into IPs, emails, URIs
// and DNS names, and canonical IP text (so 0:0:0:0:0:0:0:1 and ::1 are the same SAN).
import net from 'node:net';
import { KubepkiError } from '../util/errors.js';

export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
}

export const emptySans = (): SubjectAltNames => ({ dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [] });

/** Canonical text of an IP (IPv4 dotted, IPv6 compressed lower case), or null if it is not an IP. */
export function canonicalIp(value: string): string | null {
  const v = value.trim();
  const kind = net.isIP(v);
  if (kind === 4) return v.split('.').map((o) => String(Number(o))).join('.');
  if (kind === 6) {
    const text = new net.SocketAddress({ address: v, family: 'ipv6' }).address;
    // An IPv4-mapped address is the IPv4 address: Go's x509 encodes it in 4 bytes (net.IP.To4).
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
    if (dotted) return dotted[1]!;
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(text);
    if (mapped) {
      const hi = parseInt(mapped[1]!, 16);
      const lo = parseInt(mapped[2]!, 16);
      return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
    }
    return text;
  }
  return null;
}

/** Sorts hosts the way cfssl's signer does: IP, then email (has @), then URI (has scheme), else DNS. */
export function parseHosts(hosts: readonly string[]): SubjectAltNames {
  const sans = emptySans();
  for (const raw of hosts) {
    const h = raw.trim();
    if (h === '') continue;
    const ip = canonicalIp(h);
    if (ip) pushUnique(sans.ipAddresses, ip);
    else if (h.includes('@')) pushUnique(sans.emailAddresses, h);
    else if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(h)) pushUnique(sans.uris, h);
    else pushUnique(sans.dnsNames, h);
  }
  return sans;
}

/** Validates a DNS SAN (RFC 1123 labels, optional leading wildcard). */
export function isValidDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  return labels.every((l, i) => (i === 0 && l === '*') || /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/i.test(l));
}

/** Splits a comma list of DNS names and IPs (kubeadm's --apiserver-cert-extra-sans), validating each. */
export function parseSanList(list: string, flag: string): SubjectAltNames {
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (canonicalIp(item) === null && !isValidDnsName(item)) {
      throw new KubepkiError('InvalidArgument', `${flag}: "${item}" is neither a valid IP address nor a valid DNS name`);
    }
  }
  return parseHosts(items);
}

export function mergeSans(...sets: SubjectAltNames[]): SubjectAltNames {
  const out = emptySans();
  for (const s of sets) {
    s.dnsNames.forEach((v) => pushUnique(out.dnsNames, v));
    s.ipAddresses.forEach((v) => pushUnique(out.ipAddresses, canonicalIp(v) ?? v));
    s.emailAddresses.forEach((v) => pushUnique(out.emailAddresses, v));
    s.uris.forEach((v) => pushUnique(out.uris, v));
  }
  return out;
}

function pushUnique(list: string[], v: string): void {
  if (!list.includes(v)) list.push(v);
}
