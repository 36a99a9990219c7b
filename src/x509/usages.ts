// Key usage names as Kubernetes' certificates.k8s.io/v1 KeyUsage and cfssl's config spell them, mapped to
// X.509 key usage bits and extended key usage OIDs (RFC 5280 §4.2.1.3, §4.2.1.12).
import { KubepkiError } from '../util/errors.js';

export const KEY_USAGE_BITS = {
  'digital signature': 1,
  'content commitment': 2,
  'key encipherment': 4,
  'data encipherment': 8,
  'key agreement': 16,
  'cert sign': 32,
  'crl sign': 64,
  'encipher only': 128,
  'decipher only': 256,
} as const;

export const EXT_KEY_USAGE_OIDS = {
  any: '2.5.29.37.0',
  'server auth': '1.3.6.1.5.5.7.3.1',
  'client auth': '1.3.6.1.5.5.7.3.2',
  'code signing': '1.3.6.1.5.5.7.3.3',
  'email protection': '1.3.6.1.5.5.7.3.4',
  's/mime': '1.3.6.1.5.5.7.3.4',
  'ipsec end system': '1.3.6.1.5.5.7.3.5',
  'ipsec tunnel': '1.3.6.1.5.5.7.3.6',
  'ipsec user': '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
  'microsoft sgc': '1.3.6.1.4.1.311.10.3.3',
  'netscape sgc': '2.16.840.1.113730.4.1',
} as const;

/** Aliases accepted by Kubernetes and cfssl ("signing" is cfssl's and Kubernetes' name for digital signature). */
const ALIASES: Record<string, string> = { signing: 'digital signature' };

export type KeyUsageName = keyof typeof KEY_USAGE_BITS;
export type ExtKeyUsageName = keyof typeof EXT_KEY_USAGE_OIDS;

/** Every usage string certificates.k8s.io/v1 accepts. */
export const KUBERNETES_USAGES: readonly string[] = [
  'signing',
  ...Object.keys(KEY_USAGE_BITS),
  ...Object.keys(EXT_KEY_USAGE_OIDS),
];

export interface Usages {
  /** Bit mask of KEY_USAGE_BITS. */
  keyUsage: number;
  /** Extended key usage OIDs, de-duplicated, in the order given. */
  extKeyUsages: string[];
}

/** Splits usage names into key usage bits and EKU OIDs; throws naming the first unknown usage. */
export function parseUsages(names: readonly string[]): Usages {
  let keyUsage = 0;
  const ext: string[] = [];
  for (const raw of names) {
    const name = ALIASES[raw] ?? raw;
    if (name in KEY_USAGE_BITS) keyUsage |= KEY_USAGE_BITS[name as KeyUsageName];
    else if (name in EXT_KEY_USAGE_OIDS) {
      const oid = EXT_KEY_USAGE_OIDS[name as ExtKeyUsageName];
      if (!ext.includes(oid)) ext.push(oid);
    } else throw new KubepkiError('InvalidArgument', `unknown key usage "${raw}"`);
  }
  return { keyUsage, extKeyUsages: ext };
}

/** Names of the set key usage bits, in bit order. */
export function keyUsageNames(mask: number): KeyUsageName[] {
  return (Object.entries(KEY_USAGE_BITS) as [KeyUsageName, number][]).filter(([, bit]) => (mask & bit) !== 0).map(([n]) => n);
}

const OID_TO_EKU = new Map<string, ExtKeyUsageName>();
for (const [name, oid] of Object.entries(EXT_KEY_USAGE_OIDS) as [ExtKeyUsageName, string][]) {
  if (!OID_TO_EKU.has(oid)) OID_TO_EKU.set(oid, name);
}

/** Name of an EKU OID, or the OID itself when unknown. */
export function extKeyUsageName(oid: string): string {
  return OID_TO_EKU.get(oid) ?? oid;
}
