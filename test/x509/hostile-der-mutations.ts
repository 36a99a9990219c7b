// Seeded, deterministic mutations of DER and PEM for the reader's fuzz test (der-fuzz.test.ts): each mutation
// aims at one class of hostile input X.690 and RFC 5280 readers are known to trip on (lengths, nesting, OIDs,
// strings, INTEGERs, times, tags, truncation, trailing data), applied at an element the structure walk found,
// so that most mutants get past the outer SEQUENCE and reach the field they break.
import * as der from '../../src/x509/der.js';

/** One TLV found by a lenient walk: where its header starts, where its content starts and ends, its tag. */
export interface Located {
  start: number;
  contentStart: number;
  end: number;
  tag: number;
}

/** Every TLV of a (well-formed) DER, recursing into constructed elements and into OCTET/BIT STRINGs that hold DER. */
export function locateElements(buf: Uint8Array, start = 0, end = buf.length, out: Located[] = [], depth = 0): Located[] {
  if (depth > 40) return out; // deep enough for any certificate; mutants nest deeper
  let p = start;
  while (p < end) {
    const tag = buf[p]!;
    if ((tag & 0x1f) === 0x1f) return out;
    let q = p + 1;
    if (q >= end) return out;
    let len = buf[q++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || q + n > end) return out;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[q++]!;
    }
    if (q + len > end) return out;
    out.push({ start: p, contentStart: q, end: q + len, tag });
    if (tag & 0x20) locateElements(buf, q, q + len, out, depth + 1);
    else if (tag === 0x04 && len > 1) locateElements(buf, q, q + len, out, depth + 1);
    else if (tag === 0x03 && len > 2 && buf[q] === 0) locateElements(buf, q + 1, q + len, out, depth + 1);
    p = q + len;
  }
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** Replaces bytes [from, to) of `buf` with `insert`, re-encoding the length of every element that encloses them. */
export function splice(buf: Uint8Array, from: number, to: number, insert: Uint8Array): Uint8Array {
  return rebuild(buf, { start: 0, end: buf.length }, { from, to, insert });
}

function rebuild(buf: Uint8Array, region: { start: number; end: number }, edit: { from: number; to: number; insert: Uint8Array }): Uint8Array {
  for (const el of locateElements(buf, region.start, region.end).filter((x) => x.start >= region.start)) {
    if (!(el.contentStart <= edit.from && edit.to <= el.end)) continue;
    // Only the top-level elements of the region: the first that encloses the edit is rebuilt around it.
    const innerStart = el.tag === 0x03 && edit.from > el.contentStart ? el.contentStart + 1 : el.contentStart;
    const content = concat(buf.subarray(el.contentStart, innerStart), rebuild(buf, { start: innerStart, end: el.end }, edit));
    return concat(buf.subarray(region.start, el.start), der.tlv(el.tag, content), buf.subarray(el.end, region.end));
  }
  return concat(buf.subarray(region.start, edit.from), edit.insert, buf.subarray(edit.to, region.end));
}

