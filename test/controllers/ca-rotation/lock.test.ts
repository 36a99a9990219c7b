// The rotation lock's decision: free, released or expired leases are taken; a live holder on another host,
// or a live process on this one, is named in the refusal; a holder process that is gone (kill -9) on this
// host does not block the next run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAcquire, LOCK_LEASE_SECONDS } from '../../../src/controllers/ca-rotation/lock.js';
import { processExists } from '../../../src/util/process-exists.js';
import type { Lease } from '../../../src/apis/objects.js';

const me = { identity: 'cp-1_200_aa', host: 'cp-1', pid: 200 };
const now = new Date('2026-06-01T00:01:00Z');
const lease = (o: { holder?: string; host?: string; pid?: number; renewed?: string }): Lease => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'kubepki-ca-rotation', namespace: 'kube-system', annotations: { 'kubepki.io/holder-host': o.host ?? 'cp-2', 'kubepki.io/holder-pid': String(o.pid ?? 100) } },
  spec: { holderIdentity: o.holder ?? 'cp-2_100_bb', leaseDurationSeconds: LOCK_LEASE_SECONDS, acquireTime: '2026-06-01T00:00:00.000000Z', renewTime: o.renewed ?? '2026-06-01T00:00:55.000000Z' },
});
const alive = () => true;
const dead = () => false;

test('ca rotation lock: who may take it', () => {
  assert.deepEqual(decideAcquire(undefined, me, now, alive), { take: true, reason: 'free' });
  assert.equal(decideAcquire(lease({ holder: '' }), me, now, alive).take, true, 'released');
  assert.equal(decideAcquire(lease({ holder: me.identity }), me, now, alive).take, true, 'held by this run (renewal)');
  const held = decideAcquire(lease({}), me, now, alive);
  assert.equal(held.take, false);
  assert.match((held as { holder: string }).holder, /^cp-2 pid 100 \(cp-2_100_bb, since 2026-06-01T00:00:00\.000000Z, renewed 2026-06-01T00:00:55\.000000Z; if it died, the lock is free at 2026-06-01T00:01:25\.000Z\)$/);
  // Another host's holder: its process cannot be checked from here, so only expiry frees it.
  assert.equal(decideAcquire(lease({}), me, now, dead).take, false);
  assert.match(JSON.stringify(decideAcquire(lease({ renewed: '2026-06-01T00:00:30.000000Z' }), me, now, alive)), /"take":true.*expired/);
  assert.equal(decideAcquire(lease({ host: 'cp-1', pid: 150 }), me, now, alive).take, false, 'a live run on this host');
  assert.match(JSON.stringify(decideAcquire(lease({ host: 'cp-1', pid: 150 }), me, now, dead)), /"take":true.*pid 150 on this host\) is gone/);
  assert.equal(processExists(process.pid), true);
});
