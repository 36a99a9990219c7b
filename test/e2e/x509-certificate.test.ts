import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  generateKeyPair,
  issueCertificate,
  parseCertificatePem,
  parseCertificatesPem,
  parsePrivateKeyPem,
  privateKeyToPem,
  keyMatchesPublicKey,
  parseUsages,
  parseHosts,
  createCertificateRequest,
  parseCertificateRequestPem,
  decodePem,
  type KeyAlgorithm,
} from '../../src/x509/index.js';
import { validatePath } from '../../src/x509/path-validation/index.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const HOUR = 3_600_000;

async function makeCa(alg: KeyAlgorithm = 'ECDSA-P256', cn = 'kubernetes') {
  const keyPair = await generateKeyPair(alg);
  const now = new Date();
  const certificate = await issueCertificate({
    template: { subject: { commonName: cn }, notBefore: now, notAfter: new Date(now.getTime() + 24 * HOUR), isCA: true, ...parseUsages(['digital signature', 'key encipherment', 'cert sign']) },
    publicKey: keyPair.publicKey,
    issuer: { selfSigned: keyPair },
  });
  return { certificate, privateKey: keyPair.privateKey, keyPair };
}

for (const alg of ['RSA-2048', 'ECDSA-P256', 'ECDSA-P384'] as KeyAlgorithm[]) {
  test(`a ${alg} CA signs a server leaf that openssl verifies for sslserver`, async (t) => {
    const dir = await tempDir(t);
    const ca = await makeCa(alg);
    const leafKey = await generateKeyPair(alg);
    const now = new Date();
    const leaf = await issueCertificate({
      template: {
        subject: { commonName: 'kube-apiserver', organization: ['a', 'b'] },
        sans: parseHosts(['kubernetes', '10.96.0.1', '::1', 'kubernetes.default.svc.cluster.local']),
        notBefore: now,
        notAfter: new Date(now.getTime() + HOUR),
        ...parseUsages(['digital signature', 'key encipherment', 'server auth']),
      },
      publicKey: leafKey.publicKey,
      issuer: ca,
    });
    await writeFile(path.join(dir, 'ca.crt'), ca.certificate.pem);
    await writeFile(path.join(dir, 'leaf.crt'), leaf.pem);
    const v = await run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', path.join(dir, 'ca.crt'), path.join(dir, 'leaf.crt')]);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    const text = await run('openssl', ['x509', '-in', path.join(dir, 'leaf.crt'), '-noout', '-text']);
    assert.match(text.stdout, /Subject: O ?= ?a, O ?= ?b, CN ?= ?kube-apiserver/);
    assert.match(text.stdout, /DNS:kubernetes, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text.stdout, /X509v3 Subject Key Identifier/);
    assert.match(text.stdout, /X509v3 Authority Key Identifier/);
    assert.match(text.stdout, /CA:FALSE/);
    // SKI as openssl computes it equals ours; the leaf's AKI is the CA's SKI.
    const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text.stdout)![1]!.replace(/:/g, '').toLowerCase();
    assert.equal(ski, leaf.subjectKeyId);
    assert.equal(leaf.authorityKeyId, ca.certificate.subjectKeyId);
    assert.ok(BigInt('0x' + leaf.serialNumber) >= 2n ** 120n, 'serial carries at least 128 random bits');
  });
}

test('parsing round-trips subject, SANs, usages and validity', async () => {
  const ca = await makeCa();
  const parsed = parseCertificatePem(ca.certificate.pem, 'ca.crt');
  assert.equal(parsed.subject.commonName, 'kubernetes');
  assert.equal(parsed.isCA, true);
  assert.equal(parsed.notAfter.getTime(), Math.floor(ca.certificate.notAfter.getTime() / 1000) * 1000);
  assert.throws(() => parseCertificatePem(ca.certificate.pem + ca.certificate.pem, 'bundle.crt'), /bundle of 2/);
  assert.equal(parseCertificatesPem(ca.certificate.pem + ca.certificate.pem).length, 2);
});

test('a truncated PEM is refused with the name of the input', () => {
  assert.throws(() => decodePem('-----BEGIN CERTIFICATE-----\nMIIB\n', 'pki/ca.crt'), /pki\/ca.crt: .*truncated/);
  assert.throws(() => decodePem('hello', 'x.pem'), /x.pem: no PEM data found/);
});

