// PKCS#10 requests assembled by hand (the DER writer plus Node's sign), so that a test can put one malformed
// piece anywhere inside the signed part and still give the request a valid signature: only a strict parser
// refuses them.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bitString, explicit, oid, printableString, sequence, set, tlv, utf8String } from '../../src/x509/der.js';

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

export const OIDS = { cn: '2.5.4.3', o: '2.5.4.10', extensionRequest: '1.2.840.113549.1.9.14', san: '2.5.29.17', challengePassword: '1.2.840.113549.1.9.7' };

/** One RDN with one attribute. */
export const rdn = (type: Uint8Array, value: Uint8Array): Buffer => set(sequence(type, value));

/** A well-formed subject: O=system:nodes, CN=system:node:n1. */
export const goodSubject = (): Buffer => sequence(rdn(oid(OIDS.o), printableString('system:nodes')), rdn(oid(OIDS.cn), utf8String('system:node:n1')));

/** The extensionRequest attribute carrying `extensions` (each a complete Extension SEQUENCE). */
export const extensionRequest = (...extensions: Uint8Array[]): Buffer => sequence(oid(OIDS.extensionRequest), set(sequence(...extensions)));

/** A SAN extension of the given GeneralNames (complete elements). */
export const sanExtension = (...names: Uint8Array[]): Buffer => sequence(oid(OIDS.san), tlv(0x04, sequence(...names)));

export interface RequestParts {
  version?: Uint8Array;
  subject?: Uint8Array;
  spki?: Uint8Array;
  /** The [0] attributes element, complete. */
  attributes?: Uint8Array;
  /** Bytes appended inside certificationRequestInfo, after the attributes. */
  tbsTail?: Uint8Array;
  /** Replaces the signature BIT STRING element. */
  signature?: (sig: Buffer) => Uint8Array;
  /** Bytes after the request. */
  trailing?: Uint8Array;
  key?: KeyObject;
}

/** A request made of `parts` (defaults: well formed), signed with ECDSA-SHA256 over the tbs as written. */
export function handBuiltRequest(parts: RequestParts = {}): Buffer {
  const spki = parts.spki ?? keys.publicKey.export({ type: 'spki', format: 'der' });
  const info = sequence(
    parts.version ?? tlv(0x02, Buffer.from([0])),
    parts.subject ?? goodSubject(),
    spki,
    parts.attributes ?? explicit(0, Buffer.alloc(0)),
    ...(parts.tbsTail ? [parts.tbsTail] : []),
  );
  const sig = sign('sha256', info, parts.key ?? keys.privateKey);
  const request = sequence(info, sequence(oid('1.2.840.10045.4.3.2')), parts.signature ? parts.signature(sig) : bitString(sig));
  return parts.trailing ? Buffer.concat([request, parts.trailing]) : request;
}
