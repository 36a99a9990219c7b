// A minimal DER reader and writer (X.690) for the signer's hot path. The signer reads a PKCS#10 request and
// writes one fixed certificate shape, so it needs only TLV walking, OIDs, INTEGER, BIT STRING and times;
// doing that by hand costs microseconds where a general ASN.1 schema library costs milliseconds per
// certificate — the difference between a 5,000-node bootstrap storm taking seconds or minutes.
import { KubepkiError } from '../../util/errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded TLV: `der` is the whole element, `content` its value, both views into the input. */
export interface Tlv {
  tag: number;
  der: Uint8Array;
  content: Uint8Array;
}

function fail(what: string): never {
  throw new KubepkiError('InvalidCSR', `malformed DER: ${what}`);
}

/** Reads the element at `offset`; returns it and the offset just past it. */
export function readTlv(buf: Uint8Array, offset = 0): { tlv: Tlv; next: number } {
  if (offset + 2 > buf.length) fail('truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) fail('high tag numbers are not supported');
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) fail('unsupported length encoding');
    if (start + n > buf.length) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  const end = start + len;
  if (end > buf.length) fail('element runs past the end of its container');
  return { tlv: { tag, der: buf.subarray(offset, end), content: buf.subarray(start, end) }, next: end };
}

/** The elements inside a constructed element. */
export function children(tlv: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < tlv.content.length) {
    const { tlv: child, next } = readTlv(tlv.content, off);
    out.push(child);
    off = next;
  }
  return out;
}

/** Reads exactly one element spanning the whole buffer. */
export function readOne(buf: Uint8Array, expectedTag: number, what: string): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (tlv.tag !== expectedTag) fail(`${what}: unexpected tag 0x${tlv.tag.toString(16)}`);
  if (next !== buf.length) fail(`${what}: trailing data`);
  return tlv;
}

export function expectTag(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) fail(`${what}: expected tag 0x${tag.toString(16)}`);
  return tlv;
}

export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) fail('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

/** Decodes the string types X.509 names use. */
export function decodeString(tlv: Tlv): string {
  switch (tlv.tag) {
    case TAG.UTF8_STRING:
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
      return Buffer.from(tlv.content).toString('utf8');
    case TAG.T61_STRING:
      return Buffer.from(tlv.content).toString('latin1');
    case TAG.BMP_STRING: {
      const b = Buffer.from(tlv.content);
      if (b.length % 2) fail('odd BMPString');
      return Buffer.from(b).swap16().toString('utf16le');
    }
    case TAG.UNIVERSAL_STRING: {
      let s = '';
      for (let i = 0; i + 3 < tlv.content.length; i += 4) {
        s += String.fromCodePoint(((tlv.content[i]! << 24) | (tlv.content[i + 1]! << 16) | (tlv.content[i + 2]! << 8) | tlv.content[i + 3]!) >>> 0);
      }
      return s;
    }
    default:
      fail(`unsupported string type 0x${tlv.tag.toString(16)}`);
  }
}

// ---- writer ----

function lengthBytes(len: number): number[] {
  if (len < 0x80) return [len];
  const out: number[] = [];
  while (len > 0) {
    out.unshift(len & 0xff);
    len = Math.floor(len / 256);
  }
  return [0x80 | out.length, ...out];
}

/** An element from a tag and its content parts (concatenated). */
export function encode(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const head = lengthBytes(len);
  const out = new Uint8Array(1 + head.length + len);
  out[0] = tag;
  out.set(head, 1);
  let off = 1 + head.length;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export const sequence = (...parts: Uint8Array[]): Uint8Array => encode(TAG.SEQUENCE, ...parts);

const oidCache = new Map<string, Uint8Array>();
export function encodeOid(oid: string): Uint8Array {
  const cached = oidCache.get(oid);
  if (cached) return cached;
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [];
  const push = (n: number) => {
    const tmp = [n & 0x7f];
    n = Math.floor(n / 128);
    while (n > 0) {
      tmp.unshift(0x80 | (n & 0x7f));
      n = Math.floor(n / 128);
    }
    bytes.push(...tmp);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  const out = encode(TAG.OID, Uint8Array.from(bytes));
  oidCache.set(oid, out);
  return out;
}

/** A non-negative INTEGER from big-endian magnitude bytes (minimal, with a 0x00 pad when the top bit is set). */
export function encodeUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const m = magnitude.subarray(i);
  return m[0]! & 0x80 ? encode(TAG.INTEGER, Uint8Array.of(0), m) : encode(TAG.INTEGER, m);
}

export const encodeSmallInteger = (n: number): Uint8Array => encodeUnsignedInteger(Uint8Array.of(n));

export function encodeBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return encode(TAG.BIT_STRING, Uint8Array.of(unusedBits), bytes);
}

export const encodeOctetString = (bytes: Uint8Array): Uint8Array => encode(TAG.OCTET_STRING, bytes);
export const encodeBoolean = (v: boolean): Uint8Array => encode(TAG.BOOLEAN, Uint8Array.of(v ? 0xff : 0));
export const encodeIA5 = (s: string): Uint8Array => Buffer.from(s, 'ascii');

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, always Z. */
export function encodeTime(d: Date): Uint8Array {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = d.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  if (year >= 1950 && year < 2050) return encode(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, 'ascii'));
  return encode(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

/** Context-specific tag helpers: [n] constructed (EXPLICIT or IMPLICIT SEQUENCE) and [n] primitive. */
export const contextConstructed = (n: number, ...parts: Uint8Array[]): Uint8Array => encode(0xa0 | n, ...parts);
export const contextPrimitive = (n: number, content: Uint8Array): Uint8Array => encode(0x80 | n, content);