/** DER length octets (minimal). */
function lengthOctets(n: number): Uint8Array {
  if (n < 0x80) return new Uint8Array([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const int = (rand: () => number, n: number): number => Math.floor(rand() * n);

/** Lengths as hostile encoders write them. */
function hostileLength(rand: () => number, actual: number): number[] {
  return pick(rand, [
    () => [0x80], // indefinite (BER)
    () => [0x81, actual & 0xff], // non-minimal long form (when actual < 128)
    () => [0x82, (actual >> 8) & 0xff, actual & 0xff], // long form with a leading zero
    () => [0x84, 0xff, 0xff, 0xff, 0xff], // 2^32 - 1
    () => [0x85, 0x01, 0x00, 0x00, 0x00, 0x00], // 2^32
    () => [0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // 2^63 - 1
    () => [0xff], // 127 length octets
    () => [Math.min(actual + 1 + int(rand, 8), 0x7f)], // past the end
    () => [Math.max(actual - 1, 0)], // one short
    () => [0x83, 0x00, 0x00, 0x00], // zero in long form
  ])();
}

/** UTCTime / GeneralizedTime texts a reader must refuse or read exactly (RFC 5280 §4.1.2.5). */
export const ODD_TIMES: Array<[number, string]> = [
  [0x17, '2501011200Z'], // no seconds (Go reads it)
  [0x17, '250101120000+0100'],
  [0x17, '250101120000+0000'],
  [0x17, '250101120000-2400'],
  [0x17, '250230120000Z'], // 30 February
  [0x17, '251301120000Z'],
  [0x17, '250101246000Z'],
  [0x17, '490101000000Z'], // 2049
  [0x17, '500101000000Z'], // 1950
  [0x17, '250101120000'], // no zone
  [0x17, '2501011200005Z'],
  [0x17, ' 50101120000Z'],
  [0x18, '20250101120000Z'],
  [0x18, '20250101120000.5Z'],
  [0x18, '20250101120000.50Z'], // trailing zero in the fraction
  [0x18, '20250101120000.Z'],
  [0x18, '20250101120000.123456789Z'],
  [0x18, '20250101120000.1234567891Z'],
  [0x18, '19491231235959Z'], // before 1950
  [0x18, '20500101000000Z'], // from 2050
  [0x18, '00500101000000Z'], // year 50
  [0x18, '00000101000000Z'], // year 0
  [0x18, '00990101000000Z'], // year 99
  [0x18, '99991231235959Z'],
  [0x18, '202501011200Z'], // no seconds
  [0x18, '20250101120000+0530'],
  [0x18, '20250229120000Z'], // not a leap year
  [0x18, '20240229120000Z'],
  [0x18, '2025010112000\u00e9Z'],
];

/** String contents no reader should take for text: bad UTF-8, odd and surrogate BMP, UniversalString. */
const BAD_STRINGS: Array<[number, number[]]> = [
  [0x0c, [0xc0, 0x80]], // overlong NUL
  [0x0c, [0xed, 0xa0, 0x80]], // a surrogate in UTF-8
  [0x0c, [0xf4, 0x90, 0x80, 0x80]], // past U+10FFFF
  [0x0c, [0xff, 0xfe]],
  [0x0c, [0x61, 0x00, 0x62]], // NUL inside
  [0x1e, [0x00, 0x61, 0x00]], // odd-length BMPString
  [0x1e, [0xd8, 0x00]], // lone high surrogate
  [0x1e, [0xdc, 0x00, 0xd8, 0x00]],
  [0x1e, [0x00, 0x00]], // only the terminator
  [0x1c, [0x00, 0x00, 0x00, 0x61]], // UniversalString
  [0x1c, [0x00, 0x11, 0x00, 0x00]],
  [0x13, [0x61, 0x40, 0x62]], // '@' in PrintableString
  [0x16, [0x80]], // non-ASCII IA5String
  [0x12, [0x31, 0x41]], // a letter in NumericString
  [0x14, [0xff, 0x00]], // T61String bytes
  [0x1a, [0x61]], // VisibleString
];

/** Interesting INTEGER contents: non-minimal, negative, empty, huge. */
const BAD_INTEGERS: number[][] = [[], [0x00, 0x01], [0xff, 0x80], [0x80], [0xff], [0x00], [0x00, 0x00, 0x80], new Array(40).fill(0x7f), [0x80, ...new Array(20).fill(0)]];

export type Mutation = (buf: Uint8Array, rand: () => number) => Uint8Array;

const elementOf = (buf: Uint8Array, rand: () => number, filter: (e: Located) => boolean = () => true): Located | undefined => {
  const all = locateElements(buf).filter(filter);
  return all.length ? pick(rand, all) : undefined;
};

export const MUTATIONS: Record<string, Mutation> = {
  bitFlips(buf, rand) {
    const out = new Uint8Array(buf);
    for (let i = 1 + int(rand, 4); i > 0; i--) {
      const at = int(rand, out.length);
      out[at]! ^= 1 << int(rand, 8);
    }
    return out;
  },
  interestingByte(buf, rand) {
    const out = new Uint8Array(buf);
    out[int(rand, out.length)] = pick(rand, [0x00, 0x01, 0x1f, 0x3f, 0x7f, 0x80, 0x81, 0x84, 0xa0, 0xbf, 0xff]);
    return out;
  },
  truncate(buf, rand) {
    return buf.subarray(0, int(rand, buf.length));
  },
  trailingData(buf, rand) {
    return concat(buf, pick(rand, [new Uint8Array([0]), new Uint8Array([0x05, 0x00]), buf.subarray(0, int(rand, 40))]));
  },
  hostileLengthField(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const len = new Uint8Array(hostileLength(rand, e.end - e.contentStart));
    return concat(buf.subarray(0, e.start + 1), len, buf.subarray(e.contentStart));
  },
  deepNesting(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const depth = pick(rand, [2, 50, 1000, 20000]);
    const inner = buf.subarray(e.start, e.end);
    const tag = pick(rand, [0x30, 0x31, 0xa0, 0xa3]);
    // Headers from the inside out, joined once (wrapping 20000 times with tlv() copies quadratically).
    const headers: Uint8Array[] = [];
    let length = inner.length;
    for (let i = 0; i < depth; i++) {
      const header = der.tlv(tag, new Uint8Array(0)).subarray(0, 1);
      const h = concat(header, lengthOctets(length));
      headers.push(h);
      length += h.length;
    }
    return splice(buf, e.start, e.end, concat(...headers.reverse(), inner));
  },
  indefiniteNesting(buf, rand) {
    // 0x30 0x80 repeated: a BER reader recursing on indefinite lengths runs out of stack.
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const depth = pick(rand, [10, 100000]);
    const bomb = new Uint8Array(depth * 2);
    for (let i = 0; i < bomb.length; i += 2) [bomb[i], bomb[i + 1]] = [0x30, 0x80];
    return concat(buf.subarray(0, e.start), bomb, buf.subarray(e.start));
  },
  hugeOid(buf, rand) {
    const e = elementOf(buf, rand, (x) => x.tag === 0x06);
    if (!e) return buf;
    const content = pick(rand, [
      () => new Uint8Array(Array.from({ length: 100000 }, (_, i) => (i % 3 === 2 ? 0x01 : 0x81))), // 33k arcs
      () => new Uint8Array([0x2a, 0x8f, 0xff, 0xff, 0xff, 0x7f]), // an arc of 2^32 - 1
      () => new Uint8Array([0x2a, 0x88, 0x80, 0x80, 0x80, 0x80, 0x00]), // 2^35
      () => new Uint8Array([0x2a, 0x80, 0x01]), // non-minimal arc
      () => new Uint8Array([0x2a, 0x86]), // unterminated arc
      () => new Uint8Array([]),
      () => new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7f]), // a first arc past 2^31
    ])();
    return splice(buf, e.contentStart, e.end, content);
  },
  badString(buf, rand) {
    const e = elementOf(buf, rand, (x) => [0x0c, 0x13, 0x16, 0x12, 0x14, 0x1e].includes(x.tag));
    if (!e) return buf;
    const [tag, content] = pick(rand, BAD_STRINGS);
    return splice(buf, e.start, e.end, der.tlv(tag, new Uint8Array(content)));
  },
  badInteger(buf, rand) {
    const e = elementOf(buf, rand, (x) => x.tag === 0x02);
    if (!e) return buf;
    const content = pick(rand, [() => new Uint8Array(pick(rand, BAD_INTEGERS)), () => concat(new Uint8Array([0]), buf.subarray(e.contentStart, e.end)), () => concat(new Uint8Array([0xff]), buf.subarray(e.contentStart, e.end))])();
    return splice(buf, e.contentStart, e.end, content);
  },
  oddTime(buf, rand) {
    const e = elementOf(buf, rand, (x) => x.tag === 0x17 || x.tag === 0x18);
    if (!e) return buf;
    const [tag, text] = pick(rand, ODD_TIMES);
    return splice(buf, e.start, e.end, der.tlv(tag, Buffer.from(text, 'latin1')));
  },
  retag(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const out = new Uint8Array(buf);
    out[e.start] = pick(rand, [0x00, 0x05, 0x1f, 0x3f, 0x9f, 0xbf, 0xff, 0x80 | int(rand, 31), 0xa0 | int(rand, 31), int(rand, 256)]);
    return out;
  },
  highTagNumber(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const tag = pick(rand, [[0x1f, 0x05], [0x9f, 0x80, 0x21], [0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], [0x1f], [0x1f, 0x81]]);
    return concat(buf.subarray(0, e.start), new Uint8Array(tag), buf.subarray(e.start + 1));
  },
  duplicateElement(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    const el = buf.subarray(e.start, e.end);
    return splice(buf, e.start, e.end, concat(el, el));
  },
  dropElement(buf, rand) {
    const e = elementOf(buf, rand);
    if (!e) return buf;
    return splice(buf, e.start, e.end, new Uint8Array(0));
  },
  badBoolean(buf, rand) {
    const e = elementOf(buf, rand, (x) => x.tag === 0x01 || x.tag === 0x03 || x.tag === 0x05);
    if (!e) return buf;
    const content = pick(rand, [[0x01], [0x00, 0x00], [], [0x08, 0xff], [0x07, 0x80], [0x01, 0x01]]);
    return splice(buf, e.contentStart, e.end, new Uint8Array(content));
  },
  unknownCriticalExtension(buf, rand) {
    // An extension whose value is itself hostile, marked critical, added to the first list of extensions.
    const list = locateElements(buf).find((x) => x.tag === 0x30 && buf[x.contentStart] === 0x30 && buf[x.contentStart + 2] === 0x06 && buf[x.contentStart + 4] === 0x55);
    if (!list) return buf;
    const ext = der.sequence(der.oid(pick(rand, ['1.2.3.4', '2.5.29.99', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.37'])), der.boolean(true), der.octetString(pick(rand, [new Uint8Array([0x30, 0x80]), new Uint8Array([0x30, 0x00]), new Uint8Array([])])));
    return splice(buf, list.end, list.end, ext);
  },
};

export const MUTATION_NAMES = Object.keys(MUTATIONS);

/** One to three mutations, chosen and applied by `rand`. */
export function mutate(buf: Uint8Array, rand: () => number): { bytes: Uint8Array; applied: string[] } {
  let bytes = buf;
  const applied: string[] = [];
  for (let n = 1 + (rand() < 0.7 ? 0 : int(rand, 3)); n > 0; n--) {
    const name = pick(rand, MUTATION_NAMES);
    applied.push(name);
    bytes = MUTATIONS[name]!(bytes, rand);
    if (bytes.length === 0) break;
  }
  return { bytes, applied };
}
