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

/**
 * The bytes of an IP as Go's x509 writes them in a certificate (4 for IPv4 and IPv4-mapped, else 16; Go's
 * net.ParseIP then To4), or null if it is not an IP. An embedded dotted quad (::1.2.3.4) is the last 4 bytes.
 */
export function ipAddressBytes(value: string): Uint8Array | null {
  const ip = canonicalIp(value);
  if (ip === null) return null;
  if (!ip.includes(':')) return Uint8Array.from(ip.split('.').map(Number));
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const hex = quad ? `${ip.slice(0, quad.index)}${((+quad[1]! << 8) | +quad[2]!).toString(16)}:${((+quad[3]! << 8) | +quad[4]!).toString(16)}` : ip;
  const [head, tail] = hex.includes('::') ? hex.split('::') : [hex, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
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
