import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolean, explicit, ia5String, implicitPrimitive, octetString, oid, printableString, sequence, set, tlv, utf8String, bitString } from '../../src/x509/der.js';
import { checkCsrSignature, parseCertificateRequest } from '../../src/x509/index.js';
import { extensionRequest, goodSubject, handBuiltRequest, OIDS, rdn, sanExtension } from './hand-built-csr.js';

const attrs = (...a: Uint8Array[]) => explicit(0, Buffer.concat(a));

test('a well-formed hand-built request parses and its signature verifies', async () => {
  const der = handBuiltRequest({ attributes: attrs(extensionRequest(sanExtension(implicitPrimitive(2, Buffer.from('n1.example')), implicitPrimitive(7, Buffer.from([10, 0, 0, 1]))))) });
  const req = parseCertificateRequest(der);
  assert.deepEqual(req.subject, { organization: ['system:nodes'], commonName: 'system:node:n1' });
  assert.deepEqual(req.sans.dnsNames, ['n1.example']);
  assert.deepEqual(req.sans.ipAddresses, ['10.0.0.1']);
  assert.equal(req.signatureAlgorithm.name, 'ECDSA-SHA256');
  assert.equal(req.publicKeyAlgorithm, 'ECDSA');
  await checkCsrSignature(req);
});

