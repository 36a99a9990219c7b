// The rotation state object: the new private keys are sealed under the old CA key (no key readable by whoever
// reads the Secret), unseal with that key only, and a sealed value altered or moved to another field, a key in
// clear, or a public half swapped for another CA's is refused; replicas count as caught up only once they applied every recorded step of this rotation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateRotationMaterial } from '../../../src/cluster/ca-rotation/material.js';
import { decodeState, encodeNewState, SECRET_KEYS, unsealKeys } from '../../../src/cluster/ca-rotation/state.js';
import { caughtUp, lastRecordedStep, parseReplica, APPLIED_ANNOTATION, URL_ANNOTATION } from '../../../src/cluster/ca-rotation/replicas.js';
import type { RotationState } from '../../../src/cluster/ca-rotation/plan.js';
import { caUsages } from '../../../src/cluster/certlist.js';
import { generateKeyPair, privateKeyToPem, publicKeyToPem } from '../../../src/x509/keys.js';
import { issueCertificate } from '../../../src/x509/certificate.js';

async function ca(cn: string) {
  const kp = await generateKeyPair('ECDSA-P256');
  const cert = await issueCertificate({ template: { subject: { commonName: cn }, notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2030-01-01T00:00:00Z'), isCA: true, ...caUsages() }, publicKey: kp.publicKey, issuer: { selfSigned: kp } });
  return { certPem: cert.pem, keyPem: privateKeyToPem(kp.privateKey), pub: publicKeyToPem(kp.publicKey) };
}

const at = '2026-06-01T00:00:00.000Z';

test('rotation state: the new keys are sealed under the old CA key and unseal with it alone', async () => {
  const old = await ca('kubernetes');
  const m = await generateRotationMaterial({ ca: old, frontProxyCA: await ca('front-proxy-ca'), serviceAccountPub: old.pub }, new Date(at));
  const state: RotationState = { startedAt: at, steps: { generate: { finishedAt: at } } };
  const data = encodeNewState(state, m, old.keyPem);
  for (const [k, v] of Object.entries(data)) assert.doesNotMatch(Buffer.from(v, 'base64').toString('latin1'), /PRIVATE KEY/, `${k} holds no clear private key`);
  const decoded = decodeState(data);
  assert.deepEqual(decoded.state, state);
  assert.equal(decoded.material.newCA, m.newCA);
  assert.equal(decoded.material.newCAKey, '', 'keys stay sealed until asked for');
  assert.ok(decoded.hasKeys);
  assert.deepEqual(unsealKeys(data, m, old.keyPem), { newCAKey: m.newCAKey, newFrontProxyCAKey: m.newFrontProxyCAKey, newServiceAccountKey: m.newServiceAccountKey });

  const other = await ca('kubernetes');
  assert.throws(() => unsealKeys(data, m, other.keyPem), /does not belong to the rotation's old CA/);
  // Another CA's key claimed as the old one (its own certificate given): the seal does not open.
  assert.throws(() => unsealKeys(data, { ...m, oldCA: other.certPem }, other.keyPem), /newCAKey does not unseal/);
  const tampered = Buffer.from(data['newCAKey']!, 'base64');
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => unsealKeys({ ...data, newCAKey: tampered.toString('base64') }, m, old.keyPem), /newCAKey does not unseal \(altered/);
  assert.throws(() => unsealKeys({ ...data, newCAKey: data['newServiceAccountKey']! }, m, old.keyPem), /newCAKey does not unseal/, 'a sealed value moved to another field');
  // A key in clear (someone writing the Secret without the old CA key) is refused, not taken.
  assert.throws(() => unsealKeys({ ...data, newCAKey: Buffer.from(m.newCAKey).toString('base64') }, m, old.keyPem), /newCAKey is not sealed/);
  // The public half in clear swapped for another CA: the sealed key does not belong to it.
  const swapped = await ca('kubernetes');
  assert.throws(() => unsealKeys(data, { ...m, newCA: swapped.certPem }, old.keyPem), /sealed newCAKey does not belong to newCA/);
  assert.throws(() => unsealKeys(data, { ...m, newServiceAccountPub: swapped.pub }, old.keyPem), /sealed newServiceAccountKey does not belong to newServiceAccountPub/);
  const done = { ...data };
  for (const k of SECRET_KEYS) delete done[k];
  assert.equal(decodeState(done).hasKeys, false);
  assert.throws(() => unsealKeys(done, m, old.keyPem), /no longer holds newCAKey/);
  assert.throws(() => decodeState({ 'state.json': Buffer.from('{').toString('base64') }), /state\.json is not JSON/);
});

test('rotation replicas: live by their lease, caught up once every recorded step of this rotation is applied', () => {
  const now = new Date('2026-06-01T00:01:00Z');
  const lease = (renewTime: string, applied?: string) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'kubepki-apiserver-x', annotations: { [URL_ANNOTATION]: 'https://127.0.0.1:6443', ...(applied ? { [APPLIED_ANNOTATION]: applied } : {}) } },
    spec: { renewTime, leaseDurationSeconds: 40 },
  });
  assert.equal(parseReplica(lease('2026-06-01T00:00:30.000000Z'), now).live, true);
  assert.equal(parseReplica(lease('2026-06-01T00:00:10.000000Z'), now).live, false, '50 s without renewal');
  const state: RotationState = { startedAt: at, steps: { generate: { finishedAt: at }, 'trust-files': { finishedAt: at } } };
  assert.equal(lastRecordedStep(state), 'trust-files');
  assert.equal(caughtUp(parseReplica(lease('2026-06-01T00:00:30Z'), now), state), false, 'nothing applied');
  assert.equal(caughtUp(parseReplica(lease('2026-06-01T00:00:30Z', `${at} generate`), now), state), false, 'one step behind');
  assert.equal(caughtUp(parseReplica(lease('2026-06-01T00:00:30Z', `${at} trust-files`), now), state), true);
  assert.equal(caughtUp(parseReplica(lease('2026-06-01T00:00:30Z', `${at} publish`), now), state), true, 'ahead counts as caught up');
  assert.equal(caughtUp(parseReplica(lease('2026-06-01T00:00:30Z', '2025-01-01T00:00:00.000Z verify'), now), state), false, 'a previous rotation');
  assert.equal(parseReplica(lease('2026-06-01T00:00:30Z'), now).url, 'https://127.0.0.1:6443');
});
