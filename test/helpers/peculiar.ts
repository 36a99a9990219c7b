// @peculiar/x509 as an independent judge in tests (a devDependency: the product parses and builds X.509 with
// its own der-reader.ts and der.ts): the library set up with Node's WebCrypto, and conversions between its
// names and SAN lists and kubepki's.
import 'reflect-metadata'; // tsyringe, inside @peculiar/x509, needs the Reflect polyfill loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyObject } from 'node:crypto';
import type { DistinguishedName } from '../../src/x509/names.js';
import { signingAlgorithmFor, type SignatureHash } from '../../src/x509/keys.js';
import { canonicalIp, emptySans, type SubjectAltNames } from '../../src/x509/san.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };

const ORDER: [keyof DistinguishedName, string][] = [
  ['country', '2.5.4.6'],
  ['province', '2.5.4.8'],
  ['locality', '2.5.4.7'],
  ['streetAddress', '2.5.4.9'],
  ['postalCode', '2.5.4.17'],
  ['organization', '2.5.4.10'],
  ['organizationalUnit', '2.5.4.11'],
  ['commonName', '2.5.4.3'],
  ['serialNumber', '2.5.4.5'],
];
const SHORT: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', street: '2.5.4.9', postalCode: '2.5.4.17', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', serialNumber: '2.5.4.5' };
const FIELD_BY_OID = new Map(ORDER.map(([field, oid]) => [oid, field]));
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A @peculiar/x509 JSON name in Go's attribute order, each value with the string type Go would pick. */
export function toJsonName(dn: DistinguishedName): x509.JsonNameParams {
  const out: x509.JsonNameParams = [];
  for (const [field, oid] of ORDER) {
    const v = dn[field];
    for (const value of v === undefined ? [] : Array.isArray(v) ? v : [v]) {
      if (value === '') continue;
      out.push({ [oid]: [PRINTABLE.test(value) ? { printableString: value } : { utf8String: value }] });
    }
  }
  return out;
}

export function fromName(name: x509.Name): DistinguishedName {
  const dn: DistinguishedName = {};
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      const field = FIELD_BY_OID.get(SHORT[type] ?? type); // toJSON names known attributes by their short name
      if (!field) continue;
      for (const value of values) {
        if (field === 'commonName' || field === 'serialNumber') dn[field] = value;
        else (dn[field] ??= []).push(value);
      }
    }
  }
  return dn;
}

export function sansFromGeneralNames(names: Iterable<{ type: string; value: string }>): SubjectAltNames {
  const sans = emptySans();
  for (const n of names) {
    if (n.type === 'dns') sans.dnsNames.push(n.value);
    else if (n.type === 'ip') sans.ipAddresses.push(canonicalIp(n.value) ?? n.value);
    else if (n.type === 'email') sans.emailAddresses.push(n.value);
    else if (n.type === 'url') sans.uris.push(n.value);
  }
  return sans;
}

/** A WebCrypto private key for @peculiar/x509's generators. */
export function toSigningKey(privateKey: KeyObject, hash?: SignatureHash): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), signingAlgorithmFor(privateKey, hash), false, ['sign']);
}
