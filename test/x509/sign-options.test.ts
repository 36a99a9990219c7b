import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair } from '../../src/x509/keys.js';
import { parseCertificateDer, type CertificateIssuer } from '../../src/x509/certificate.js';
import {
  backdatedValidity,
  basicConstraints,
  capAtIssuerExpiry,
  signCertificate,
  subject,
  usages,
  validity,
  withinIssuerValidity,
} from '../../src/x509/sign-options.js';
import { parseUsages } from '../../src/x509/usages.js';

const now = new Date('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const caUsageBits = parseUsages(['digital signature', 'key encipherment', 'cert sign']);

async function ca(ttlMs: number): Promise<CertificateIssuer> {
  const keyPair = await generateKeyPair('ECDSA-P256');
  const certificate = await signCertificate({
    publicKey: keyPair.publicKey,
    issuer: { selfSigned: keyPair },
    options: [subject({ commonName: 'ca' }), backdatedValidity({ now, ttlMs, backdateMs: 300_000 }), basicConstraints({ isCA: true }), usages(caUsageBits)],
  });
  return { certificate, privateKey: keyPair.privateKey };
}

test('modifiers apply in order, then validators check the finished template against the issuer', async () => {
  const issuer = await ca(10 * DAY);
  const key = (await generateKeyPair('ECDSA-P256')).publicKey;
  const leaf = { subject: subject({ commonName: 'leaf' }), usages: usages({ keyUsage: 1, extKeyUsages: ['1.3.6.1.5.5.7.3.2'] }) };
  // A later validity replaces an earlier one; the cap applies to the validity in force when it runs.
  const capped = await signCertificate({
    publicKey: key,
    issuer,
    options: [leaf.subject, validity({ notBefore: now, notAfter: new Date(now.getTime() + DAY) }), backdatedValidity({ now, ttlMs: 365 * DAY, backdateMs: 0 }), capAtIssuerExpiry(), withinIssuerValidity(), leaf.usages],
  });
  assert.equal(capped.notAfter.getTime(), issuer.certificate.notAfter.getTime());
  assert.equal(parseCertificateDer(capped.der).notAfter.getTime(), issuer.certificate.notAfter.getTime());
  // Without the cap the validator refuses; with neither (cfssl), the certificate may outlive its CA.
  await assert.rejects(
    signCertificate({ publicKey: key, issuer, options: [leaf.subject, backdatedValidity({ now, ttlMs: 365 * DAY, backdateMs: 0 }), withinIssuerValidity(), leaf.usages] }),
    /would outlive its CA/,
  );
  const outliving = await signCertificate({ publicKey: key, issuer, options: [leaf.subject, backdatedValidity({ now, ttlMs: 365 * DAY, backdateMs: 0 }), leaf.usages] });
  assert.ok(outliving.notAfter > issuer.certificate.notAfter);
});

test('a template without subject or validity, an inverted period and a year past 9999 are refused', async () => {
  const issuer = await ca(DAY);
  const key = (await generateKeyPair('ECDSA-P256')).publicKey;
  await assert.rejects(signCertificate({ publicKey: key, issuer, options: [subject({ commonName: 'x' })] }), /needs a subject and a validity period/);
  await assert.rejects(
    signCertificate({ publicKey: key, issuer, options: [subject({ commonName: 'x' }), validity({ notBefore: now, notAfter: new Date(now.getTime() - 1000) })] }),
    /expire before it becomes valid/,
  );
  await assert.rejects(
    signCertificate({ publicKey: key, issuer, options: [subject({ commonName: 'x' }), validity({ notBefore: now, notAfter: new Date(Date.UTC(10000, 0, 2)) })] }),
    /after the year 9999/,
  );
});
