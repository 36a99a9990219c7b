import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FakeClock } from '../../src/util/clock.js';
import { privateKeyToPem } from '../../src/x509/index.js';
import { BACKDATE_MS, certificateTtl, DEFAULT_SIGNING_DURATION_MS, validityWindow } from '../../src/controllers/signer/policy.js';
import { loadSigningAuthority, resolveSigningFiles } from '../../src/controllers/signer/ca.js';
import { tempDir } from '../helpers/tmp.js';
import { testCA } from './fixtures.js';

const H = 3_600_000;
const MIN = 60_000;

test('TTL is the signing duration, or spec.expirationSeconds when shorter, never under 10 minutes', () => {
  assert.equal(DEFAULT_SIGNING_DURATION_MS, 8760 * H);
  assert.equal(certificateTtl(8760 * H), 8760 * H);
  assert.equal(certificateTtl(8760 * H, 3600), H);
  assert.equal(certificateTtl(H, 86_400), H, 'a request cannot outlast --cluster-signing-duration');
  assert.equal(certificateTtl(8760 * H, 60), 10 * MIN, 'floor of twice the backdate');
  assert.equal(certificateTtl(40_000), 40_000, '--cluster-signing-duration=40s is honoured as is');
});

test('a long certificate is backdated 5 minutes at both ends, so it still lives exactly TTL', () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00Z'));
  const now = clock.now();
  const v = validityWindow({ now, ttlMs: 8760 * H, caNotAfter: new Date('2040-01-01T00:00:00Z') });
  assert.equal(v.notBefore.getTime(), now.getTime() - BACKDATE_MS);
  assert.equal(BACKDATE_MS, 5 * MIN);
  assert.equal(v.notAfter.getTime(), now.getTime() + 8760 * H - 5 * MIN);
  assert.equal(v.notAfter.getTime() - v.notBefore.getTime(), 8760 * H);
});

test('a short certificate (under 8 h) keeps its full TTL after now: only notBefore is backdated', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const v = validityWindow({ now, ttlMs: H, caNotAfter: new Date('2040-01-01T00:00:00Z') });
  assert.equal(v.notBefore.getTime(), now.getTime() - 5 * MIN);
  assert.equal(v.notAfter.getTime(), now.getTime() + H);
  const v40 = validityWindow({ now, ttlMs: 40_000, caNotAfter: new Date('2040-01-01T00:00:00Z') });
  assert.equal(v40.notAfter.getTime(), now.getTime() + 40_000);
});

test('a certificate never outlives its CA; an expired CA signs nothing', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const caNotAfter = new Date('2026-03-02T00:00:00Z');
  assert.equal(validityWindow({ now, ttlMs: 8760 * H, caNotAfter }).notAfter.getTime(), caNotAfter.getTime());
  assert.throws(() => validityWindow({ now: new Date('2026-03-02T00:00:00Z'), ttlMs: H, caNotAfter }), /refusing to sign a certificate that expired in the past/);
  assert.throws(() => validityWindow({ now: new Date('2026-03-02T00:06:00Z'), ttlMs: H, caNotAfter }), /the signer has expired/);
});

async function writePair(dir: string, name: string, certPem: string, keyPem: string) {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  await writeFile(certFile, certPem);
  await writeFile(keyFile, keyPem);
  return { certFile, keyFile };
}

test('a signing certificate file that is a bundle is refused at start with the CA rotation advice', async (t) => {
  const dir = await tempDir(t);
  const a = await testCA('ECDSA-P256');
  const b = await testCA('ECDSA-P256', { commonName: 'new-ca' });
  const files = await writePair(dir, 'ca', a.certificate.pem + b.certificate.pem, privateKeyToPem(a.privateKey));
  await assert.rejects(loadSigningAuthority(files), (err: Error) => {
    assert.match(err.message, /--cluster-signing-cert-file .*ca\.crt holds a bundle of 2 certificates/);
    assert.match(err.message, /copy the new CA certificate into a file of its own/);
    return true;
  });
});

test('a key that does not belong to the certificate, or a non-CA certificate, is refused', async (t) => {
  const dir = await tempDir(t);
  const a = await testCA('ECDSA-P256');
  const b = await testCA('RSA-2048');
  await assert.rejects(loadSigningAuthority(await writePair(dir, 'mismatch', a.certificate.pem, privateKeyToPem(b.privateKey))), /does not belong to the certificate/);
  await assert.rejects(loadSigningAuthority({ certFile: path.join(dir, 'missing.crt'), keyFile: path.join(dir, 'missing.key') }), /cannot read/);
  const ok = await loadSigningAuthority(await writePair(dir, 'good', a.certificate.pem, privateKeyToPem(a.privateKey)));
  assert.equal(ok.certificate.subject.commonName, 'kubernetes');
});

test('default signing files serve every signer; per-signer files serve only theirs; mixing both is refused', () => {
  const all = resolveSigningFiles({ default: { certFile: 'ca.crt', keyFile: 'ca.key' } });
  assert.equal(all.size, 4);
  assert.equal(all.get('kubernetes.io/kubelet-serving')!.certFile, 'ca.crt');
  const per = resolveSigningFiles({ kubeletServing: { certFile: 's.crt', keyFile: 's.key' }, kubeletClient: { certFile: 'c.crt', keyFile: 'c.key' } });
  assert.deepEqual([...per.keys()].sort(), ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']);
  assert.equal(per.get('kubernetes.io/kubelet-serving')!.certFlag, '--cluster-signing-kubelet-serving-cert-file');
  assert.throws(() => resolveSigningFiles({ default: { certFile: 'a', keyFile: 'b' }, legacyUnknown: { certFile: 'c', keyFile: 'd' } }), /cannot specify default and per controller certs at the same time/);
  assert.throws(() => resolveSigningFiles({ default: { certFile: 'a' } }), /--cluster-signing-cert-file and --cluster-signing-key-file must be given together/);
  assert.equal(resolveSigningFiles({}).size, 0);
});
