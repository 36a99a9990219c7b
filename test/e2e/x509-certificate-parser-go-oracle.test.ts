// The certificate parser (certificate-parser.ts) against Go's own x509.ParseCertificate: hand-built
// certificates, each breaking one rule, are parsed by both; Go's error ("parse leaf: ...") must be ours word
// for word, and a certificate Go parses must parse here too. An unknown critical extension parses in both
// and fails verification in both. Go here is the machine's go (1.19): where Go 1.23 (what Kubernetes 1.32 is
// built with) or later Go (crypto/x509/parser.go upstream) decides otherwise, the case says so and follows it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as der from '../../src/x509/der.js';
import { encodePem } from '../../src/x509/pem.js';
import { parseCertificateDer } from '../../src/x509/certificate.js';
import { checkCertificatesDer } from '../../src/x509/certificate-parser.js';
import { validatePath } from '../../src/x509/path-validation/index.js';
import { buildGoOracle, type GoOracle } from '../x509/path-validation/go-oracle.js';
import { BASIC_CA, build, ext, KU_CERT_SIGN, SPKI } from '../x509/hand-built-certificate.js';
import { EXTENSION_CASES } from '../x509/certificate-extension-cases.js';

let oracle: GoOracle;
before(async () => {
  oracle = await buildGoOracle();
});
after(async () => {
  await oracle?.close();
});

const SAN = (...names: Buffer[]) => ext('2.5.29.17', der.sequence(...names));

/** An RSA public key (RSAPublicKey DER) and its two INTEGER elements. */
const RSA_JWK = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
const rsaFields = () => [RSA_JWK.n!, RSA_JWK.e!].map((v) => der.integerFromHex(Buffer.from(v, 'base64url').toString('hex')));
const RSA_PUBLIC_KEY = der.sequence(...rsaFields());

/** Replaces the first occurrence of `from` in `buf` (the length stays the same). */
function patch(buf: Uint8Array, from: number[], to: number[]): Uint8Array {
  const b = Buffer.from(buf);
  const i = b.indexOf(Buffer.from(from));
  assert.ok(i >= 0, 'patch target present');
  Buffer.from(to).copy(b, i);
  return new Uint8Array(b);
}

const utcTime = (text: string) => der.tlv(0x17, Buffer.from(text, 'latin1'));

/**
 * go123: Go 1.23's answer where the machine's Go 1.19 gives another (null: Go 1.23 parses it); the oracle is
 * then not asserted for kubepki, unless go119 states Go 1.19's answer, which is asserted instead.
 */
interface OracleCase {
  name: string;
  der: Uint8Array;
  go123?: string | null;
  go119?: string | null;
}

