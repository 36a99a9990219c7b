// The one DER reader (ITU-T X.690, distinguished encoding only) for everything kubepki reads from an untrusted
// party: PKCS#10 requests, and the few fields of issued certificates the controllers look at. It is as strict
// as Go's encoding/asn1 and cryptobyte, which is what kube-apiserver and kube-controller-manager parse with:
// minimal definite lengths (no indefinite length), minimal tags, exact tags (class, constructed bit and
// number), minimal base-128 OID arcs, minimal INTEGERs, BIT STRING padding bits, the string types' alphabets,
// and no trailing bytes. Walking TLVs by hand costs microseconds where an ASN.1 schema library costs a
// millisecond per object (bench:storm). Writing DER is der.ts's job.
import { KubepkiError } from '../util/errors.js';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** [n] constructed, context-specific (EXPLICIT tags, IMPLICIT SEQUENCE/SET). */
export const contextConstructed = (n: number): number => 0xa0 | n;
/** [n] primitive, context-specific (IMPLICIT primitive values, e.g. GeneralName's dNSName [2]). */
export const contextPrimitive = (n: number): number => 0x80 | n;

/** A DER that breaks X.690's distinguished rules or the expected structure; the message is Go's wording. */
export class DerError extends KubepkiError {
  constructor(message: string) {
    super('InvalidDER', message);
    this.name = 'DerError';
  }
}

const syntax = (msg: string): never => {
  throw new DerError(`asn1: syntax error: ${msg}`);
};
const structure = (msg: string): never => {
  throw new DerError(`asn1: structure error: ${msg}`);
};

/**
 * One element. `tag` is the identifier octet for low tag numbers (0–30, the only ones X.509 uses); an element
 * in the high-tag-number form gets HIGH_TAG, which matches no expected tag, so it can only be skipped.
 */
export interface DerElement {
  tag: number;
  /** The whole element (header and content), a view into the input. */
  der: Uint8Array;
  /** The content octets, a view into the input. */
  content: Uint8Array;
}

export const HIGH_TAG = -1;

const TAG_NAMES: Record<number, string> = {
  0x01: 'BOOLEAN',
  0x02: 'INTEGER',
  0x03: 'BIT STRING',
  0x04: 'OCTET STRING',
  0x05: 'NULL',
  0x06: 'OBJECT IDENTIFIER',
  0x0c: 'UTF8String',
  0x13: 'PrintableString',
  0x16: 'IA5String',
  0x17: 'UTCTime',
  0x18: 'GeneralizedTime',
  0x30: 'SEQUENCE',
  0x31: 'SET',
};

