// Distinguished names. Attribute order follows Go's pkix.Name.ToRDNSequence (C, ST, L, street, postal code,
// O, OU, CN, serialNumber), which is what kubeadm and cfssl write, so subjects compare equal byte for byte.
import type * as x509 from '@peculiar/x509';
import { oid, printableString, sequence, set, utf8String } from './der.js';

export interface DistinguishedName {
  commonName?: string;
  organization?: string[];
  organizationalUnit?: string[];
  country?: string[];
  province?: string[];
  locality?: string[];
  streetAddress?: string[];
  postalCode?: string[];
  serialNumber?: string;
}

const ORDER: [keyof DistinguishedName, string][] = [
  ['country', 'C'],
  ['province', 'ST'],
  ['locality', 'L'],
  ['streetAddress', 'street'],
  ['postalCode', 'postalCode'],
  ['organization', 'O'],
  ['organizationalUnit', 'OU'],
  ['commonName', 'CN'],
  ['serialNumber', 'serialNumber'],
];

const OID_BY_SHORT: Record<string, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  street: '2.5.4.9',
  postalCode: '2.5.4.17',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
};
const SHORT_BY_OID = Object.fromEntries(Object.entries(OID_BY_SHORT).map(([k, v]) => [v, k]));

/**
 * A @peculiar/x509 JSON name: one RDN per value. Each value carries its string type explicitly
 * (PrintableString when Go's asn1 would pick it, else UTF8String): plain strings would go through
 * @peculiar/x509's RFC 4514 unescaping, which mangles values with a backslash, quotes or a leading '#'.
 */
export function toJsonName(dn: DistinguishedName): x509.JsonNameParams {
  const out: x509.JsonNameParams = [];
  for (const [field, short] of ORDER) {
    const v = dn[field];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    for (const value of values) {
      if (value === '') continue;
      const typed = PRINTABLE.test(value) ? { printableString: value } : { utf8String: value };
      out.push({ [OID_BY_SHORT[short]!]: [typed] });
    }
  }
  return out;
}

/** Go's asn1 PrintableString alphabet (without '*' and '&', which Go encodes as UTF8String). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function fromName(name: x509.Name): DistinguishedName {
  const dn: DistinguishedName = {};
  const push = (key: 'organization' | 'organizationalUnit' | 'country' | 'province' | 'locality' | 'streetAddress' | 'postalCode', v: string) => {
    (dn[key] ??= []).push(v);
  };
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const short = SHORT_BY_OID[type] ?? type;
      for (const value of values) {
        switch (short) {
          case 'CN': dn.commonName = value; break;
          case 'serialNumber': dn.serialNumber = value; break;
          case 'O': push('organization', value); break;
          case 'OU': push('organizationalUnit', value); break;
          case 'C': push('country', value); break;
          case 'ST': push('province', value); break;
          case 'L': push('locality', value); break;
          case 'street': push('streetAddress', value); break;
          case 'postalCode': push('postalCode', value); break;
        }
      }
    }
  }
  return dn;
}

/** The attributes of a name in encoding order (empty values dropped), each with the string type Go would use. */
function attributes(dn: DistinguishedName): { field: keyof DistinguishedName; oid: string; value: string; printable: boolean }[] {
  const out: { field: keyof DistinguishedName; oid: string; value: string; printable: boolean }[] = [];
  for (const [field, short] of ORDER) {
    const v = dn[field];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    for (const value of values) if (value !== '') out.push({ field, oid: OID_BY_SHORT[short]!, value, printable: PRINTABLE.test(value) });
  }
  return out;
}

/** DER of the Name: one single-valued RDN per attribute (as Go encodes pkix.Name). */
export function encodeName(dn: DistinguishedName): Buffer {
  return sequence(...attributes(dn).map((a) => set(sequence(oid(a.oid), a.printable ? printableString(a.value) : utf8String(a.value)))));
}

/** The name as parsing its DER gives it back (empty values and empty lists gone), without parsing. */
export function normalizeName(dn: DistinguishedName): DistinguishedName {
  const out: DistinguishedName = {};
  for (const a of attributes(dn)) {
    if (a.field === 'commonName' || a.field === 'serialNumber') out[a.field] = a.value;
    else (out[a.field] ??= []).push(a.value);
  }
  return out;
}

/** "O=system:masters, CN=kubernetes-admin" — the order and separator kubeadm and openssl print. */
export function formatName(dn: DistinguishedName): string {
  const parts: string[] = [];
  for (const [field, short] of ORDER) {
    const v = dn[field];
    const values = v === undefined ? [] : Array.isArray(v) ? v : [v];
    for (const value of values) parts.push(`${short}=${value}`);
  }
  return parts.join(', ');
}
