// A minimal strict DER walker for the extension values path validation reads and the shared certificate
// description does not carry: the certificate's version, each extension's criticality and raw value, the SAN
// list in its encoded order (name constraints are checked in that order) and NameConstraints subtrees.
// Definite lengths only, minimal length encoding, no trailing bytes: anything else is an error.
export interface Tlv {
  /** Full identifier octet (class, constructed bit and tag number < 31). */
  tag: number;
  content: Uint8Array;
  /** Offset just past this element in the buffer it was read from. */
  end: number;
}

export class DerError extends Error {}

export function readTlv(buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag numbers are not supported');
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('indefinite or oversized DER length');
    if (start + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    if (len < 0x80 || (n > 1 && buf[start] === 0)) throw new DerError('non-minimal DER length');
    start += n;
  }
  if (start + len > buf.length) throw new DerError('truncated DER content');
  return { tag, content: buf.subarray(start, start + len), end: start + len };
}

/** Every element of a constructed value's content, in order. */
export function children(content: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let off = 0;
  while (off < content.length) {
    const t = readTlv(content, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

/** The only element of `buf`, which must hold nothing else. */
export function single(buf: Uint8Array, expectedTag: number): Tlv {
  const t = readTlv(buf, 0);
  if (t.tag !== expectedTag) throw new DerError(`expected DER tag 0x${expectedTag.toString(16)}, got 0x${t.tag.toString(16)}`);
  if (t.end !== buf.length) throw new DerError('trailing bytes after DER element');
  return t;
}

export function decodeOid(content: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  if (parts.length === 0) throw new DerError('empty OID');
  const first = parts[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}

export interface RawExtension {
  oid: string;
  critical: boolean;
  value: Uint8Array;
}

/** Version (1, 2 or 3) and extensions of a DER certificate. */
export function readTbsFacts(certDer: Uint8Array): { version: number; extensions: RawExtension[] } {
  const cert = single(certDer, 0x30);
  const tbs = readTlv(cert.content, 0);
  const fields = children(tbs.content);
  let version = 1;
  let i = 0;
  if (fields[0]?.tag === 0xa0) {
    const v = single(fields[0].content, 0x02).content;
    version = (v[v.length - 1] ?? 0) + 1;
    i = 1;
  }
  // serial, signature, issuer, validity, subject, spki, then optional [1] [2] [3]
  const rest = fields.slice(i + 6);
  const extsField = rest.find((f) => f.tag === 0xa3);
  const extensions: RawExtension[] = [];
  if (extsField) {
    for (const ext of children(single(extsField.content, 0x30).content)) {
      const parts = children(ext.content);
      const oid = decodeOid(parts[0]!.content);
      const critical = parts.length === 3 && parts[1]!.tag === 0x01 && parts[1]!.content[0] !== 0;
      const value = parts[parts.length - 1]!;
      if (value.tag !== 0x04) throw new DerError(`extension ${oid}: value is not an OCTET STRING`);
      extensions.push({ oid, critical, value: value.content });
    }
  }
  return { version, extensions };
}