export function tagName(tag: number): string {
  if (tag === HIGH_TAG) return 'a high tag number';
  const known = TAG_NAMES[tag];
  if (known) return known;
  if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]${tag & 0x20 ? ' constructed' : ''}`;
  return `tag 0x${tag.toString(16).padStart(2, '0')}`;
}

/** Reads elements one after another from `buf[start, end)`. */
export class DerReader {
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** A reader over an element's content. */
  static of(element: DerElement): DerReader {
    return new DerReader(element.content);
  }

  get empty(): boolean {
    return this.pos >= this.end;
  }

  /** The identifier octet of the next element, undefined at the end. */
  peekTag(): number | undefined {
    return this.pos < this.end ? this.buf[this.pos] : undefined;
  }

  /** The next element, whatever its tag (encoding/asn1's parseTagAndLength rules). */
  readAny(): DerElement {
    const buf = this.buf;
    const start = this.pos;
    if (start >= this.end) syntax('sequence truncated');
    let p = start;
    let tag: number = buf[p++]!;
    if ((tag & 0x1f) === 0x1f) {
      // High-tag-number form: base-128, minimal, and only for numbers that do not fit the low form.
      const n = readBase128(buf, p, this.end);
      if (n.value < 0x1f) syntax('non-minimal tag');
      p = n.next;
      tag = HIGH_TAG;
    }
    if (p >= this.end) syntax('truncated tag or length');
    let length = buf[p++]!;
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0) syntax('indefinite length found (not DER)');
      if (count > 4) structure('length too large');
      length = 0;
      for (let i = 0; i < count; i++) {
        if (p >= this.end) syntax('truncated tag or length');
        length = length * 256 + buf[p++]!;
        if (length === 0) structure('superfluous leading zeros in length');
      }
      if (length < 0x80) structure('non-minimal length');
    }
    const contentEnd = p + length;
    if (contentEnd > this.end) syntax('data truncated');
    this.pos = contentEnd;
    return { tag, der: buf.subarray(start, contentEnd), content: buf.subarray(p, contentEnd) };
  }

  /** The next element, which must carry `tag` (class, constructed bit and number). */
  read(tag: number, what: string): DerElement {
    if (this.empty) syntax(`sequence truncated (${what})`);
    const el = this.readAny();
    if (el.tag !== tag) structure(`tags don't match (${what}: expected ${tagName(tag)}, found ${tagName(el.tag)})`);
    return el;
  }

  /** The next element if it carries `tag` (an OPTIONAL field), else undefined and nothing is consumed. */
  readOptional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.readAny() : undefined;
  }

  /** Every remaining element. */
  readAll(): DerElement[] {
    const out: DerElement[] = [];
    while (!this.empty) out.push(this.readAny());
    return out;
  }

  /** Every remaining element, each of which must carry `tag` (a SEQUENCE OF / SET OF). */
  readAllOf(tag: number, what: string): DerElement[] {
    const out: DerElement[] = [];
    while (!this.empty) out.push(this.read(tag, what));
    return out;
  }

  /** Nothing may follow. */
  finish(what: string): void {
    if (!this.empty) syntax(`trailing data after ${what}`);
  }
}

/** Exactly one element with `tag` spanning all of `buf` (encoding/asn1.Unmarshal with no rest allowed). */
export function readDer(buf: Uint8Array, tag: number, what: string): DerElement {
  const r = new DerReader(buf);
  const el = r.read(tag, what);
  r.finish(what);
  return el;
}

function readBase128(buf: Uint8Array, start: number, end: number): { value: number; next: number } {
  let value = 0;
  let p = start;
  for (let shifted = 0; p < end; shifted++) {
    // 5 × 7 bits is more than an int32 holds: the arc is either non-minimal or too large (as Go).
    if (shifted === 5) structure('base 128 integer too large');
    const b = buf[p++]!;
    if (shifted === 0 && b === 0x80) syntax('integer is not minimally encoded');
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (value > 0x7fffffff) structure('base 128 integer too large');
      return { value, next: p };
    }
  }
  return syntax('truncated base 128 integer');
}

/** An OBJECT IDENTIFIER's content as dotted text (encoding/asn1's parseObjectIdentifier). */
export function decodeOid(content: Uint8Array): string {
  if (content.length === 0) syntax('zero length OBJECT IDENTIFIER');
  let { value, next } = readBase128(content, 0, content.length);
  let text = value < 80 ? `${Math.floor(value / 40)}.${value % 40}` : `2.${value - 80}`;
  while (next < content.length) {
    ({ value, next } = readBase128(content, next, content.length));
    text += `.${value}`;
  }
  return text;
}

/** encoding/asn1's checkInteger: non-empty and minimally encoded (two's complement). */
export function checkInteger(content: Uint8Array): void {
  if (content.length === 0) structure('empty integer');
  if (content.length === 1) return;
  const [a, b] = [content[0]!, content[1]!];
  if ((a === 0 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) === 0x80)) structure('integer not minimally-encoded');
}

/** An INTEGER that must fit in `bits` (32 or 64) bits, as a JS number when safe, else a bigint. */
export function decodeInteger(content: Uint8Array, bits: 32 | 64 = 64): bigint {
  checkInteger(content);
  if (content.length > bits / 8) structure('integer too large');
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (content[0]! & 0x80) v -= 1n << BigInt(content.length * 8);
  return v;
}

