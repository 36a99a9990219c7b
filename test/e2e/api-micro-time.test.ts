// A Lease from a Go typed client arrives as protobuf (kube-controller-manager's leader election): its
// MicroTime fields are Timestamps, which must come out in RFC3339Micro form even when the nanoseconds are zero,
// or the JSON decoding that follows (Go's MicroTime layout) refuses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobufBody } from '../../src/api/protobuf.js';
import { decodeObject } from '../../src/api/body.js';
import { leases } from '../../src/resources/leases.js';
import type { ObjectSchema } from '../../src/api/schema.js';

const varint = (n: bigint) => {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v > 127n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
};
const bytesField = (n: number, payload: Buffer | string) => {
  const b = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint(BigInt((n << 3) | 2)), varint(BigInt(b.length)), b]);
};
const intField = (n: number, v: bigint) => Buffer.concat([varint(BigInt(n << 3)), varint(v)]);
const timestamp = (iso: string, nanos: number) => Buffer.concat([intField(1, BigInt(Date.parse(iso) / 1000)), ...(nanos ? [intField(2, BigInt(nanos))] : [])]);

test('a protobuf Lease decodes its MicroTimes with six digits, zero nanoseconds included, and passes the JSON decoding', () => {
  const spec = Buffer.concat([
    bytesField(1, 'kube-controller-manager_abc'),
    intField(2, 15n),
    bytesField(3, timestamp('2026-01-02T03:04:05Z', 0)),
    bytesField(4, timestamp('2026-01-02T03:04:06Z', 123_456_789)),
  ]);
  const lease = Buffer.concat([bytesField(1, Buffer.concat([bytesField(1, 'kube-controller-manager'), bytesField(3, 'kube-system')])), bytesField(2, spec)]);
  const envelope = Buffer.concat([Buffer.from('k8s\0', 'binary'), bytesField(1, Buffer.concat([bytesField(1, 'coordination.k8s.io/v1'), bytesField(2, 'Lease')])), bytesField(2, lease)]);
  const schema = leases.schema as ObjectSchema;
  const decoded = decodeObject<{ spec: Record<string, unknown> }>(decodeProtobufBody(envelope, schema), schema, 'Lease', 'v1', 'Strict').object;
  assert.deepEqual(decoded.spec, {
    holderIdentity: 'kube-controller-manager_abc',
    leaseDurationSeconds: 15,
    acquireTime: '2026-01-02T03:04:05.000000Z',
    renewTime: '2026-01-02T03:04:06.123456Z',
  });
});
