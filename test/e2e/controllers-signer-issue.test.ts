import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  createCertificateRequest,
  encodePem,
  generateKeyPair,
  parseCertificateDer,
  parseCertificateRequest,
  checkCsrSignature,
  certificateRequestDerFromPem,
  EXT_KEY_USAGE_OIDS,
  KEY_USAGE_BITS,
  type KeyAlgorithm,
} from '../../src/x509/index.js';
import { issueFromRequest, usagesToExtensions } from '../../src/controllers/signer/issue.js';
import { fromName, sansFromGeneralNames, x509 } from '../helpers/peculiar.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { NODE_SUBJECT, requestPem, sans, sharedKeyPair, testCA } from '../controllers/fixtures.js';
import { createPublicKey } from 'node:crypto';

const validity = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };
const b64 = (pem: string) => Buffer.from(pem).toString('base64');

const decodeSpecRequest = (specRequest: string) => certificateRequestDerFromPem(Buffer.from(specRequest, 'base64').toString('latin1'));
const parseRequestDer = parseCertificateRequest;
const verifies = (req: ReturnType<typeof parseCertificateRequest>) => checkCsrSignature(req).then(() => true, () => false);

test('the request reader agrees with an independent ASN.1 parser (@peculiar/x509) on subject, SANs and key', async () => {
  const keys = await sharedKeyPair();
  const altNames = sans({ dnsNames: ['node-1', 'node-1.example.com'], ipAddresses: ['10.0.0.1', 'fd00::1', '::ffff:c000:201'], emailAddresses: ['a@b.c'], uris: ['spiffe://x/y'] });
  const csr = await createCertificateRequest({ subject: { commonName: 'system:node:node-1', organization: ['system:nodes', 'second'], organizationalUnit: ['ou'] }, sans: altNames, keyPair: keys });
  const fast = parseRequestDer(csr.der);
  const peculiar = new x509.Pkcs10CertificateRequest(csr.der);
  const ref = {
    subject: fromName(peculiar.subjectName),
    sans: sansFromGeneralNames(peculiar.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension)?.names.items ?? []),
    publicKey: createPublicKey({ key: Buffer.from(peculiar.publicKey.rawData), format: 'der', type: 'spki' }),
  };
  assert.deepEqual(fast.subject, ref.subject);
  assert.deepEqual(fast.sans.dnsNames, ref.sans.dnsNames);
  assert.deepEqual(fast.sans.emailAddresses, ref.sans.emailAddresses);
  assert.deepEqual(fast.sans.uris, ref.sans.uris);
  // Go stores an IPv4-mapped IPv6 address as IPv4; the rest compare as canonical text.
  assert.deepEqual(fast.sans.ipAddresses, ['10.0.0.1', 'fd00::1', '192.0.2.1']);
  assert.ok(fast.publicKey.equals(ref.publicKey));
  assert.equal(await verifies(fast), true);
});

test('a request whose signature does not verify is refused', async () => {
  const pem = await requestPem(NODE_SUBJECT('a'));
  const der = Buffer.from(decodeSpecRequest(b64(pem)));
  der[der.length - 5]! ^= 0x01; // flip a bit of the signature
  const tampered = parseRequestDer(new Uint8Array(der));
  assert.equal(await verifies(tampered), false);
  await assert.rejects(checkCsrSignature(tampered), /x509: ECDSA verification failure|crypto\/rsa: verification error/);
});

test('spec.request that is not a CERTIFICATE REQUEST PEM is refused with kube\'s message', () => {
  assert.throws(() => decodeSpecRequest(b64('not pem')), /PEM block type must be CERTIFICATE REQUEST/);
  assert.throws(() => decodeSpecRequest(b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), /PEM block type must be CERTIFICATE REQUEST/);
});

test('usages map to key usage bits and EKUs sorted in Go\'s order; unknown usages are refused', () => {
  const { keyUsage, extKeyUsages } = usagesToExtensions(['client auth', 'signing', 'key encipherment', 'server auth', 'any']);
  assert.equal(keyUsage, KEY_USAGE_BITS['digital signature'] | KEY_USAGE_BITS['key encipherment']);
  assert.deepEqual(extKeyUsages, [EXT_KEY_USAGE_OIDS.any, EXT_KEY_USAGE_OIDS['server auth'], EXT_KEY_USAGE_OIDS['client auth']]);
  assert.throws(() => usagesToExtensions(['client auth', 'flying']), /unrecognized usage values: \["flying"\]/);
});