/** A small INTEGER (version numbers, path lengths) as a number. */
export const decodeSmallInteger = (content: Uint8Array): number => Number(decodeInteger(content, 32));

/** encoding/asn1's parseBool: exactly 0x00 or 0xff. */
export function decodeBoolean(content: Uint8Array): boolean {
  if (content.length !== 1) syntax('invalid boolean');
  if (content[0] === 0x00) return false;
  if (content[0] === 0xff) return true;
  return syntax('invalid boolean');
}

export interface BitString {
  /** The octets, the last one's unused bits zero. */
  bytes: Uint8Array;
  bitLength: number;
}

/** encoding/asn1's parseBitString: a padding count 0–7 whose padding bits are zero. */
export function decodeBitString(content: Uint8Array): BitString {
  if (content.length === 0) syntax('zero length BIT STRING');
  const padding = content[0]!;
  if (padding > 7 || (content.length === 1 && padding > 0) || (content[content.length - 1]! & ((1 << padding) - 1)) !== 0) {
    syntax('invalid padding bits in BIT STRING');
  }
  return { bytes: content.subarray(1), bitLength: (content.length - 1) * 8 - padding };
}

/** BitString.RightAlign: the bits shifted so that the padding is at the front (a copy only when padded). */
export function rightAlign(bits: BitString): Uint8Array {
  const shift = 8 - (bits.bitLength % 8);
  if (shift === 8 || bits.bytes.length === 0) return bits.bytes;
  const out = new Uint8Array(bits.bytes.length);
  out[0] = bits.bytes[0]! >> shift;
  for (let i = 1; i < bits.bytes.length; i++) out[i] = ((bits.bytes[i - 1]! << (8 - shift)) | (bits.bytes[i]! >> shift)) & 0xff;
  return out;
}

/** Bit `i` of a BIT STRING (bit 0 is the first octet's high bit). */
export const bitAt = (bits: BitString, i: number): boolean => i < bits.bitLength && (bits.bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** utf8.Valid and the decoded text (a BOM is kept, as Go keeps it). */
export function decodeUtf8(content: Uint8Array): string {
  // ASCII (the usual CN and O) is valid UTF-8 as it is: no decoder needed.
  if (content.length <= 64 && isIA5(content)) return latin1(content);
  try {
    return utf8.decode(content);
  } catch {
    return syntax('invalid UTF-8 string');
  }
}

/** encoding/asn1's isPrintable, with the '*' and '&' that Go accepts when parsing. */
function isPrintable(b: number): boolean {
  return (
    (b >= 0x61 && b <= 0x7a) || // a-z
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x27 && b <= 0x29) || // ' ( )
    (b >= 0x2b && b <= 0x2f) || // + , - . /
    b === 0x20 ||
    b === 0x3a ||
    b === 0x3d ||
    b === 0x3f ||
    b === 0x2a ||
    b === 0x26
  );
}

/** Octets as Latin-1 text (ASCII for the restricted string types); short values without a Buffer view. */
function latin1(content: Uint8Array): string {
  if (content.length > 64) return Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('latin1');
  let s = '';
  for (let i = 0; i < content.length; i++) s += String.fromCharCode(content[i]!);
  return s;
}

/** True when every octet is ASCII (Go's isIA5String). */
export function isIA5(content: Uint8Array): boolean {
  for (const b of content) if (b >= 0x80) return false;
  return true;
}

/**
 * The value of an attribute as encoding/asn1 unmarshals it into an `any` (AttributeTypeAndValue.Value):
 * strings of the known types (validated), or undefined for every other type (which pkix.Name then skips).
 * INTEGER, BIT STRING, OID and the time types are validated too, as Go parses them, though never strings.
 */
