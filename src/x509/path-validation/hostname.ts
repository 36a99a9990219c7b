// Host name checking as Go's Certificate.VerifyHostname does it (RFC 6125 with Go's leniencies): IPs only
// against IP SANs, names only against DNS SANs (never the Common Name), a wildcard only as the whole
// left-most label of a valid pattern, and Go's exact error texts.
import { ipEqual, ipString, parseGoIp } from './go-format.js';
import { SAN_TAG, type PathCert } from './path-cert.js';

const lowerAscii = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

function validHostname(host: string, isPattern: boolean): boolean {
  if (!isPattern && host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0) return false;
  return host.split('.').every((part, i) => {
    if (part === '') return false;
    if (isPattern && i === 0 && part === '*') return true;
    return [...part].every((c, j) => /[a-zA-Z0-9_]/.test(c) || (c === '-' && j !== 0));
  });
}

function matchExactly(a: string, b: string): boolean {
  if (a === '' || a === '.' || b === '' || b === '.') return false;
  return lowerAscii(a) === lowerAscii(b);
}

/** Go's matchHostnames: equal label counts, only a left-most "*" label matches any one label. */
export function matchHostnames(pattern: string, host: string): boolean {
  pattern = lowerAscii(pattern);
  host = lowerAscii(host.endsWith('.') ? host.slice(0, -1) : host);
  if (pattern.length === 0 || host.length === 0) return false;
  const p = pattern.split('.');
  const h = host.split('.');
  if (p.length !== h.length) return false;
  return p.every((part, i) => (i === 0 && part === '*') || part === h[i]);
}

const ipSans = (pc: PathCert) => pc.sanEntries.filter((e) => e.tag === SAN_TAG.ip && (e.data.length === 4 || e.data.length === 16)).map((e) => e.data);
const dnsSans = (pc: PathCert) => pc.sanEntries.filter((e) => e.tag === SAN_TAG.dns).map((e) => Buffer.from(e.data).toString('latin1'));

/** Go's HostnameError.Error(). */
function hostnameError(pc: PathCert, host: string): string {
  if (pc.sanValue === undefined && matchHostnames(pc.cert.subject.commonName ?? '', host)) {
    return 'x509: certificate relies on legacy Common Name field, use SANs instead';
  }
  let valid: string;
  if (parseGoIp(host) !== null) {
    const ips = ipSans(pc);
    if (ips.length === 0) return `x509: cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
    valid = ips.map(ipString).join(', ');
  } else {
    valid = dnsSans(pc).join(', ');
  }
  if (valid.length === 0) return `x509: certificate is not valid for any names, but wanted to match ${host}`;
  return `x509: certificate is valid for ${valid}, not ${host}`;
}

/** null when the certificate is valid for `host`, else Go's error text. */
export function verifyHostname(pc: PathCert, host: string): string | null {
  const candidateIp = host.length >= 3 && host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const ip = parseGoIp(candidateIp);
  if (ip !== null) {
    return ipSans(pc).some((san) => ipEqual(san, ip)) ? null : hostnameError(pc, candidateIp);
  }
  const candidate = lowerAscii(host);
  const validCandidate = validHostname(candidate, false);
  for (const pattern of dnsSans(pc)) {
    const ok = validCandidate && validHostname(pattern, true) ? matchHostnames(pattern, candidate) : matchExactly(pattern, candidate);
    if (ok) return null;
  }
  return hostnameError(pc, host);
}
