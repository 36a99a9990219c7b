// The CA rotation's state machine: phases in order, finished steps skipped (resume after a crash), a later
// phase refused while an earlier one has steps left, and the new material checked before it is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STEPS, describePlan, pendingSteps, phaseOf, type RotationState } from '../../../src/cluster/ca-rotation/plan.js';
import { generateRotationMaterial, rotatedCommonName } from '../../../src/cluster/ca-rotation/material.js';
import { generateKeyPair, privateKeyToPem, publicKeyToPem } from '../../../src/x509/keys.js';
import { issueCertificate, isSignedBy, parseCertificatePem } from '../../../src/x509/certificate.js';
import { caUsages } from '../../../src/cluster/certlist.js';

const at = '2026-01-01T00:00:00.000Z';
const stateWith = (names: string[]): RotationState => ({ startedAt: at, steps: Object.fromEntries(names.map((n) => [n, { finishedAt: at }])) });

test('ca rotation plan: phases in order, finished steps skipped, a later phase refused early', () => {
  assert.equal(phaseOf(undefined), 'none');
  assert.deepEqual(pendingSteps(undefined, 'prepare').map((s) => s.name), ['generate', 'trust-files', 'trust-live', 'kubeconfigs', 'publish']);
  // Killed after trust-files: the run goes on with trust-live.
  const resumed = stateWith(['generate', 'trust-files']);
  assert.equal(phaseOf(resumed), 'prepare');
  assert.deepEqual(pendingSteps(resumed, 'all').map((s) => s.name)[0], 'trust-live');
  assert.throws(() => pendingSteps(resumed, 'switch'), /cannot run --phase switch: phase prepare is not finished \(next step: trust-live\)/);
  const prepared = stateWith(STEPS.filter((s) => s.phase === 'prepare').map((s) => s.name));
  assert.equal(phaseOf(prepared), 'switch');
  assert.deepEqual(pendingSteps(prepared, 'prepare'), []);
  assert.match(describePlan(prepared, 'prepare'), /nothing to do/);
  assert.match(describePlan(prepared, 'all'), /^1\. \[switch\] signing-ca: /);
  assert.equal(phaseOf(stateWith(STEPS.map((s) => s.name))), 'done');
});

async function ca(cn: string, notAfter: Date) {
  const kp = await generateKeyPair('ECDSA-P256');
  const cert = await issueCertificate({ template: { subject: { commonName: cn }, notBefore: new Date('2025-01-01T00:00:00Z'), notAfter, isCA: true, ...caUsages() }, publicKey: kp.publicKey, issuer: { selfSigned: kp } });
  return { certPem: cert.pem, keyPem: privateKeyToPem(kp.privateKey), pub: publicKeyToPem(kp.publicKey) };
}

test('ca rotation material: new CAs cross-signed by the old; refused for a foreign key or an expired CA', async () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const old = await ca('kubernetes', new Date('2030-01-01T00:00:00Z'));
  const fp = await ca('front-proxy-ca', new Date('2030-01-01T00:00:00Z'));
  const m = await generateRotationMaterial({ ca: old, frontProxyCA: fp, serviceAccountPub: old.pub }, now);
  const newCA = parseCertificatePem(m.newCA);
  const cross = parseCertificatePem(m.crossSignedCA);
  assert.equal(newCA.subject.commonName, rotatedCommonName('kubernetes', now));
  assert.ok(isSignedBy(newCA, newCA));
  assert.ok(isSignedBy(cross, parseCertificatePem(old.certPem)), 'the cross-certificate is issued by the old CA');
  assert.ok(cross.publicKey.equals(newCA.publicKey));
  assert.ok(cross.notAfter <= parseCertificatePem(old.certPem).notAfter);
  const other = await ca('kubernetes', new Date('2030-01-01T00:00:00Z'));
  await assert.rejects(generateRotationMaterial({ ca: { certPem: old.certPem, keyPem: other.keyPem }, frontProxyCA: fp, serviceAccountPub: old.pub }, now), /ca\.key does not belong to ca\.crt/);
  const expired = await ca('kubernetes', new Date('2026-02-01T00:00:00Z'));
  await assert.rejects(generateRotationMaterial({ ca: expired, frontProxyCA: fp, serviceAccountPub: old.pub }, now), /ca\.crt expired on 2026-02-01/);
  assert.equal(rotatedCommonName('kubernetes@123', now), `kubernetes@${now.getTime() / 1000}`);
});
