import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_SIGNER_NAMES, signerTable } from '../../src/controllers/signer/signers/index.js';
import type { RequestSubject } from '../../src/controllers/kubelet-csr.js';
import { parseSpecRequest } from '../../src/controllers/csr.js';
import type { CertificateSigningRequest } from '../../src/apis/index.js';
import { NODE_SUBJECT, requestPem, sans } from './fixtures.js';
import type { DistinguishedName, SubjectAltNames } from '../../src/x509/index.js';

const CLIENT = 'kubernetes.io/kube-apiserver-client';
const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const SERVING = 'kubernetes.io/kubelet-serving';
const LEGACY = 'kubernetes.io/legacy-unknown';

/** The subject as the signer reads it from a real PKCS#10 request. */
async function subjectOf(dn: DistinguishedName, altNames: Partial<SubjectAltNames> = {}): Promise<RequestSubject> {
  const pem = await requestPem(dn, altNames);
  return parseSpecRequest({ spec: { request: Buffer.from(pem).toString('base64') } } as CertificateSigningRequest);
}

const SIGNERS = signerTable();
const check = (signer: string, req: RequestSubject, usages: string[]) => SIGNERS.get(signer)!.validate(req, usages);

test('the four kubernetes.io signers are mapped, and nothing else', () => {
  assert.deepEqual([...BUILTIN_SIGNER_NAMES].sort(), [CLIENT, KUBELET_CLIENT, SERVING, LEGACY].sort());
  assert.equal(SIGNERS.get('example.com/serving'), undefined);
  assert.deepEqual([...SIGNERS.keys()].sort(), [CLIENT, KUBELET_CLIENT, SERVING, LEGACY].sort());
});

test('kubelet client: accepts O=system:nodes, CN=system:node:<name>, no SANs, with or without key encipherment', async () => {
  const req = await subjectOf(NODE_SUBJECT('node-1'));
  assert.equal(check(KUBELET_CLIENT, req, ['digital signature', 'client auth']), null);
  assert.equal(check(KUBELET_CLIENT, req, ['digital signature', 'key encipherment', 'client auth']), null);
  assert.equal(check(KUBELET_CLIENT, req, ['client auth', 'digital signature', 'client auth']), null, 'usages compare as a set');
});

test('kubelet client: rejects each broken rule with kube\'s message', async () => {
  const usages = ['digital signature', 'client auth'];
  const cases: [DistinguishedName, Partial<SubjectAltNames>, string[], string][] = [
    [{ commonName: 'system:node:a', organization: ['system:masters'] }, {}, usages, 'subject organization is not system:nodes'],
    [{ commonName: 'system:node:a', organization: ['system:nodes', 'extra'] }, {}, usages, 'subject organization is not system:nodes'],
    [{ commonName: 'system:node:a' }, {}, usages, 'subject organization is not system:nodes'],
    [NODE_SUBJECT('a'), { dnsNames: ['a.example.com'] }, usages, 'DNS subjectAltNames are not allowed'],
    [NODE_SUBJECT('a'), { emailAddresses: ['a@example.com'] }, usages, 'Email subjectAltNames are not allowed'],
    [NODE_SUBJECT('a'), { ipAddresses: ['10.0.0.1'] }, usages, 'IP subjectAltNames are not allowed'],
    [NODE_SUBJECT('a'), { uris: ['spiffe://cluster/node/a'] }, usages, 'URI subjectAltNames are not allowed'],
    [{ commonName: 'node-a', organization: ['system:nodes'] }, {}, usages, 'subject common name does not begin with system:node:'],
    [NODE_SUBJECT('a'), {}, ['digital signature', 'server auth'], 'usages did not match [client auth digital signature key encipherment]'],
    [NODE_SUBJECT('a'), {}, ['digital signature', 'client auth', 'server auth'], 'usages did not match [client auth digital signature key encipherment]'],
    [NODE_SUBJECT('a'), {}, ['client auth'], 'usages did not match [client auth digital signature key encipherment]'],
  ];
  for (const [dn, alt, u, message] of cases) {
    assert.equal(check(KUBELET_CLIENT, await subjectOf(dn, alt), u), message, `${JSON.stringify(dn)} ${JSON.stringify(alt)} ${u}`);
  }
});

test('kubelet serving: accepts the node subject with DNS and/or IP SANs and server auth', async () => {
  for (const alt of [{ dnsNames: ['node-1'] }, { ipAddresses: ['10.0.0.7'] }, { dnsNames: ['node-1', 'node-1.example.com'], ipAddresses: ['10.0.0.7', 'fd00::7'] }]) {
    const req = await subjectOf(NODE_SUBJECT('node-1'), alt);
    assert.equal(check(SERVING, req, ['digital signature', 'server auth']), null);
    assert.equal(check(SERVING, req, ['key encipherment', 'digital signature', 'server auth']), null);
  }
});

test('kubelet serving: a client-auth usage, an email or URI SAN, no SAN, or a foreign subject is rejected', async () => {
  const good = ['digital signature', 'key encipherment', 'server auth'];
  const usageMsg = 'usages did not match [digital signature key encipherment server auth]';
  assert.equal(check(SERVING, await subjectOf(NODE_SUBJECT('n'), { dnsNames: ['n'] }), [...good, 'client auth']), usageMsg);
  assert.equal(check(SERVING, await subjectOf(NODE_SUBJECT('n'), { dnsNames: ['n'] }), ['digital signature', 'client auth']), usageMsg);
  assert.equal(check(SERVING, await subjectOf(NODE_SUBJECT('n'), { dnsNames: ['n'], emailAddresses: ['n@example.com'] }), good), 'Email subjectAltNames are not allowed');
  assert.equal(check(SERVING, await subjectOf(NODE_SUBJECT('n'), { ipAddresses: ['10.0.0.1'], uris: ['https://n'] }), good), 'URI subjectAltNames are not allowed');
  assert.equal(check(SERVING, await subjectOf(NODE_SUBJECT('n')), good), 'DNS or IP subjectAltName is required');
  assert.equal(check(SERVING, await subjectOf({ commonName: 'system:node:n', organization: ['acme'] }, { dnsNames: ['n'] }), good), 'subject organization is not system:nodes');
  assert.equal(check(SERVING, await subjectOf({ commonName: 'n', organization: ['system:nodes'] }, { dnsNames: ['n'] }), good), 'subject common name does not begin with system:node:');
});

test('kube-apiserver-client: client auth is required; only digital signature and key encipherment may join it', async () => {
  const req = await subjectOf({ commonName: 'jane', organization: ['dev'] }, { emailAddresses: ['jane@example.com'] });
  assert.equal(check(CLIENT, req, ['client auth']), null);
  assert.equal(check(CLIENT, req, ['digital signature', 'key encipherment', 'client auth']), null);
  assert.equal(check(CLIENT, req, ['digital signature']), 'missing required usage for client certificate: client auth');
  assert.equal(check(CLIENT, req, ['client auth', 'server auth']), 'invalid usage for client certificate: server auth');
  assert.equal(check(CLIENT, req, ['client auth', 'cert sign']), 'invalid usage for client certificate: cert sign');
});

test('legacy-unknown: no restrictions, as in kube', async () => {
  const req = await subjectOf({ commonName: 'anything' }, sans({ emailAddresses: ['x@y.z'] }));
  assert.equal(check(LEGACY, req, ['server auth', 'client auth', 'code signing']), null);
});