test('private keys round-trip in kubeadm encodings and match their certificate', async () => {
  const ca = await makeCa('RSA-2048');
  const pem = privateKeyToPem(ca.privateKey);
  assert.match(pem, /BEGIN RSA PRIVATE KEY/);
  const back = parsePrivateKeyPem(pem, 'ca.key');
  assert.ok(keyMatchesPublicKey(back, ca.certificate.publicKey));
  const other = await generateKeyPair('RSA-2048');
  assert.equal(keyMatchesPublicKey(other.privateKey, ca.certificate.publicKey), false);
  const ec = await generateKeyPair('ECDSA-P256');
  assert.match(privateKeyToPem(ec.privateKey), /BEGIN EC PRIVATE KEY/);
});

test('chain verification: unknown authority, expiry and client-auth usage', async () => {
  const ca = await makeCa();
  const other = await makeCa('ECDSA-P256', 'other');
  const k = await generateKeyPair('ECDSA-P256');
  const now = new Date();
  const client = await issueCertificate({
    template: { subject: { commonName: 'u' }, notBefore: now, notAfter: new Date(now.getTime() + HOUR), ...parseUsages(['digital signature', 'client auth']) },
    publicKey: k.publicKey,
    issuer: ca,
  });
  assert.equal(validatePath(client, { roots: [ca.certificate], now, purposes: ['client'] }).ok, true);
  const unknown = validatePath(client, { roots: [other.certificate], now, purposes: ['client'] });
  assert.equal(unknown.ok ? '' : unknown.reason, 'UnknownAuthority');
  assert.match(unknown.ok ? '' : unknown.error, /signed by unknown authority/);
  const late = validatePath(client, { roots: [ca.certificate], now: new Date(now.getTime() + 2 * HOUR), purposes: ['client'] });
  assert.equal(late.ok ? '' : late.reason, 'Expired');
  const usage = validatePath(client, { roots: [ca.certificate], now, purposes: ['server'] });
  assert.equal(usage.ok ? '' : usage.reason, 'IncompatibleUsage');
});

test('CSRs are created, parsed and their signature checked; openssl agrees', async (t) => {
  const dir = await tempDir(t);
  const kp = await generateKeyPair('ECDSA-P256');
  const csr = await createCertificateRequest({ subject: { commonName: 'system:node:n1', organization: ['system:nodes'] }, sans: parseHosts(['n1', '10.0.0.5']), keyPair: kp });
  const parsed = await parseCertificateRequestPem(csr.pem);
  assert.equal(parsed.subject.commonName, 'system:node:n1');
  assert.deepEqual(parsed.subject.organization, ['system:nodes']);
  assert.deepEqual(parsed.sans.ipAddresses, ['10.0.0.5']);
  await writeFile(path.join(dir, 'r.csr'), csr.pem);
  const v = await run('openssl', ['req', '-in', path.join(dir, 'r.csr'), '-noout', '-verify']);
  assert.equal(v.code, 0, v.stderr);
  // Flip a byte inside the signature: the self-signature must no longer verify.
  const der = Buffer.from(csr.der);
  der[der.length - 5] = der[der.length - 5]! ^ 0xff;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(parseCertificateRequestPem(tampered), /signature does not verify|not a valid/);
});

test('an IPv4-mapped IPv6 SAN is the IPv4 address, in certificates and CSRs alike (Go encodes it in 4 bytes)', async () => {
  const kp = await generateKeyPair('ECDSA-P256');
  const csr = await createCertificateRequest({ subject: { commonName: 'n' }, sans: parseHosts(['::ffff:192.0.2.1', '::FFFF:c000:0202']), keyPair: kp });
  assert.deepEqual((await parseCertificateRequestPem(csr.pem)).sans.ipAddresses, ['192.0.2.1', '192.0.2.2']);
  const ca = await makeCa();
  const now = new Date();
  const leaf = await issueCertificate({
    template: { subject: { commonName: 'n' }, sans: parseHosts(['::ffff:10.0.0.7']), notBefore: now, notAfter: new Date(now.getTime() + HOUR), ...parseUsages(['digital signature', 'server auth']) },
    publicKey: kp.publicKey,
    issuer: ca,
  });
  assert.deepEqual(parseCertificatePem(leaf.pem).sans.ipAddresses, ['10.0.0.7']);
});
