// createCertificateRequest encodes requests itself (der.ts + Node's sign). These tests hold it to
// @peculiar/x509's generator, which built kubepki's requests before: for RSA (PKCS#1 v1.5 signatures are
// deterministic) the whole request is the same bytes; for ECDSA the signed part is, and the signature verifies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkCsrSignature,
  createCertificateRequest,
  generateKeyPair,
  signingAlgorithmFor,
  type DistinguishedName,
  type KeyAlgorithm,
  type KeyPair,
} from '../../src/x509/index.js';
import { canonicalIp, emptySans, type SubjectAltNames } from '../../src/x509/san.js';
import { toJsonName, toSigningKey, x509 } from '../helpers/peculiar.js';

async function reference(subject: DistinguishedName, sans: SubjectAltNames, keyPair: KeyPair, requestCA?: { maxPathLen?: number }): Promise<Uint8Array> {
  const names: x509.JsonGeneralNames = [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value: canonicalIp(value) ?? value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  const alg = signingAlgorithmFor(keyPair.privateKey);
  const spki = new Uint8Array(keyPair.publicKey.export({ type: 'spki', format: 'der' }));
  const publicKey = await x509.cryptoProvider.get().subtle.importKey('spki', spki, alg, true, ['verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: new x509.Name(toJsonName(subject)),
    keys: { privateKey: await toSigningKey(keyPair.privateKey), publicKey },
    signingAlgorithm: { name: alg.name, hash: alg.hash },
    extensions: [
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
      ...(requestCA ? [new x509.BasicConstraintsExtension(true, requestCA.maxPathLen, true)] : []),
    ],
  } as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]);
  return new Uint8Array(csr.rawData);
}

const CASES: { name: string; subject: DistinguishedName; sans: SubjectAltNames; requestCA?: { maxPathLen?: number } }[] = [
  {
    name: 'a node request with every SAN kind',
    subject: { commonName: 'system:node:worker-1', organization: ['system:nodes', 'b&c*'], organizationalUnit: ['ops'], country: ['DE'] },
    sans: { dnsNames: ['worker-1', '*.example.com'], ipAddresses: ['10.0.0.7', '0:0:0:0:0:0:0:1', '::ffff:c000:201'], emailAddresses: ['ops@example.com'], uris: ['spiffe://cluster.local/ns/a/sa/b'] },
  },
  { name: 'a request with no extension', subject: { commonName: 'José — ümlaut', organization: ['', 'x'] }, sans: emptySans() },
  { name: 'a CA request with a path length', subject: { commonName: 'ca' }, sans: emptySans(), requestCA: { maxPathLen: 1 } },
  { name: 'a CA request without a path length', subject: { commonName: 'ca' }, sans: { ...emptySans(), dnsNames: ['ca.example'] }, requestCA: {} },
];

/** certificationRequestInfo: the first element of the outer SEQUENCE. */
function infoOf(der: Uint8Array): Buffer {
  const b = Buffer.from(der);
  const outerHeader = b[1]! & 0x80 ? 2 + (b[1]! & 0x7f) : 2;
  const lenByte = b[outerHeader + 1]!;
  let len = lenByte;
  let header = 2;
  if (lenByte & 0x80) {
    len = 0;
    for (let i = 0; i < (lenByte & 0x7f); i++) len = len * 256 + b[outerHeader + 2 + i]!;
    header += lenByte & 0x7f;
  }
  return b.subarray(outerHeader, outerHeader + header + len);
}

for (const alg of ['RSA-2048', 'ECDSA-P256', 'ECDSA-P384'] as KeyAlgorithm[]) {
  test(`${alg}: requests equal @peculiar/x509's`, async () => {
    const keyPair = await generateKeyPair(alg);
    for (const c of CASES) {
      const ours = await createCertificateRequest({ subject: c.subject, sans: c.sans, keyPair, requestCA: c.requestCA });
      const ref = await reference(c.subject, c.sans, keyPair, c.requestCA);
      if (alg.startsWith('RSA')) assert.equal(Buffer.from(ours.der).toString('hex'), Buffer.from(ref).toString('hex'), c.name);
      else assert.equal(infoOf(ours.der).toString('hex'), infoOf(ref).toString('hex'), c.name);
      await checkCsrSignature(ours);
      assert.equal(ours.requestedIsCA, c.requestCA ? true : undefined, c.name);
    }
  });
}