const CASES: OracleCase[] = [
  { name: 'a valid v3 CA certificate', der: build() },
  { name: 'a v1 certificate (no version, no extensions)', der: build({ version: null, extensions: null }) },
  { name: 'version 4', der: build({ version: der.explicit(0, der.integer(3)) }) },
  { name: 'a negative version', der: build({ version: der.explicit(0, der.tlv(0x02, Buffer.from([0xff]))) }) },
  { name: 'a non-minimal serial', der: build({ serial: der.tlv(0x02, Buffer.from([0x00, 0x01])) }) },
  { name: 'an empty serial', der: build({ serial: der.tlv(0x02, Buffer.alloc(0)) }) },
  { name: 'a serial of zero', der: build({ serial: der.tlv(0x02, Buffer.from([0x00])) }) },
  // Go 1.19 accepts a negative serial; Go 1.23 refuses it (x509negativeserial), as kubepki does.
  { name: 'a negative serial', der: build({ serial: der.tlv(0x02, Buffer.from([0x80, 0x01])) }), go123: 'x509: negative serial number' },
  { name: 'inner and outer signature algorithms that differ', der: build({ outerAlg: der.sequence(der.oid('1.2.840.10045.4.3.3')) }) },
  { name: 'an unknown signature algorithm', der: build({ innerAlg: der.sequence(der.oid('1.2.3.4')), outerAlg: der.sequence(der.oid('1.2.3.4')) }) },
  { name: 'an issuer attribute that is an INTEGER', der: build({ issuer: der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.integer(5)))) }) },
  { name: 'a PrintableString with an @', der: build({ subject: der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.tlv(0x13, Buffer.from('a@b'))))) }) },
  { name: 'a BMPString common name', der: build({ subject: der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.tlv(0x1e, Buffer.from([0, 0x4a, 0, 0xf6]))))) }) },
  { name: 'an RDN that is a SEQUENCE', der: build({ subject: der.sequence(der.sequence(der.sequence(der.oid('2.5.4.3'), der.printableString('x')))) }) },
  { name: 'a UTCTime with +0000', der: build({ validity: der.sequence(utcTime('260101000000+0000'), utcTime('360101000000Z')) }) },
  { name: 'a UTCTime of 30 February', der: build({ validity: der.sequence(utcTime('260230000000Z'), utcTime('360101000000Z')) }) },
  { name: 'a validity that is an INTEGER', der: build({ validity: der.sequence(der.integer(1), utcTime('360101000000Z')) }) },
  { name: 'an EC point off the curve', der: patch(build(), [...SPKI.subarray(SPKI.length - 4)], [0, 0, 0, 1]) },
  { name: 'an RSA key without NULL parameters', der: build({ spki: der.sequence(der.sequence(der.oid('1.2.840.113549.1.1.1')), der.bitString(der.sequence(der.integer(0x0b), der.integer(3)))) }) },
  { name: 'an unknown critical extension', der: build({ extensions: [BASIC_CA, KU_CERT_SIGN, ext('1.2.3.4.5', der.nullValue(), true)] }) },
  { name: 'an unknown non-critical extension', der: build({ extensions: [BASIC_CA, KU_CERT_SIGN, ext('1.2.3.4.5', der.nullValue())] }) },
  // Later Go names the OID; Go 1.19 says "x509: certificate contains duplicate extensions".
  { name: 'an extension twice', der: build({ extensions: [BASIC_CA, KU_CERT_SIGN, KU_CERT_SIGN] }), go123: 'x509: certificate contains duplicate extension with OID "2.5.29.15"' },
  // Later Go refuses a critical AKI, SKI or AIA (RFC 5280 says MUST be non-critical); Go 1.19 parses them.
  { name: 'a critical authority key identifier', der: build({ extensions: [BASIC_CA, ext('2.5.29.35', der.sequence(der.implicitPrimitive(0, Buffer.from([1, 2]))), true)] }), go123: 'x509: authority key identifier incorrectly marked critical' },
  { name: 'a critical subject key identifier', der: build({ extensions: [BASIC_CA, ext('2.5.29.14', der.octetString(Buffer.from([1, 2])), true)] }), go123: 'x509: subject key identifier incorrectly marked critical' },
  { name: 'a key usage with set padding bits', der: build({ extensions: [BASIC_CA, ext('2.5.29.15', der.tlv(0x03, Buffer.from([0x07, 0x81])), true)] }) },
  // Go 1.19's message has a stray " b" (fixed later).
  { name: 'basic constraints with a BOOLEAN of 0x01', der: build({ extensions: [ext('2.5.29.19', der.sequence(der.tlv(0x01, Buffer.from([0x01]))), true)] }), go123: 'x509: invalid basic constraints' },
  { name: 'a critical flag that is not DER TRUE', der: build({ extensions: [der.sequence(der.oid('2.5.29.19'), der.tlv(0x01, Buffer.from([0x01])), der.octetString(der.sequence()))] }) },
  { name: 'an EKU that is not a list of OIDs', der: build({ extensions: [BASIC_CA, ext('2.5.29.37', der.sequence(der.integer(1)))] }) },
  { name: 'URI, e-mail, IPv4, IPv6 and IPv4-mapped SANs', der: build({ extensions: [BASIC_CA, SAN(der.implicitPrimitive(6, Buffer.from('spiffe://c/ns/a')), der.implicitPrimitive(1, Buffer.from('a@b.c')), der.implicitPrimitive(7, Buffer.from([10, 0, 0, 1])), der.implicitPrimitive(7, Buffer.from('fd000000000000000000000000000001', 'hex')), der.implicitPrimitive(7, Buffer.from('00000000000000000000ffffc0000201', 'hex')))] }) },
  { name: 'an IP SAN of 5 bytes', der: build({ extensions: [BASIC_CA, SAN(der.implicitPrimitive(7, Buffer.from([1, 2, 3, 4, 5])))] }) },
  { name: 'a DNS SAN with an 8-bit octet', der: build({ extensions: [BASIC_CA, SAN(der.implicitPrimitive(2, Buffer.from([0x61, 0xe9])))] }) },
  { name: 'a URI SAN without a scheme', der: build({ extensions: [BASIC_CA, SAN(der.implicitPrimitive(6, Buffer.from(':no-scheme')))] }) },
  { name: 'empty name constraints', der: build({ extensions: [BASIC_CA, ext('2.5.29.30', der.sequence(), true)] }) },
  { name: 'an IP name constraint with a bad mask', der: build({ extensions: [BASIC_CA, ext('2.5.29.30', der.sequence(der.tlv(0xa0, der.sequence(der.implicitPrimitive(7, Buffer.from([10, 0, 0, 0, 255, 0, 255, 0]))))), true)] }) },
  { name: 'a critical authority info access', der: build({ extensions: [BASIC_CA, ext('1.3.6.1.5.5.7.1.1', der.sequence(), true)] }), go123: 'x509: authority info access incorrectly marked critical' },
  { name: 'bytes after the certificate', der: build({ trailing: Buffer.from([0]) }) },
  { name: 'an element after the extensions (ignored by Go)', der: build({ tbsTail: der.integer(7) }) },
  { name: 'a length in long form that fits the short form', der: build({ subject: der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), Buffer.from([0x13, 0x81, 0x01, 0x41])))) }) },
  { name: 'a high-tag-number element in the subject', der: build({ subject: der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), Buffer.from([0x1f, 0x21, 0x01, 0x41])))) }) },
  // Found by the mutation fuzz (test/x509/der-fuzz.test.ts, test/e2e/x509-der-fuzz-go-oracle.test.ts).
  { name: 'a GeneralizedTime notAfter with a fraction (cryptobyte reads none)', der: build({ validity: der.sequence(der.time(new Date('2026-01-01T00:00:00Z')), der.tlv(0x18, Buffer.from('20360101000000.5Z'))) }) },
  { name: 'a UTCTime notAfter at an offset of -2400 (time.Parse takes 24 hours)', der: build({ validity: der.sequence(der.time(new Date('2026-01-01T00:00:00Z')), der.tlv(0x17, Buffer.from('360101000000-2400'))) }) },
  { name: 'an element after the extensions SEQUENCE inside [3] (never read)', der: build({ extensions: null, tbsTail: der.explicit(3, Buffer.concat([der.sequence(BASIC_CA, KU_CERT_SIGN), der.sequence()])) }) },
  { name: 'an RSA key whose AlgorithmIdentifier has an element after the NULL', der: build({ spki: der.sequence(der.sequence(der.oid('1.2.840.113549.1.1.1'), der.nullValue(), der.nullValue()), der.bitString(RSA_PUBLIC_KEY)) }) },
  { name: 'an RSA key with an element after the exponent', der: build({ spki: der.sequence(der.sequence(der.oid('1.2.840.113549.1.1.1'), der.nullValue()), der.bitString(Buffer.concat([RSA_PUBLIC_KEY.subarray(0, 0), der.sequence(...rsaFields(), der.integer(1))]))) }) },
  // CRL distribution points, certificate policies and name constraint values (the unit test's cases).
  ...EXTENSION_CASES.map((c): OracleCase => (c.go119 === undefined ? { name: c.name, der: c.der } : { name: c.name, der: c.der, go123: c.error ?? null, go119: c.go119 })),
];

