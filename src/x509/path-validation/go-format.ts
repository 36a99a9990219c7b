// Go's text forms that its x509 errors embed: %q quoting, net.IP.String(), time.RFC3339 in UTC.
import { canonicalIp } from '../san.js';

/** strconv.Quote: double quotes, Go escapes for control characters, printable runes kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

/** net.IP.String() of 4 or 16 raw bytes (an IPv4-mapped IPv6 address prints dotted, as in Go). */
export function ipString(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
    return canonicalIp(groups.join(':')) ?? groups.join(':');
  }
  return '?' + Buffer.from(bytes).toString('hex');
}

/** time.Time.Format(time.RFC3339) of a UTC time: seconds precision, "Z". */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Go's net.ParseIP: IPv4 dotted (no leading zeros), IPv6 (no zone). Returns the 4- or 16-byte form, or null. */
export function parseGoIp(text: string): Uint8Array | null {
  if (text.includes('%')) return null;
  if (text !== text.trim()) return null;
  const canon = canonicalIp(text);
  if (canon === null) return null;
  if (!canon.includes(':')) return Uint8Array.from(canon.split('.').map(Number));
  const [head, tail] = canon.includes('::') ? canon.split('::') : [canon, undefined];
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

/** net.IP.Equal: 4-byte and IPv4-mapped 16-byte forms of the same address are equal. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  const norm = (x: Uint8Array) => (x.length === 16 && x.subarray(0, 10).every((v) => v === 0) && x[10] === 0xff && x[11] === 0xff ? x.subarray(12) : x);
  return Buffer.from(norm(a)).equals(Buffer.from(norm(b)));
}