for (const alg of ['RSA-2048', 'ECDSA-P256', 'ECDSA-P384'] as KeyAlgorithm[]) {
  test(`a ${alg} CA issues a certificate with kube's shape that openssl verifies`, async (t) => {
    const ca = await testCA(alg);
    const keys = await generateKeyPair('RSA-2048');
    const pem = await requestPem(NODE_SUBJECT('node-7'), { dnsNames: ['node-7', 'node-7.example.com'], ipAddresses: ['10.1.2.3', '2001:db8::7'] }, keys);
    const request = parseRequestDer(decodeSpecRequest(b64(pem)));
    const der = await issueFromRequest({ authority: ca.authority, request, usages: ['digital signature', 'key encipherment', 'server auth'], validity });
    const cert = parseCertificateDer(der);
    assert.equal(cert.subject.commonName, 'system:node:node-7');
    assert.deepEqual(cert.subject.organization, ['system:nodes']);
    assert.deepEqual(cert.issuer, ca.certificate.subject);
    assert.deepEqual(cert.sans.dnsNames, ['node-7', 'node-7.example.com']);
    assert.deepEqual(cert.sans.ipAddresses, ['10.1.2.3', '2001:db8::7']);
    assert.equal(cert.keyUsage, KEY_USAGE_BITS['digital signature'] | KEY_USAGE_BITS['key encipherment']);
    assert.deepEqual([...cert.extKeyUsages], [EXT_KEY_USAGE_OIDS['server auth']]);
    assert.equal(cert.isCA, false);
    assert.equal(cert.authorityKeyId, ca.certificate.subjectKeyId);
    assert.ok(cert.publicKey.equals(keys.publicKey));
    assert.equal(cert.notBefore.toISOString(), validity.notBefore.toISOString());
    assert.equal(cert.notAfter.toISOString(), validity.notAfter.toISOString());
    assert.ok(cert.serialNumber.length >= 30 && cert.serialNumber.length <= 40, `a random serial of at least 128 bits and at most 20 octets, got ${cert.serialNumber}`);

    const dir = await tempDir(t);
    await writeFile(path.join(dir, 'ca.crt'), ca.certificate.pem);
    await writeFile(path.join(dir, 'leaf.crt'), encodePem('CERTIFICATE', der));
    const ok = await run('openssl', ['verify', '-x509_strict', '-attime', String(Date.parse('2026-06-01T00:00:00Z') / 1000), '-CAfile', path.join(dir, 'ca.crt'), '-purpose', 'sslserver', path.join(dir, 'leaf.crt')]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const asClient = await run('openssl', ['verify', '-attime', String(Date.parse('2026-06-01T00:00:00Z') / 1000), '-CAfile', path.join(dir, 'ca.crt'), '-purpose', 'sslclient', path.join(dir, 'leaf.crt')]);
    assert.notEqual(asClient.code, 0, 'a serving certificate must not verify as a client certificate');
    const text = await run('openssl', ['x509', '-in', path.join(dir, 'leaf.crt'), '-noout', '-text']);
    assert.match(text.stdout, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
    assert.match(text.stdout, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  });
}

test('a client certificate without SANs carries no SAN extension and only client auth', async () => {
  const ca = await testCA('ECDSA-P256');
  const request = parseRequestDer(decodeSpecRequest(b64(await requestPem(NODE_SUBJECT('n')))));
  const cert = parseCertificateDer(await issueFromRequest({ authority: ca.authority, request, usages: ['digital signature', 'client auth'], validity }));
  assert.deepEqual(cert.sans, sans({}));
  assert.equal(cert.keyUsage, KEY_USAGE_BITS['digital signature']);
  assert.deepEqual([...cert.extKeyUsages], [EXT_KEY_USAGE_OIDS['client auth']]);
});

test('validity after 2049 is written as GeneralizedTime and read back exactly', async () => {
  const ca = await testCA('ECDSA-P256', { notAfter: new Date('2099-01-01T00:00:00Z') });
  const request = parseRequestDer(decodeSpecRequest(b64(await requestPem(NODE_SUBJECT('n')))));
  const notAfter = new Date('2060-05-06T07:08:09Z');
  const cert = parseCertificateDer(await issueFromRequest({ authority: ca.authority, request, usages: ['client auth'], validity: { notBefore: validity.notBefore, notAfter } }));
  assert.equal(cert.notAfter.toISOString(), notAfter.toISOString());
});

test('a request key already verified by the API server is copied as is: the same certificate as importing it, and a non-canonical key is still imported', async () => {
  const ca = await testCA('ECDSA-P256');
  for (const alg of ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048'] as KeyAlgorithm[]) {
    const keys = await generateKeyPair(alg);
    const request = parseRequestDer(decodeSpecRequest(b64(await requestPem(NODE_SUBJECT('n'), undefined, keys))));
    const copied = parseCertificateDer(await issueFromRequest({ authority: ca.authority, request, usages: ['digital signature', 'client auth'], validity, keyVerified: true }));
    const imported = parseCertificateDer(await issueFromRequest({ authority: ca.authority, request, usages: ['digital signature', 'client auth'], validity }));
    assert.ok(copied.publicKey.equals(keys.publicKey), alg);
    assert.equal(copied.subjectKeyId, imported.subjectKeyId, alg);
    // The signed part is the same bytes but for the random serial.
    assert.equal(tbsHex(copied.der).replace(copied.serialNumber, 'SERIAL'), tbsHex(imported.der).replace(imported.serialNumber, 'SERIAL'), alg);
  }
});

/** The TBSCertificate of a DER certificate, in hex. */
function tbsHex(der: Uint8Array): string {
  const header = (at: number): { start: number; end: number } => {
    const first = der[at + 1]!;
    if (!(first & 0x80)) return { start: at + 2, end: at + 2 + first };
    let len = 0;
    for (let i = 0; i < (first & 0x7f); i++) len = len * 256 + der[at + 2 + i]!;
    const start = at + 2 + (first & 0x7f);
    return { start, end: start + len };
  };
  const tbsAt = header(0).start;
  return Buffer.from(der.subarray(tbsAt, header(tbsAt).end)).toString('hex');
}
