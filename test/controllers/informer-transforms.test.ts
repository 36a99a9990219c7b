import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compactForCache, shareRepeatedStrings, trimManagedFields } from '../../src/controllers/runtime/informer-transforms.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';

const csr = (name: string): CertificateSigningRequest => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: {
    name,
    uid: `uid-${name}`,
    resourceVersion: '7',
    labels: { status: 'kept-as-is' },
    managedFields: [{ manager: 'kubelet', operation: 'Update', apiVersion: 'certificates.k8s.io/v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:request': {} } } }],
  },
  spec: {
    request: 'LS0tLS1CRUdJTi',
    signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
    usages: ['digital signature', 'client auth'],
    username: 'system:node:a',
    groups: ['system:nodes', 'system:authenticated'],
  },
  status: {
    conditions: [{ type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.', lastUpdateTime: '2026-01-01T00:00:00Z' }],
    certificate: 'LS0tLS1CRUdJTiBDRVJU',
  },
});

test('trimManagedFields drops metadata.managedFields only, leaving the input as it was', () => {
  const input = csr('a');
  const before = structuredClone(input);
  const out = trimManagedFields(input);
  assert.ok(!('managedFields' in out.metadata));
  const { managedFields: _m, ...meta } = before.metadata;
  assert.deepEqual(out, { ...before, metadata: meta });
  assert.deepEqual(input, before);
  const bare = { metadata: { name: 'x' } };
  assert.equal(trimManagedFields(bare), bare);
});

test('shareRepeatedStrings and compactForCache change no value: the cached object equals the served one (minus managedFields)', () => {
  for (const name of ['a', 'b', 'c']) {
    const served = csr(name);
    const expected = structuredClone(served);
    assert.deepEqual(shareRepeatedStrings(structuredClone(served)), expected);
    const { managedFields: _m, ...meta } = expected.metadata;
    assert.deepEqual(compactForCache(served), { ...expected, metadata: meta });
  }
  // Long values and values of other fields pass through.
  const long = 'x'.repeat(10_000);
  assert.deepEqual(shareRepeatedStrings({ metadata: { name: 'n' }, data: { message: long }, message: long } as never), { metadata: { name: 'n' }, data: { message: long }, message: long });
});
