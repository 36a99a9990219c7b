// issueCertificate encodes certificates itself (der.ts). These tests hold it to @peculiar/x509's generator,
// which issued kubepki's certificates before: same bytes for the same inputs (RSA PKCS#1 v1.5 signatures are
// deterministic, so whole certificates compare; ECDSA ones compare up to the signature), and the description
// it returns equals what parsing the DER gives back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { toJsonName, toSigningKey, x509 } from '../helpers/peculiar.js';
import {
  generateKeyPair,
  issueCertificate,
  parseCertificateDer,
  parseUsages,
  randomSerialNumber,
  signingAlgorithmFor,
  subjectKeyIdOf,
  type Certificate,
  type CertificateTemplate,
  type KeyAlgorithm,
  type KeyPair,
  type SignatureHash,
} from '../../src/x509/index.js';
import { canonicalIp, emptySans } from '../../src/x509/san.js';


/** The generator kubepki used before der.ts, kept here as the reference. */
async function reference(options: { template: CertificateTemplate; publicKey: KeyObject; issuer: { certificate: Certificate; privateKey: KeyObject } | { selfSigned: KeyPair }; signatureHash?: SignatureHash }): Promise<Uint8Array> {
  const { template, publicKey, issuer, signatureHash } = options;
  const selfSigned = 'selfSigned' in issuer;
  const signerKey = selfSigned ? issuer.selfSigned.privateKey : issuer.privateKey;
  const ski = subjectKeyIdOf(publicKey);
  const aki = selfSigned ? '' : issuer.certificate.subjectKeyId;
  const exts: x509.Extension[] = [];
  if (template.keyUsage !== 0) exts.push(new x509.KeyUsagesExtension(template.keyUsage as x509.KeyUsageFlags, true));
  if (template.extKeyUsages.length > 0) exts.push(new x509.ExtendedKeyUsageExtension(template.extKeyUsages, false));
  exts.push(new x509.BasicConstraintsExtension(template.isCA === true, template.isCA ? template.maxPathLen : undefined, true));
  exts.push(new x509.SubjectKeyIdentifierExtension(ski, false));
  if (!template.omitAuthorityKeyId) exts.push(new x509.AuthorityKeyIdentifierExtension(aki || ski, false));
  const sans = template.sans ?? emptySans();
  const names: x509.JsonGeneralNames = [
    ...sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...sans.emailAddresses.map((value) => ({ type: 'email' as const, value })),
    ...sans.ipAddresses.map((value) => ({ type: 'ip' as const, value: canonicalIp(value) ?? value })),
    ...sans.uris.map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
  const alg = signingAlgorithmFor(signerKey, signatureHash);
  const subject = new x509.Name(toJsonName(template.subject));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: template.serialNumber!,
    subject,
    issuer: selfSigned ? subject : new x509.Name(issuer.certificate.rawSubject),
    notBefore: template.notBefore,
    notAfter: template.notAfter,
    publicKey: new x509.PublicKey(new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))),
    signingKey: (await toSigningKey(signerKey, signatureHash)) as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[0] extends { signingKey: infer K } ? K : never,
    signingAlgorithm: { name: alg.name, hash: alg.hash } as unknown as { name: string },
    extensions: exts,
  });
  return new Uint8Array(cert.rawData);
}

/** The TBSCertificate: the first element of the outer SEQUENCE. */
function tbsOf(der: Uint8Array): Buffer {
  const b = Buffer.from(der);
  const skip = (off: number) => (b[off + 1]! & 0x80 ? 2 + (b[off + 1]! & 0x7f) : 2);
  const start = skip(0);
  const lenByte = b[start + 1]!;
  let len = lenByte;
  let hdr = 2;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + 2 + i]!;
    hdr += n;
  }
  return b.subarray(start, start + hdr + len);
}

