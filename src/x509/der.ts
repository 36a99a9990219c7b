// A minimal DER writer (ITU-T X.690) for what kubepki signs: certificate bodies, names and extensions.
// Issuing a certificate needs only these few constructions; keeping them here (instead of going through an
// ASN.1 schema library) makes issuance cheap and lets a process that only writes certificates start fast.

/** The DER length octets of `n`, written at `at` of `out` (or only counted when `out` is undefined). */
function writeLength(n: number, out?: Buffer, at = 0): number {
  if (n < 0x80) {
    if (out) out[at] = n;
    return 1;
  }
  let size = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) size++;
  if (out) {
    out[at] = 0x80 | size;
    for (let i = size, v = n; i > 0; i--, v = Math.floor(v / 256)) out[at + i] = v & 0xff;
  }
  return 1 + size;
}

/** Tag-length-value with the given tag byte: one buffer written once (a certificate is hundreds of these). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  let n = 0;
  for (const c of content) n += c.length;
  const head = 1 + writeLength(n);
  const out = Buffer.allocUnsafe(head + n);
  out[0] = tag;
  writeLength(n, out, 1);
  let at = head;
  for (const c of content) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export const sequence = (...items: Uint8Array[]) => tlv(0x30, ...items);
export const set = (...items: Uint8Array[]) => tlv(0x31, ...items);
export const octetString = (bytes: Uint8Array) => tlv(0x04, bytes);
export const nullValue = () => Buffer.from([0x05, 0x00]);
export const boolean = (v: boolean) => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
export const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printableString = (s: string) => tlv(0x13, Buffer.from(s, 'latin1'));
export const ia5String = (s: string) => tlv(0x16, Buffer.from(s, 'latin1'));
/** [n] EXPLICIT: a constructed context tag around a complete element. */
export const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);
/** [n] IMPLICIT primitive: the element's content under a context tag. */
export const implicitPrimitive = (n: number, content: Uint8Array) => tlv(0x80 | n, content);

/** BIT STRING with no unused bits (signatures, public keys). */
export const bitString = (bytes: Uint8Array) => tlv(0x03, Buffer.from([0]), bytes);

/** BIT STRING of named bits (bit 0 first), DER-minimal: trailing zero bits dropped (X.690 11.2.2). */
export function namedBitString(mask: number): Buffer {
  if (mask === 0) return Buffer.from([0x03, 0x01, 0x00]);
  const bitsUsed = Math.floor(Math.log2(mask)) + 1;
  const nBytes = Math.ceil(bitsUsed / 8);
  const bytes = Buffer.alloc(nBytes);
  for (let bit = 0; bit < bitsUsed; bit++) if (mask & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return tlv(0x03, Buffer.from([nBytes * 8 - bitsUsed]), bytes);
}

/** INTEGER from non-negative hex, minimal two's-complement encoding (a 00 is prepended when the top bit is set). */
export function integerFromHex(hex: string): Buffer {
  let h = hex.toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(h)) throw new RangeError(`not a hex integer: "${hex}"`);
  if (h.length % 2) h = `0${h}`;
  let bytes = Buffer.from(h, 'hex');
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && bytes[i + 1]! < 0x80) i++;
  bytes = bytes.subarray(i);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export const integer = (n: number) => integerFromHex(n.toString(16));

/**
 * Encoded OIDs by dotted form: a certificate names the same dozen OIDs every time and encoding one takes a
 * BigInt per arc. Bounded, so that OIDs from input (cfssl policies, requests) cannot grow it without end.
 */
const encodedOids = new Map<string, Buffer>();
const MAX_ENCODED_OIDS = 512;

export function oid(dotted: string): Buffer {
  const known = encodedOids.get(dotted);
  // A copy: callers own what they get (the cached bytes are never handed out).
  if (known) return Buffer.from(known);
  const encoded = encodeOid(dotted);
  if (encodedOids.size < MAX_ENCODED_OIDS) encodedOids.set(dotted, Buffer.from(encoded));
  return encoded;
}

function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (v: bigint) => {
    const groups: number[] = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  };
  push(parts[0]! * 40n + parts[1]!);
  for (const p of parts.slice(2)) push(p);
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; seconds precision, always Z. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const rest = `${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(`${p2(y % 100)}${rest}`, 'latin1'));
  return tlv(0x18, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'));
}
