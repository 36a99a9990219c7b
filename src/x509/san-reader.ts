// The subjectAltName extension as Go's x509 reads it (parseSANExtension, for certificates and requests alike):
// IA5 text for e-mail, DNS and URI names, URIs that url.Parse accepts, 4- or 16-byte IPs; other name kinds are
// skipped. Path validation also needs every entry in its encoded order (name constraints are checked so).
import { emptySans, type SubjectAltNames } from './san.js';
import { DerError, DerReader, HIGH_TAG, isIA5, TAG, type DerElement } from './der-reader.js';

const NAME_TYPE = { email: 0x81, dns: 0x82, uri: 0x86, ip: 0x87 } as const;

const ascii = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** A GeneralName of a SAN as Go's forEachSAN sees it: context tag number and raw content, in encoded order. */
export interface SanEntry {
  tag: number;
  data: Uint8Array;
}

export const SAN_TAG = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

/** Go's parseSANExtension (cryptobyte: DER, low tag numbers only; what follows the SEQUENCE is not read). */
export function readSubjectAltNames(value: Uint8Array): SubjectAltNames {
  return readGeneralNames(value).sans;
}

/** The SAN extension's names sorted into SubjectAltNames, and every entry in encoded order (name constraints). */
export function readGeneralNames(value: Uint8Array): { sans: SubjectAltNames; entries: SanEntry[] } {
  const sans = emptySans();
  const entries: SanEntry[] = [];
  let names: DerReader;
  try {
    const r = new DerReader(value);
    names = DerReader.of(r.read(TAG.SEQUENCE, 'subject alternative names'));
  } catch {
    throw new DerError('x509: invalid subject alternative names');
  }
  while (!names.empty) {
    let gn: DerElement;
    try {
      gn = names.readAny();
    } catch {
      throw new DerError('x509: invalid subject alternative name');
    }
    if (gn.tag === HIGH_TAG) throw new DerError('x509: invalid subject alternative name');
    const data = gn.content;
    if ((gn.tag & 0xc0) === 0x80) entries.push({ tag: gn.tag & 0x1f, data });
    switch (gn.tag) {
      case NAME_TYPE.email:
        if (!isIA5(data)) throw new DerError('x509: SAN rfc822Name is malformed');
        sans.emailAddresses.push(ascii(data));
        break;
      case NAME_TYPE.dns:
        if (!isIA5(data)) throw new DerError('x509: SAN dNSName is malformed');
        sans.dnsNames.push(ascii(data));
        break;
      case NAME_TYPE.uri: {
        if (!isIA5(data)) throw new DerError('x509: SAN uniformResourceIdentifier is malformed');
        const uri = ascii(data);
        checkUri(uri);
        sans.uris.push(uri);
        break;
      }
      case NAME_TYPE.ip:
        if (data.length !== 4 && data.length !== 16) throw new DerError(`x509: cannot parse IP address of length ${data.length}`);
        sans.ipAddresses.push(ipText(data));
        break;
      default:
        break; // otherName, directoryName...: Go's parser skips them too, and they are never signed
    }
  }
  return { sans, entries };
}

/** net.IP's String(): dotted IPv4 (also for an IPv4-mapped IPv6 address), else RFC 5952 text. */
function ipText(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (mapped) return Array.from(b.subarray(12)).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // The longest run (of two or more) of zero groups becomes '::' (the first, when runs tie).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * The checks of Go's url.Parse that a SAN URI can fail (control characters, a missing scheme, bad
 * %-escapes, a bad port) and x509's check of the host's labels (domainToReverseLabels).
 */
function checkUri(uri: string): void {
  // url.Parse's errors read `parse "URI": why`; the domain check's is x509's own.
  const bad = (why: string): never => {
    const q = JSON.stringify(uri);
    throw new DerError(why === 'invalid domain' ? `x509: cannot parse URI ${q}: ${why}` : `x509: cannot parse URI ${q}: parse ${q}: ${why}`);
  };
  if (/[\x00-\x1f\x7f]/.test(uri)) bad('net/url: invalid control character in URL');
  if (uri.startsWith(':')) bad('missing protocol scheme');
  if (/%(?![0-9a-fA-F]{2})/.test(uri.split('#')[0]!)) bad('invalid URL escape');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri);
  const rest = scheme ? uri.slice(scheme[0].length) : uri;
  if (!scheme && /^[^/?#]*:/.test(rest.split('/')[0] ?? '')) bad('first path segment in URL cannot contain colon');
  if (!rest.startsWith('//')) return;
  const authority = rest.slice(2).split(/[/?#]/)[0]!;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) bad('missing \']\' in host');
    const port = host.slice(close + 1);
    if (port !== '' && !/^:\d*$/.test(port)) bad(`invalid port ${JSON.stringify(port)} after host`);
  } else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0 && !/^\d*$/.test(host.slice(colon + 1))) bad(`invalid port ${JSON.stringify(host.slice(colon))} after host`);
  }
  if (host.length > 0) {
    const labels = host.split('.');
    if (labels.some((l) => l.length === 0 || /[^\x21-\x7e]/.test(l))) bad('invalid domain');
  }
}

