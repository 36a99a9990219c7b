import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipAddressBytes } from '../../src/x509/san.js';

const hex = (v: string) => Buffer.from(ipAddressBytes(v) ?? []).toString('hex');

test("an IP's bytes as Go's x509 writes them: IPv4 and IPv4-mapped in 4, IPv6 in 16, an embedded dotted quad as its last 4", () => {
  assert.equal(hex('10.0.0.1'), '0a000001');
  assert.equal(hex('::ffff:10.0.0.1'), '0a000001');
  assert.equal(hex('::1'), '00000000000000000000000000000001');
  assert.equal(hex('fd00::1:2'), 'fd000000000000000000000000010002');
  assert.equal(hex('0:0:0:0:0:0:0:1'), hex('::1'));
  // Node keeps the dotted form of an IPv4-compatible address; it stands for the last two groups.
  assert.equal(hex('::1.2.3.4'), '00000000000000000000000001020304');
  assert.equal(hex('64:ff9b::1.2.3.4'), '0064ff9b000000000000000001020304');
  assert.equal(ipAddressBytes('example.com'), null);
  assert.equal(ipAddressBytes('1.2.3'), null);
});