export function decodeAttributeValue(el: DerElement): string | undefined {
  const c = el.content;
  switch (el.tag) {
    case TAG.PRINTABLE_STRING:
      for (const b of c) if (!isPrintable(b)) syntax('PrintableString contains invalid character');
      return latin1(c);
    case TAG.IA5_STRING:
      if (!isIA5(c)) syntax('IA5String contains invalid character');
      return latin1(c);
    case TAG.NUMERIC_STRING:
      for (const b of c) if (!((b >= 0x30 && b <= 0x39) || b === 0x20)) syntax('NumericString contains invalid character');
      return latin1(c);
    case TAG.UTF8_STRING:
      return decodeUtf8(c);
    case TAG.T61_STRING:
      return latin1(c);
    case TAG.BMP_STRING: {
      if (c.length % 2 !== 0) syntax('odd-length BMP string');
      let n = c.length;
      if (n >= 2 && c[n - 1] === 0 && c[n - 2] === 0) n -= 2; // a terminator, which Go strips
      const units: number[] = [];
      for (let i = 0; i < n; i += 2) units.push((c[i]! << 8) | c[i + 1]!);
      return wellFormed(units);
    }
    case TAG.INTEGER:
      decodeInteger(c);
      return undefined;
    case TAG.BIT_STRING:
      decodeBitString(c);
      return undefined;
    case TAG.OID:
      decodeOid(c);
      return undefined;
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME:
      decodeTime(el);
      return undefined;
    default:
      return undefined;
  }
}

/** UTF-16 code units to text, an unpaired surrogate becoming U+FFFD (Go's utf16.Decode). */
function wellFormed(units: number[]): string {
  let s = '';
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!;
    const next = units[i + 1];
    if (u >= 0xd800 && u < 0xdc00 && next !== undefined && next >= 0xdc00 && next < 0xe000) {
      s += String.fromCharCode(u, next);
      i++;
    } else s += u >= 0xd800 && u < 0xe000 ? '\ufffd' : String.fromCharCode(u);
  }
  return s;
}

/**
 * UTCTime (YYMMDDhhmm[ss] then Z or ±hhmm) or GeneralizedTime (YYYYMMDDhhmmss[.fff] then Z or ±hhmm), as Go
 * parses them: the text must be exactly what Go would print back for the time it denotes (no +0000 for Z, no
 * trailing zeros in the fraction, no 30 February; an offset of up to 24 hours, as time.Parse takes). A
 * certificate's validity is read by cryptobyte, whose GeneralizedTime has no fraction (`cryptobyte: true`);
 * encoding/asn1 (attribute values) allows one.
 */
export function decodeTime(el: DerElement, rules: { cryptobyte?: boolean } = {}): Date {
  const s = latin1(el.content);
  const utc = el.tag === TAG.UTC_TIME;
  if (!utc && el.tag !== TAG.GENERALIZED_TIME) structure(`tags don't match (expected a time, found ${tagName(el.tag)})`);
  const m = utc
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/.exec(s)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?(Z|[+-]\d{4})$/.exec(s);
  const bad = (): never => {
    throw new DerError(`asn1: time did not serialize back to the original value and may be invalid: given ${JSON.stringify(s)}`);
  };
  if (!m) return bad();
  if (!utc && m[7] !== undefined && rules.cryptobyte) bad();
  let year = Number(m[1]);
  if (utc) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  const [month, day, hour, minute] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = utc ? undefined : m[7];
  const zone = utc ? m[7]! : m[8]!;
  if (fraction !== undefined && fraction.endsWith('0')) bad();
  if (zone !== 'Z' && (zone === '+0000' || zone === '-0000')) bad();
  const offsetMin = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 24 || Number(zone.slice(3, 5)) > 59)) bad();
  // Not Date.UTC(year, ...): it reads years 0-99 as 1900-1999, and GeneralizedTime can say 0050.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const ms = d.getTime();
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) bad();
  const fractionMs = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
  return new Date(ms - offsetMin * 60_000 + fractionMs);
}
