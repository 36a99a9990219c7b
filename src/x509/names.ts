// Distinguished names. Attribute order follows Go's pkix.Name.ToRDNSequence (C, ST, L, street, postal code,
// O, OU, CN, serialNumber), which is what kubeadm and cfssl write, so subjects compare equal byte for byte.
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

/** Go's asn1 PrintableString alphabet (without '*' and '&', which Go encodes as UTF8String). */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

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
