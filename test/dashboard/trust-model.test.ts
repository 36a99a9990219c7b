// The dashboard's trust model, pure: CAs as subject+key (a cross-signed CA is one CA certified twice),
// issuers found by signature, node certificates from CSRs, the old CA in a rotation, and nothing but
// certificates taken from Secrets.
import { customCaBundleSha256 } from '../../src/cluster/custom-ca-trust.js';
import { ANNOTATION_APPLIED_AT, ANNOTATION_APPLIED_COUNT, ANNOTATION_APPLIED_SHA256, ANNOTATION_ERROR, ANNOTATION_ERROR_SINCE } from '../../src/apis/custom-ca-trust.js';
import type { Lease } from '../../src/apis/objects.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, privateKeyToPem, type KeyPair } from '../../src/x509/keys.js';
import { issueCertificate, type Certificate } from '../../src/x509/certificate.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../../src/x509/usages.js';
import { TrustModel } from '../../src/dashboard/trust-model.js';
import type { CertificateSigningRequest, Secret } from '../../src/apis/index.js';

const DAY = 86_400_000;
const now = new Date('2026-12-05T12:00:00Z');
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function ca(cn: string, key: KeyPair, issuer?: { certificate: Certificate; privateKey: KeyPair['privateKey'] }, notBefore = now): Promise<Certificate> {
  return issueCertificate({
    template: { subject: { commonName: cn }, notBefore, notAfter: new Date(now.getTime() + 3650 * DAY), isCA: true, keyUsage: KEY_USAGE_BITS['cert sign'], extKeyUsages: [] },
    publicKey: key.publicKey,
    issuer: issuer ?? { selfSigned: key },
    allowOutlivingIssuer: true,
  });
}

async function leaf(cn: string, key: KeyPair, issuer: { certificate: Certificate; privateKey: KeyPair['privateKey'] }): Promise<Certificate> {
  return issueCertificate({
    template: { subject: { commonName: cn }, notBefore: now, notAfter: new Date(now.getTime() + 365 * DAY), keyUsage: KEY_USAGE_BITS['digital signature'], extKeyUsages: [EXT_KEY_USAGE_OIDS['client auth']] },
    publicKey: key.publicKey,
    issuer,
  });
}

