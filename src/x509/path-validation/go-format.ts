// Go's text forms that its x509 errors embed: %q quoting, net.IP.String(), time.RFC3339 in UTC.
import { canonicalIp, ipAddressBytes } from '../san.js';

/** strconv.Quote: double quotes, Go's escapes for what strconv.IsPrint refuses, printable runes kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteRune(ch);
  return out + '"';
}

/** strconv.Quote of raw bytes (a Go string need not be UTF-8): an octet that starts no valid UTF-8 sequence is \xNN. */
export function goQuoteBytes(bytes: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < bytes.length; ) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) {
      out += '\\x' + bytes[i]!.toString(16).padStart(2, '0');
      i++;
    } else {
      out += quoteRune(Buffer.from(bytes.subarray(i, i + n)).toString('utf8'));
      i += n;
    }
  }
  return out + '"';
}

const NAMED_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/** One rune as strconv.Quote writes it; IsPrint is categories L, M, N, P, S and the ASCII space. */
function quoteRune(ch: string): string {
  if (ch === '"' || ch === '\\') return '\\' + ch;
  if (ch === ' ' || !/[\p{C}\p{Z}]/u.test(ch)) return ch;
  const named = NAMED_ESCAPES[ch];
  if (named) return named;
  const c = ch.codePointAt(0)!;
  if (c < 0x20 || c === 0x7f) return '\\x' + c.toString(16).padStart(2, '0');
  return c < 0x10000 ? '\\u' + c.toString(16).padStart(4, '0') : '\\U' + c.toString(16).padStart(8, '0');
}

/** The length of the valid UTF-8 sequence at `i` (utf8.DecodeRune's rules: no overlong form, no surrogate), or 0. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const lead = b[i]!;
  if (lead < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const second = lead === 0xe0 ? cont(1, 0xa0) : lead === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return second && cont(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const second = lead === 0xf0 ? cont(1, 0x90) : lead === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return second && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
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
  return ipAddressBytes(text);
}

/** net.IP.Equal: 4-byte and IPv4-mapped 16-byte forms of the same address are equal. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  const norm = (x: Uint8Array) => (x.length === 16 && x.subarray(0, 10).every((v) => v === 0) && x[10] === 0xff && x[11] === 0xff ? x.subarray(12) : x);
  return Buffer.from(norm(a)).equals(Buffer.from(norm(b)));
}
