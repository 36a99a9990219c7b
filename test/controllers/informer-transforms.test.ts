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

test('equal usages and groups arrays become one frozen array, equal timestamps one string; a write to a shared array throws', () => {
  const [a, b] = [compactForCache(csr('a')), compactForCache(csr('b'))];
  assert.equal(a.spec.usages, b.spec.usages);
  assert.equal(a.spec.groups, b.spec.groups);
  assert.ok(Object.isFrozen(a.spec.usages));
  assert.deepEqual(a.spec.usages, ['digital signature', 'client auth']);
  assert.throws(() => (a.spec.usages as string[]).push('server auth'), TypeError);
  // Compacting an object again (its arrays already shared) changes nothing and does not throw.
  assert.deepEqual(compactForCache(structuredClone(a)), a);
  assert.equal(shareRepeatedStrings(a), a);
  // A deep copy (what a handler writes) is not frozen.
  const copy = structuredClone(a);
  copy.spec.usages!.push('server auth');
  assert.equal(copy.spec.usages!.length, 3);
  // Arrays of other things are walked, not shared.
  const other = shareRepeatedStrings({ metadata: { name: 'n' }, status: [{ type: 'x' }] } as never) as unknown as { status: { type: string }[] };
  assert.ok(!Object.isFrozen(other.status));
});