/** Each case: a request with one malformed piece inside the signed part (or around it), and Go's error. */
const MALFORMED: [string, () => Buffer, RegExp][] = [
  ['a subject attribute OID whose last arc is cut off', () => handBuiltRequest({ subject: sequence(rdn(tlv(0x06, Buffer.from([0x55, 0x04, 0x83])), utf8String('x'))) }), /truncated base 128 integer/],
  ['a subject attribute OID arc with a leading 0x80', () => handBuiltRequest({ subject: sequence(rdn(tlv(0x06, Buffer.from([0x55, 0x80, 0x04])), utf8String('x'))) }), /not minimally encoded/],
  ['an empty subject attribute OID', () => handBuiltRequest({ subject: sequence(rdn(tlv(0x06, Buffer.alloc(0)), utf8String('x'))) }), /zero length OBJECT IDENTIFIER/],
  ['an OID arc too large for 31 bits', () => handBuiltRequest({ subject: sequence(rdn(tlv(0x06, Buffer.from([0x55, 0x8f, 0xff, 0xff, 0xff, 0x7f])), utf8String('x'))) }), /base 128 integer too large/],
  ['a length in long form that fits the short form', () => handBuiltRequest({ subject: Buffer.concat([Buffer.from([0x30, 0x81, goodSubject().length - 2]), goodSubject().subarray(2)]) }), /non-minimal length/],
  ['a length with a leading zero octet', () => handBuiltRequest({ subject: Buffer.concat([Buffer.from([0x30, 0x82, 0x00, goodSubject().length - 2]), goodSubject().subarray(2)]) }), /superfluous leading zeros in length|non-minimal length/],
  ['an indefinite length', () => handBuiltRequest({ subject: Buffer.concat([Buffer.from([0x30, 0x80]), goodSubject().subarray(2), Buffer.from([0, 0])]) }), /indefinite length found \(not DER\)/],
  ['a length running past its container', () => handBuiltRequest({ subject: Buffer.concat([Buffer.from([0x30, 0x82, 0x0f, 0xff]), goodSubject().subarray(2)]) }), /data truncated/],
  ['bytes after the request', () => handBuiltRequest({ trailing: Buffer.from([0x05, 0x00]) }), /trailing data/],
  ['a subject that is a SET, not a SEQUENCE', () => handBuiltRequest({ subject: set(goodSubject().subarray(2)) }), /tags don't match/],
  ['an RDN that is a SEQUENCE, not a SET', () => handBuiltRequest({ subject: sequence(sequence(sequence(oid(OIDS.cn), utf8String('x')))) }), /tags don't match/],
  ['an attribute value missing', () => handBuiltRequest({ subject: sequence(set(sequence(oid(OIDS.cn)))) }), /sequence truncated/],
  ['a UTF8String that is not UTF-8', () => handBuiltRequest({ subject: sequence(rdn(oid(OIDS.cn), tlv(0x0c, Buffer.from([0x61, 0xff, 0x62])))) }), /invalid UTF-8/],
  ['a UTF8String with an encoded surrogate', () => handBuiltRequest({ subject: sequence(rdn(oid(OIDS.cn), tlv(0x0c, Buffer.from([0xed, 0xa0, 0x80])))) }), /invalid UTF-8/],
  ['a PrintableString with an @', () => handBuiltRequest({ subject: sequence(rdn(oid(OIDS.o), tlv(0x13, Buffer.from('a@b')))) }), /PrintableString contains invalid character/],
  ['an IA5String with an 8-bit octet', () => handBuiltRequest({ subject: sequence(rdn(oid(OIDS.cn), tlv(0x16, Buffer.from([0x61, 0xe9])))) }), /IA5String contains invalid character/],
  ['a non-minimal INTEGER version', () => handBuiltRequest({ version: tlv(0x02, Buffer.from([0, 0])) }), /integer not minimally-encoded/],
  ['an empty INTEGER version', () => handBuiltRequest({ version: tlv(0x02, Buffer.alloc(0)) }), /empty integer/],
  ['the attributes [0] missing', () => handBuiltRequest({ attributes: Buffer.alloc(0) }), /sequence truncated/],
  ['a signature BIT STRING with set padding bits', () => handBuiltRequest({ signature: (sig) => tlv(0x03, Buffer.from([1]), sig.subarray(0, -1), Buffer.from([sig[sig.length - 1]! | 1])) }), /invalid padding bits in BIT STRING/],
  ['a signature BIT STRING with 8 padding bits', () => handBuiltRequest({ signature: (sig) => tlv(0x03, Buffer.from([8]), sig) }), /invalid padding bits in BIT STRING/],
  ['a non-minimal high tag number in an attribute', () => handBuiltRequest({ attributes: attrs(Buffer.from([0x1f, 0x05, 0x00])) }), /non-minimal tag/],
  ['a critical flag that is not DER TRUE', () => handBuiltRequest({ attributes: attrs(extensionRequest(sequence(oid(OIDS.san), tlv(0x01, Buffer.from([0x01])), octetString(sequence(implicitPrimitive(2, Buffer.from('a'))))))) }), /invalid boolean/],
  ['a requested extension twice', () => handBuiltRequest({ attributes: attrs(extensionRequest(sanExtension(implicitPrimitive(2, Buffer.from('a'))), sanExtension(implicitPrimitive(2, Buffer.from('b'))))) }), /duplicate requested extensions/],
  ['an extensionRequest value that is not a SEQUENCE', () => handBuiltRequest({ attributes: attrs(sequence(oid(OIDS.extensionRequest), set(set()))) }), /tags don't match/],
  ['an IP SAN of 5 bytes', () => handBuiltRequest({ attributes: attrs(extensionRequest(sanExtension(implicitPrimitive(7, Buffer.from([1, 2, 3, 4, 5]))))) }), /cannot parse IP address of length 5/],
  ['a DNS SAN with an 8-bit octet', () => handBuiltRequest({ attributes: attrs(extensionRequest(sanExtension(implicitPrimitive(2, Buffer.from([0x61, 0xc3, 0xa9]))))) }), /SAN dNSName is malformed/],
  ['a URI SAN with a control character', () => handBuiltRequest({ attributes: attrs(extensionRequest(sanExtension(implicitPrimitive(6, Buffer.from('https://a/\x01'))))) }), /cannot parse URI/],
  ['SANs that are not a SEQUENCE', () => handBuiltRequest({ attributes: attrs(extensionRequest(sequence(oid(OIDS.san), octetString(set(implicitPrimitive(2, Buffer.from('a'))))))) }), /invalid subject alternative names/],
  ['an RSA key without NULL parameters', () => handBuiltRequest({ spki: sequence(sequence(oid('1.2.840.113549.1.1.1')), bitString(sequence(tlv(0x02, Buffer.from([0x00, 0xc1])), tlv(0x02, Buffer.from([3]))))) }), /RSA key missing NULL parameters/],
  ['an EC key on an unknown curve', () => handBuiltRequest({ spki: sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.3.4')), bitString(Buffer.from([4, 1, 2]))) }), /unsupported elliptic curve/],
  ['an EC point in compressed form', () => handBuiltRequest({ spki: sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitString(Buffer.alloc(33, 2))) }), /failed to unmarshal elliptic curve point/],
];

for (const [what, build, message] of MALFORMED) {
  test(`refuses a request with ${what}`, () => {
    assert.throws(() => parseCertificateRequest(build()), (err: Error) => {
      assert.match(err.message, message);
      assert.equal((err as { code?: string }).code, 'InvalidDER');
      return true;
    });
  });
}

test('as Go, an attribute other than extensionRequest that does not parse is ignored, and so are unknown string types and elements after a structure\'s last field', () => {
  assert.equal(parseCertificateRequest(handBuiltRequest({ tbsTail: Buffer.from([0x05, 0x00]) })).version, 0);
  const brokenAttribute = sequence(tlv(0x06, Buffer.from([0x2a, 0x86])), set(utf8String('x')));
  const req = parseCertificateRequest(handBuiltRequest({ attributes: attrs(brokenAttribute, sequence(oid(OIDS.challengePassword), set(printableString('pw')))) }));
  assert.deepEqual(req.extensions, []);
  // A T61String is read as Latin-1 text; a BOOLEAN value in a name is skipped (pkix.Name keeps strings only).
  const odd = parseCertificateRequest(handBuiltRequest({ subject: sequence(rdn(oid(OIDS.o), tlv(0x14, Buffer.from([0x61, 0xe9]))), rdn(oid(OIDS.cn), boolean(true))) }));
  assert.deepEqual(odd.subject, { organization: ['a\u00e9'] });
});

test('SANs are read as Go reads them: IPv4-mapped IPv6 as IPv4, IPv6 compressed, other name types skipped', () => {
  const v6 = Buffer.from('20010db8000000000000000000000001', 'hex');
  const mapped = Buffer.from('00000000000000000000ffffc0000201', 'hex');
  const req = parseCertificateRequest(
    handBuiltRequest({
      attributes: attrs(
        extensionRequest(
          sanExtension(implicitPrimitive(7, v6), implicitPrimitive(7, mapped), implicitPrimitive(1, Buffer.from('a@b.c')), implicitPrimitive(6, Buffer.from('spiffe://td/ns/x')), explicit(4, sequence())),
        ),
      ),
    }),
  );
  assert.deepEqual(req.sans, { dnsNames: [], ipAddresses: ['2001:db8::1', '192.0.2.1'], emailAddresses: ['a@b.c'], uris: ['spiffe://td/ns/x'] });
  void ia5String;
});

test('a signature that does not verify is refused with Go\'s message; an unknown algorithm is unimplemented', async () => {
  const der = handBuiltRequest();
  der[der.length - 3]! ^= 0x01;
  await assert.rejects(checkCsrSignature(parseCertificateRequest(der)), /x509: ECDSA verification failure/);
  const unknownAlg = Buffer.from(handBuiltRequest());
  const at = unknownAlg.indexOf(oid('1.2.840.10045.4.3.2'));
  unknownAlg[at + 9] = 0x01; // ecdsa-with-SHA256 → 1.2.840.10045.4.3.1, which Go does not know
  await assert.rejects(checkCsrSignature(parseCertificateRequest(unknownAlg)), /algorithm unimplemented/);
});