test("every case: kubepki's parser and Go's x509.ParseCertificate agree, error text included", async () => {
  const go = await oracle.verify(CASES.map((c) => ({ leaf: encodePem('CERTIFICATE', c.der), roots: encodePem('CERTIFICATE', c.der), intermediates: '', at: '2027-01-01T00:00:00Z' })));
  const disagreements: string[] = [];
  let refused = 0;
  CASES.forEach((c, i) => {
    const goParse = go[i]!.error?.startsWith('parse leaf: ') ? go[i]!.error.slice('parse leaf: '.length) : undefined;
    const want = c.go123 === undefined ? goParse : (c.go123 ?? undefined);
    if (c.go119 !== undefined && goParse !== (c.go119 ?? undefined)) {
      disagreements.push(`${c.name}: Go 1.19 was expected to answer ${JSON.stringify(c.go119 ?? 'parses')}, it answers ${JSON.stringify(goParse ?? 'parses')}`);
    }
    let got: string | undefined;
    try {
      parseCertificateDer(c.der);
    } catch (err) {
      got = (err as Error).message.replace(/^certificate: not a valid X\.509 certificate: /, '').replace(/^certificate: unsupported public key: /, '');
    }
    if (want !== undefined) refused++;
    if (got !== want) disagreements.push(`${c.name}: Go ${JSON.stringify(want ?? 'parses')}, kubepki ${JSON.stringify(got ?? 'parses')}`);
  });
  assert.deepEqual(disagreements, []);
  assert.ok(refused >= 20, `most cases are refusals (${refused})`);
});

