// A minimal DER reader (X.690) for the controllers' hot paths: the signer and approver read every PKCS#10
// request, the cleaner every issued certificate's notAfter. Walking TLVs by hand costs microseconds where a
// general ASN.1 schema library costs a millisecond per object — the difference, in a 5,000-node bootstrap
// storm, between seconds and minutes. (Writing DER is src/x509/der.ts's job.)
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
