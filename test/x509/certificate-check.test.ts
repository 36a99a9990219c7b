// checkCertificatesDer / checkCertificateParsesHere: what kube-apiserver checks of a CSR's status.certificate
// (x509.ParseCertificates on each PEM block), by the one certificate parser, without importing keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import * as der from '../../src/x509/der.js';
import { checkCertificatesDer, parseCertificateDer } from '../../src/x509/certificate-parser.js';
import { checkCertificateParsesHere } from '../../src/x509/signature-workers.js';

const NAME = der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.printableString('check-test'))));
const ECDSA_SHA256 = der.sequence(der.oid('1.2.840.10045.4.3.2'));

/** A self-signed v3 certificate for `spki` (signed by a throwaway EC key: the parse does not verify it). */
function certificate(spki: Buffer): Buffer {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integerFromHex('0a'),
    ECDSA_SHA256,
    NAME,
    der.sequence(der.time(new Date('2026-01-01T00:00:00Z')), der.time(new Date('2036-01-01T00:00:00Z'))),
    NAME,
    spki,
    der.explicit(3, der.sequence(der.sequence(der.oid('2.5.29.19'), der.boolean(true), der.octetString(der.sequence())))),
  );
  return der.sequence(tbs, ECDSA_SHA256, der.bitString(sign('sha256', tbs, signer)));
}

const ecSpki = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
const rsaSpki = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });

test('checkCertificatesDer counts the certificates of a block, concatenated as Go\'s ParseCertificates reads them', () => {
  const a = certificate(ecSpki());
  const b = certificate(rsaSpki());
  assert.equal(checkCertificatesDer(a), 1);
  assert.equal(checkCertificatesDer(Buffer.concat([a, b])), 2);
  assert.equal(checkCertificatesDer(new Uint8Array(0)), 0);
});

test('checkCertificatesDer refuses what parseCertificateDer refuses, with the same message, an EC point off its curve included', () => {
  const spki = ecSpki();
  const offCurve = Buffer.from(spki);
  offCurve[offCurve.length - 1]! ^= 1;
  const good = certificate(spki);
  const cases: [string, Uint8Array][] = [
    ['an EC point off the curve', certificate(offCurve)],
    ['a truncated certificate', good.subarray(0, good.length - 10)],
    ['not a SEQUENCE', Buffer.from([0x04, 0x01, 0x00])],
    ['an RSA key without NULL parameters', certificate(der.sequence(der.sequence(der.oid('1.2.840.113549.1.1.1')), der.bitString(der.sequence(der.integer(0x0b), der.integer(3)))))],
  ];
  for (const [name, bytes] of cases) {
    const expected = (() => {
      try {
        parseCertificateDer(bytes);
        return 'parses';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    assert.notEqual(expected, 'parses', name);
    assert.throws(() => checkCertificatesDer(bytes), (err: Error) => err.message === expected, name);
  }
  assert.throws(() => checkCertificatesDer(certificate(offCurve)), /x509: failed to unmarshal elliptic curve point/);
});

test('the status.certificate check rejects with Go\'s message, or kube\'s for a block without certificates', async () => {
  await checkCertificateParsesHere(certificate(ecSpki()));
  const offCurve = Buffer.from(ecSpki());
  offCurve[offCurve.length - 1]! ^= 1;
  await assert.rejects(checkCertificateParsesHere(certificate(offCurve)), { message: 'x509: failed to unmarshal elliptic curve point' });
  await assert.rejects(checkCertificateParsesHere(Buffer.from('junk')), { message: 'x509: malformed certificate' });
  await assert.rejects(checkCertificateParsesHere(new Uint8Array(0)), { message: 'found CERTIFICATE PEM block containing 0 certificates' });
});