test("the status.certificate check (checkCertificatesDer, no key imported) agrees with Go on every case, error text included", async () => {
  const go = await oracle.verify(CASES.map((c) => ({ leaf: encodePem('CERTIFICATE', c.der), roots: encodePem('CERTIFICATE', c.der), intermediates: '', at: '2027-01-01T00:00:00Z' })));
  const disagreements: string[] = [];
  CASES.forEach((c, i) => {
    const goParse = go[i]!.error?.startsWith('parse leaf: ') ? go[i]!.error.slice('parse leaf: '.length) : undefined;
    // kube reads a PEM block with ParseCertificates: bytes after a certificate are read as the next one.
    const want = c.name === 'bytes after the certificate' ? 'x509: malformed certificate' : c.go123 === undefined ? goParse : (c.go123 ?? undefined);
    let got: string | undefined;
    try {
      checkCertificatesDer(c.der);
    } catch (err) {
      got = (err as Error).message.replace(/^certificate: not a valid X\.509 certificate: /, '').replace(/^certificate: unsupported public key: /, '');
    }
    if (got !== want) disagreements.push(`${c.name}: Go ${JSON.stringify(want ?? 'parses')}, kubepki ${JSON.stringify(got ?? 'parses')}`);
  });
  assert.deepEqual(disagreements, []);
});

test('a parsed certificate says what Go reads: serial, SANs in canonical text, BMPString names, key usage', () => {
  const byName = (name: string) => parseCertificateDer(CASES.find((c) => c.name === name)!.der);
  const ca = byName('a valid v3 CA certificate');
  assert.equal(ca.serialNumber, '0102');
  assert.equal(ca.isCA, true);
  assert.equal(ca.keyUsage, 0b100101);
  assert.equal(ca.signatureAlgorithm, 'ECDSA-SHA256');
  assert.deepEqual(ca.subject, { commonName: 'parser-test' });
  assert.equal(byName('a serial of zero').serialNumber, '00');
  const v1 = byName('a v1 certificate (no version, no extensions)');
  assert.equal(v1.isCA, false);
  assert.equal(byName('a BMPString common name').subject.commonName, 'Jö');
  assert.deepEqual(byName('URI, e-mail, IPv4, IPv6 and IPv4-mapped SANs').sans, {
    dnsNames: [],
    ipAddresses: ['10.0.0.1', 'fd00::1', '192.0.2.1'],
    emailAddresses: ['a@b.c'],
    uris: ['spiffe://c/ns/a'],
  });
});

test('an unknown critical extension parses but does not verify, in kubepki as in Go', async () => {
  const c = CASES.find((x) => x.name === 'an unknown critical extension')!;
  const cert = parseCertificateDer(c.der);
  const [go] = await oracle.verify([{ leaf: cert.pem, roots: cert.pem, intermediates: '', at: '2027-01-01T00:00:00Z', purpose: 'any' }]);
  const ours = validatePath(cert, { roots: [cert], now: new Date('2027-01-01T00:00:00Z'), purposes: ['any'] });
  assert.equal(go!.error, 'x509: unhandled critical extension');
  assert.deepEqual(ours, { ok: false, reason: 'Invalid', error: go!.error });
});
