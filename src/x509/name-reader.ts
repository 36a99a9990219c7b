// A certificate's issuer and subject as Go's x509 parser reads them (parseName, parseASN1String and
// pkix.Name.FillFromRDNSequence): an RDNSequence of SETs of AttributeTypeAndValue whose values must be strings
// of a known type, valid for that type. (A request's subject goes through encoding/asn1 instead, which skips
// values that are not strings: certificate-request.ts.)
import type { DistinguishedName } from './names.js';
import { decodeAttributeValue, decodeOid, DerError, DerReader, HIGH_TAG, readDer, TAG, type DerElement } from './der-reader.js';

/** One attribute of a name, in encoded order. */
export interface NameAttribute {
  /** Dotted OID. */
  type: string;
  value: string;
}

/** Go's parseASN1String messages per string type (the checks are der-reader's, shared with requests). */
const STRING_ERRORS: Record<number, string> = {
  [TAG.PRINTABLE_STRING]: 'invalid PrintableString',
  [TAG.UTF8_STRING]: 'invalid UTF-8 string',
  [TAG.IA5_STRING]: 'invalid IA5String',
  [TAG.NUMERIC_STRING]: 'invalid NumericString',
  [TAG.T61_STRING]: 'invalid T61String',
  [TAG.BMP_STRING]: 'invalid BMPString',
};

function stringValue(el: DerElement): string {
  const message = STRING_ERRORS[el.tag];
  if (!message) return invalid(`: invalid attribute value: unsupported string type: ${el.tag}`);
  return orInvalid(`: invalid attribute value: ${message}`, () => decodeAttributeValue(el)!);
}

const invalid = (why: string): never => {
  throw new DerError(`x509: invalid RDNSequence${why}`);
};

/** `read()`, or Go's RDNSequence error with `why` when it throws. */
function orInvalid<T>(why: string, read: () => T): T {
  try {
    return read();
  } catch {
    return invalid(why);
  }
}

/** Every attribute of a DER Name (the whole SEQUENCE element), in order; Go's parseName. */
export function readNameAttributes(raw: Uint8Array): NameAttribute[] {
  const rdns = orInvalid('', () => DerReader.of(readDer(raw, TAG.SEQUENCE, 'name')));
  const out: NameAttribute[] = [];
  while (!rdns.empty) {
    const set = orInvalid('', () => DerReader.of(rdns.read(TAG.SET, 'RDN')));
    while (!set.empty) {
      const atv = orInvalid(': invalid attribute', () => DerReader.of(set.read(TAG.SEQUENCE, 'attribute')));
      const type = orInvalid(': invalid attribute type', () => decodeOid(atv.read(TAG.OID, 'attribute type').content));
      const el = orInvalid(': invalid attribute value', () => atv.readAny());
      if (el.tag === HIGH_TAG) return invalid(': invalid attribute value'); // cryptobyte reads low tag numbers only
      out.push({ type, value: stringValue(el) });
    }
  }
  return out;
}

const FIELDS: Record<string, keyof DistinguishedName> = {
  '2.5.4.3': 'commonName',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'country',
  '2.5.4.7': 'locality',
  '2.5.4.8': 'province',
  '2.5.4.9': 'streetAddress',
  '2.5.4.10': 'organization',
  '2.5.4.11': 'organizationalUnit',
  '2.5.4.17': 'postalCode',
};

/** pkix.Name.FillFromRDNSequence: CN and serialNumber take the last value, the others collect in order. */
export function nameFromAttributes(attributes: readonly NameAttribute[]): DistinguishedName {
  const dn: DistinguishedName = {};
  for (const { type, value } of attributes) {
    const field = FIELDS[type];
    if (!field) continue;
    if (field === 'commonName' || field === 'serialNumber') dn[field] = value;
    else (dn[field] ??= []).push(value);
  }
  return dn;
}