const nodeCsr = (name: string, cert: Certificate): CertificateSigningRequest => ({
  metadata: { name, creationTimestamp: now.toISOString() },
  spec: { request: '', signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['client auth'], username: 'system:node:n1' },
  status: { conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved' }], certificate: b64(cert.pem) },
});

test('a cross-signed CA is one CA with two issuers; its leaves chain to it; Secrets give only certificates', async () => {
  const [rootKey, interKey, leafKey] = await Promise.all([generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256')]);
  const root = await ca('root-a', rootKey);
  const interSelf = await ca('ca-b', interKey);
  const interCross = await ca('ca-b', interKey, { certificate: root, privateKey: rootKey.privateKey });
  const web = await leaf('web', leafKey, { certificate: interSelf, privateKey: interKey.privateKey });
  const secret: Secret = {
    metadata: { name: 'web', namespace: 'default' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(web.pem + interCross.pem), 'tls.key': b64(privateKeyToPem(leafKey.privateKey)), 'ca.crt': b64(root.pem + interSelf.pem), password: b64('hunter2') },
  };
  const snap = new TrustModel().build({ now, identity: 'me', server: 'https://x', csrs: [], secrets: [secret], configMaps: [], files: [], errors: {} });
  const json = JSON.stringify(snap);
  assert.doesNotMatch(json, /PRIVATE KEY|hunter2|aHVudGVyMg/);
  assert.equal(snap.cas.length, 2, 'root-a and ca-b (two certificates, one CA)');
  const b = snap.cas.find((c) => c.subject === 'CN=ca-b')!;
  const a = snap.cas.find((c) => c.subject === 'CN=root-a')!;
  assert.equal(b.certs.length, 2);
  assert.equal(b.crossSigned, true);
  assert.deepEqual(b.signedBy, [a.id]);
  assert.equal(a.crossSigned, false);
  const webView = snap.certs.find((c) => c.commonName === 'web')!;
  assert.equal(webView.issuerCa, b.id);
  assert.deepEqual(webView.uses.map((u) => u.where), ['Secret default/web (tls.crt)']);
});

test('during a CA rotation the old CA is marked, and a node still on it is listed', async () => {
  const [oldKey, newKey, n1Key, n2Key] = await Promise.all([generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256')]);
  const oldCa = await ca('kubernetes', oldKey, undefined, new Date(now.getTime() - 400 * DAY));
  const newCa = await ca('kubernetes', newKey);
  const n1 = await leaf('system:node:n1', n1Key, { certificate: oldCa, privateKey: oldKey.privateKey });
  const n2 = await leaf('system:node:n2', n2Key, { certificate: newCa, privateKey: newKey.privateKey });
  const snap = new TrustModel().build({
    now,
    identity: 'me',
    server: 'https://x',
    clusterCaPem: oldCa.pem + newCa.pem,
    csrs: [nodeCsr('n1-client', n1), nodeCsr('n2-client', n2)],
    secrets: [],
    configMaps: [],
    files: [],
    errors: {},
  });
  assert.deepEqual(snap.cas.map((c) => c.rotation).sort(), ['current', 'old']);
  assert.deepEqual(
    snap.nodes.map((n) => [n.name, n.onCurrentCa, n.customTrust]),
    [
      ['n1', false, 'not enabled'],
      ['n2', true, 'not enabled'],
    ],
  );
  assert.deepEqual(snap.rotation.onOldCa, ['node n1']);
  assert.equal(snap.rotation.phase, 'none');
  assert.equal(snap.csrs.find((c) => c.name === 'n1-client')!.state, 'Issued');
});

test('the CA rotation state comes from `kubepki ca rotate`\'s Secret, and only its state.json is read', async () => {
  const { rotationFromSecrets } = await import('../../src/dashboard/rotation.js');
  const key = await generateKeyPair('ECDSA-P256');
  const state = { startedAt: '2026-12-05T10:00:00Z', steps: { 'trust-files': { finishedAt: '2026-12-05T10:00:02Z' }, generate: { finishedAt: '2026-12-05T10:00:01Z' } } };
  const secret: Secret = {
    metadata: { name: 'kubepki-ca-rotation', namespace: 'kube-system' },
    type: 'kubepki.io/ca-rotation',
    data: { 'state.json': b64(JSON.stringify(state)), newCAKey: b64(privateKeyToPem(key.privateKey)) },
  };
  const rotation = rotationFromSecrets([secret])!;
  assert.equal(rotation.phase, 'prepare (in progress)');
  // Every step of the rotation's plan, in order, the finished ones with their times, the rest still to come.
  assert.deepEqual(rotation.steps.slice(0, 4).map((s) => [s.name, s.done, s.time ?? null]), [
    ['started', true, '2026-12-05T10:00:00Z'],
    ['prepare: generate', true, '2026-12-05T10:00:01Z'],
    ['prepare: trust-files', true, '2026-12-05T10:00:02Z'],
    ['prepare: trust-live', false, null],
  ]);
  assert.deepEqual(rotation.steps.at(-1), { name: 'complete: verify', done: false });
  const snap = new TrustModel().build({ now, identity: 'me', server: 'https://x', csrs: [], secrets: [secret], configMaps: [], files: [], rotation, errors: {} });
  assert.equal(snap.rotation.source, 'Secret kube-system/kubepki-ca-rotation');
  assert.doesNotMatch(JSON.stringify(snap), /PRIVATE KEY/);
  assert.equal(rotationFromSecrets([]), undefined);
  const done = rotationFromSecrets([{ ...secret, data: { 'state.json': b64(JSON.stringify({ ...state, completedAt: '2026-12-05T11:00:00Z' })) } }])!;
  assert.equal(done.phase, 'complete');
});

test('each node shows its custom CA trust report (the <node>-custom-ca-trust Lease) against the current Secret', async () => {
  const [caKey, n1Key, n2Key] = await Promise.all([generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256'), generateKeyPair('ECDSA-P256')]);
  const root = await ca('kubernetes', caKey);
  const n1 = await leaf('system:node:n1', n1Key, { certificate: root, privateKey: caKey.privateKey });
  const n2 = await leaf('system:node:n2', n2Key, { certificate: root, privateKey: caKey.privateKey });
  const emptySet = customCaBundleSha256([]);
  const lease = (node: string, annotations: Record<string, string>) =>
    ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `${node}-custom-ca-trust`, namespace: 'kube-node-lease', annotations } }) as Lease;
  const snap = new TrustModel().build({
    now,
    identity: 'me',
    server: 'https://x',
    clusterCaPem: root.pem,
    csrs: [nodeCsr('n1-client', n1), nodeCsr('n2-client', n2)],
    secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'custom-ca-trust-secret', namespace: 'kube-system' }, data: {} }],
    configMaps: [],
    leases: [
      lease('n1', { [ANNOTATION_APPLIED_SHA256]: emptySet, [ANNOTATION_APPLIED_COUNT]: '0', [ANNOTATION_APPLIED_AT]: '2026-01-01T00:00:00Z' }),
      lease('n2', { [ANNOTATION_APPLIED_SHA256]: 'f'.repeat(64), [ANNOTATION_ERROR]: 'update-ca-certificates exited 1', [ANNOTATION_ERROR_SINCE]: '2026-01-02T00:00:00Z' }),
    ],
    files: [],
    errors: {},
  });
  assert.deepEqual(
    snap.nodes.map((n) => [n.name, n.customTrust]),
    [
      ['n1', 'in sync (0 CAs since 2026-01-01T00:00:00Z)'],
      ['n2', 'error since 2026-01-02T00:00:00Z: update-ca-certificates exited 1'],
    ],
  );
});

test('what does not parse is reported, not dropped: a bad block of a bundle, a text with no certificate, an issued certificate that is garbage', async () => {
  const key = await generateKeyPair('ECDSA-P256');
  const good = await ca('good-ca', key);
  const garbage = '-----BEGIN CERTIFICATE-----\nMIIBAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n';
  const secrets: Secret[] = [
    { metadata: { name: 'bundle', namespace: 'default' }, type: 'Opaque', data: { 'ca.crt': b64(good.pem + garbage) } },
    { metadata: { name: 'text', namespace: 'default' }, type: 'Opaque', data: { 'tls.crt': b64('<script>not a certificate</script>') } },
    { metadata: { name: 'same-garbage', namespace: 'kube-system' }, type: 'Opaque', data: { 'tls.crt': b64(garbage) } },
  ];
  const csr: CertificateSigningRequest = { ...nodeCsr('issued-garbage', good), status: { conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved' }], certificate: b64(garbage) } };
  const snap = new TrustModel().build({ now, identity: 'me', server: 'https://x', csrs: [csr], secrets, configMaps: [], files: [], errors: {} });
  assert.deepEqual(snap.certs.map((c) => c.commonName), ['good-ca'], 'the good certificate of the bundle is kept');
  assert.equal(snap.unreadable.length, 2, 'one entry per distinct unreadable content');
  const bad = snap.unreadable.find((u) => u.uses.length === 3)!;
  assert.deepEqual(bad.uses.map((u) => u.where), ['Secret default/bundle (ca.crt)', 'Secret kube-system/same-garbage (tls.crt)', 'CSR issued-garbage (status.certificate)']);
  assert.match(bad.error, /./);
  const text = snap.unreadable.find((u) => u !== bad)!;
  assert.deepEqual(text.uses.map((u) => u.where), ['Secret default/text (tls.crt)']);
  assert.match(text.error, /no PEM data|no CERTIFICATE block/);
  const view = snap.csrs.find((c) => c.name === 'issued-garbage')!;
  assert.equal(view.certificate, undefined);
  assert.equal(view.certificateError, bad.error);
});

test('a malformed CSR from a hostile or broken API server (missing spec, wrong types) is shown as far as it goes, and the rest still builds', async () => {
  const key = await generateKeyPair('ECDSA-P256');
  const good = await ca('good-ca', key);
  const broken = [
    { metadata: { name: 'no-spec' } },
    { metadata: { name: 'wrong-types', creationTimestamp: 42 }, spec: { request: 7, signerName: ['x'], username: { a: 1 }, groups: 'g', usages: [1, 'client auth'], extra: { k: 'v' } }, status: { conditions: 'nope' } },
  ] as unknown as CertificateSigningRequest[];
  const snap = new TrustModel().build({ now, identity: 'me', server: 'https://x', csrs: [...broken, nodeCsr('fine', good)], secrets: [], configMaps: [], files: [], errors: {} });
  assert.deepEqual(snap.csrs.map((c) => [c.name, c.state, c.subject]), [
    ['no-spec', 'Pending', '(unreadable request)'],
    ['wrong-types', 'Pending', '(unreadable request)'],
    ['fine', 'Issued', '(unreadable request)'],
  ]);
  const w = snap.csrs[1]!;
  assert.deepEqual([w.signerName, w.requestor, w.groups, w.usages, w.created, w.extra], ['', '', [], ['1', 'client auth'], '', { k: [] }]);
  assert.deepEqual(snap.certs.map((c) => c.commonName), ['good-ca'], 'the well-formed CSR still gives its certificate');
});
