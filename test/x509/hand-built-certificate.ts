// Certificates assembled by hand (the DER writer plus Node's sign), so that a test can put one malformed piece
// anywhere in the signed part and still give the certificate a valid signature: only a strict parser refuses
// them. The parser's unit tests and its Go-oracle test build their cases with this.
import { generateKeyPairSync, sign } from 'node:crypto';
import * as der from '../../src/x509/der.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
export const SPKI = publicKey.export({ type: 'spki', format: 'der' });
const ECDSA_SHA256 = der.sequence(der.oid('1.2.840.10045.4.3.2'));
export const NAME = der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.printableString('parser-test'))));

/** One Extension: OID, critical only when true (DER omits a FALSE default), the value in an OCTET STRING. */
export const ext = (id: string, value: Uint8Array, critical = false): Buffer =>
  critical ? der.sequence(der.oid(id), der.boolean(true), der.octetString(value)) : der.sequence(der.oid(id), der.octetString(value));
export const BASIC_CA = ext('2.5.29.19', der.sequence(der.boolean(true)), true);
export const KU_CERT_SIGN = ext('2.5.29.15', der.namedBitString(0b100101), true);

export interface Parts {
  version?: Buffer | null;
  serial?: Buffer;
  innerAlg?: Buffer;
  outerAlg?: Buffer;
  issuer?: Buffer;
  validity?: Buffer;
  subject?: Buffer;
  spki?: Buffer;
  extensions?: Buffer[] | null;
  /** Appended to the TBSCertificate's content. */
  tbsTail?: Buffer;
  /** Appended after the certificate. */
  trailing?: Buffer;
}

/** A self-signed certificate from parts (each default valid: a v3 CA with basic constraints and key usage). */
export function build(p: Parts = {}): Uint8Array {
  const tbs = der.sequence(
    ...(p.version === null ? [] : [p.version ?? der.explicit(0, der.integer(2))]),
    p.serial ?? der.integerFromHex('0102'),
    p.innerAlg ?? ECDSA_SHA256,
    p.issuer ?? NAME,
    p.validity ?? der.sequence(der.time(new Date('2026-01-01T00:00:00Z')), der.time(new Date('2036-01-01T00:00:00Z'))),
    p.subject ?? NAME,
    p.spki ?? SPKI,
    ...(p.extensions === null ? [] : [der.explicit(3, der.sequence(...(p.extensions ?? [BASIC_CA, KU_CERT_SIGN])))]),
    ...(p.tbsTail ? [p.tbsTail] : []),
  );
  const cert = der.sequence(tbs, p.outerAlg ?? ECDSA_SHA256, der.bitString(sign('sha256', tbs, privateKey)));
  return new Uint8Array(p.trailing ? Buffer.concat([cert, p.trailing]) : cert);
}

/** A CA certificate whose only other extension has the given OID and value (non-critical unless said). */
export const withExtension = (id: string, value: Uint8Array, critical = false): Uint8Array => build({ extensions: [BASIC_CA, ext(id, value, critical)] });