function comparable(c: Certificate) {
  return { ...c, publicKey: c.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'), der: Buffer.from(c.der).toString('hex'), rawSubject: Buffer.from(c.rawSubject).toString('hex'), rawIssuer: Buffer.from(c.rawIssuer).toString('hex') };
}

const HOUR = 3_600_000;

for (const alg of ['RSA-2048', 'ECDSA-P256', 'ECDSA-P384'] as KeyAlgorithm[]) {
  test(`${alg}: issued certificates equal @peculiar/x509's and describe themselves as parsing them does`, async () => {
    const caKeys = await generateKeyPair(alg);
    const leafKeys = await generateKeyPair(alg);
    const t0 = new Date('2026-04-01T10:20:30.456Z');
    const caTemplate: CertificateTemplate = {
      subject: { commonName: 'kubernetes', organization: ['kubepki', ''], country: ['DE'] },
      sans: { ...emptySans(), dnsNames: ['kubernetes'] },
      notBefore: t0,
      notAfter: new Date('2051-01-01T00:00:00Z'), // GeneralizedTime from 2050
      isCA: true,
      maxPathLen: 0,
      serialNumber: randomSerialNumber(),
      ...parseUsages(['digital signature', 'key encipherment', 'cert sign']),
    };
    const ca = await issueCertificate({ template: caTemplate, publicKey: caKeys.publicKey, issuer: { selfSigned: caKeys } });
    const caRef = await reference({ template: caTemplate, publicKey: caKeys.publicKey, issuer: { selfSigned: caKeys } });

    const leafTemplates: CertificateTemplate[] = [
      {
        subject: { commonName: 'system:node:worker-1', organization: ['system:nodes', 'b&c*'], organizationalUnit: ['ops'] },
        sans: { dnsNames: ['worker-1', '*.example.com'], ipAddresses: ['10.0.0.7', '0:0:0:0:0:0:0:1', 'fd00::10:96:0:1'], emailAddresses: ['ops@example.com'], uris: ['spiffe://cluster.local/ns/a/sa/b'] },
        notBefore: t0,
        notAfter: new Date(t0.getTime() + 24 * HOUR),
        serialNumber: 'ff' + randomSerialNumber().slice(2), // a serial with the top bit set gets a 00 prefix
        ...parseUsages(['digital signature', 'key encipherment', 'server auth', 'client auth']),
      },
      {
        subject: { commonName: 'José — ümlaut' },
        notBefore: t0,
        notAfter: new Date(t0.getTime() + HOUR),
        serialNumber: randomSerialNumber(),
        omitAuthorityKeyId: true,
        keyUsage: 0,
        extKeyUsages: [],
      },
    ];
    const pairs: [Certificate, Uint8Array][] = [[ca, caRef]];
    for (const template of leafTemplates) {
      const issuer = { certificate: ca, privateKey: caKeys.privateKey };
      pairs.push([await issueCertificate({ template, publicKey: leafKeys.publicKey, issuer }), await reference({ template, publicKey: leafKeys.publicKey, issuer })]);
    }
    if (alg === 'RSA-2048') {
      const template = { ...leafTemplates[0]!, serialNumber: randomSerialNumber() };
      const issuer = { certificate: ca, privateKey: caKeys.privateKey };
      pairs.push([await issueCertificate({ template, publicKey: leafKeys.publicKey, issuer, signatureHash: 'SHA-384' }), await reference({ template, publicKey: leafKeys.publicKey, issuer, signatureHash: 'SHA-384' })]);
    }
    for (const [ours, ref] of pairs) {
      if (alg.startsWith('RSA')) assert.equal(Buffer.from(ours.der).toString('hex'), Buffer.from(ref).toString('hex'), `${ours.subject.commonName}: same DER`);
      else assert.equal(tbsOf(ours.der).toString('hex'), tbsOf(ref).toString('hex'), `${ours.subject.commonName}: same TBSCertificate`);
      assert.deepEqual(comparable(ours), comparable(parseCertificateDer(ours.der)), `${ours.subject.commonName}: description = parse`);
    }
  });
}
