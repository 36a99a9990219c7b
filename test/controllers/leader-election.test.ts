import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { LeaderElector, LeaseLock } from '../../src/controllers/runtime/leader-election.js';
import { RESOURCES } from '../../src/client/interface.js';
import { FakeKubeClient, settle } from './fake-client.js';
import type { Lease } from '../../src/apis/objects.js';
import { formatMicroTime } from '../../src/util/time.js';

function setup() {
  const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
  const client = new FakeKubeClient();
  const leases = client.resource<Lease>(RESOURCES.leases);
  const elector = (identity: string, hooks: { started?: (s: AbortSignal) => void; stopped?: () => void } = {}) =>
    new LeaderElector({
      lock: new LeaseLock(leases, 'kube-system', 'kube-controller-manager'),
      identity,
      clock,
      onStartedLeading: hooks.started ?? (() => undefined),
      ...(hooks.stopped ? { onStoppedLeading: hooks.stopped } : {}),
    });
  const lease = () => leases.get('kube-controller-manager', 'kube-system');
  return { clock, client, elector, lease };
}

test('the first candidate creates the Lease with holderIdentity, 15 s duration, acquire and renew times', async () => {
  const { elector, lease, clock } = setup();
  const a = elector('a');
  assert.equal(await a.tryAcquireOrRenew(), true);
  assert.equal(a.isLeader(), true);
  const l = await lease();
  assert.equal(l.spec.holderIdentity, 'a');
  assert.equal(l.spec.leaseDurationSeconds, 15);
  assert.equal(l.spec.leaseTransitions, 0);
  assert.equal(l.spec.acquireTime, formatMicroTime(clock.now()));
  assert.equal(l.spec.renewTime, '2026-01-01T00:00:00.000000Z');
});

test('a second candidate cannot take a lease that is being renewed', async () => {
  const { elector, clock } = setup();
  const a = elector('a');
  const b = elector('b');
  assert.equal(await a.tryAcquireOrRenew(), true);
  for (let i = 0; i < 10; i++) {
    assert.equal(await b.tryAcquireOrRenew(), false);
    clock.advance(2000);
    assert.equal(await a.tryAcquireOrRenew(), true, 'the holder renews');
  }
  assert.equal(b.leader, 'a');
});

test('renewing keeps acquireTime and leaseTransitions and moves renewTime', async () => {
  const { elector, clock, lease } = setup();
  const a = elector('a');
  await a.tryAcquireOrRenew();
  const first = await lease();
  clock.advance(2000);
  await a.tryAcquireOrRenew();
  const second = await lease();
  assert.equal(second.spec.acquireTime, first.spec.acquireTime);
  assert.equal(second.spec.leaseTransitions, 0);
  assert.equal(second.spec.renewTime, formatMicroTime(clock.now()));
});

test('an expired lease is taken over after leaseDuration of the candidate\'s own observation, counting a transition', async () => {
  const { elector, clock, lease } = setup();
  const a = elector('a');
  const b = elector('b');
  await a.tryAcquireOrRenew();
  assert.equal(await b.tryAcquireOrRenew(), false); // b first sees the record now
  clock.advance(14_999);
  assert.equal(await b.tryAcquireOrRenew(), false, 'not yet expired by b\'s clock');
  clock.advance(2);
  assert.equal(await b.tryAcquireOrRenew(), true);
  const l = await lease();
  assert.equal(l.spec.holderIdentity, 'b');
  assert.equal(l.spec.leaseTransitions, 1);
  assert.equal(l.spec.acquireTime, formatMicroTime(clock.now()));
  assert.equal(await a.tryAcquireOrRenew(), false, 'the old holder now sees b holding it');
  assert.equal(a.isLeader(), false);
});

test('a released lease (holder cleared) is taken at once by the next candidate', async () => {
  const { elector, lease } = setup();
  const a = elector('a');
  const b = elector('b');
  await a.tryAcquireOrRenew();
  assert.equal(await b.tryAcquireOrRenew(), false);
  assert.equal(await a.release(), true);
  const released = await lease();
  assert.equal(released.spec.holderIdentity, '');
  assert.equal(released.spec.leaseDurationSeconds, 1);
  assert.equal(await b.tryAcquireOrRenew(), true);
  assert.equal((await lease()).spec.leaseTransitions, 1);
});

test('two candidates racing for an absent lease: exactly one wins (create is compare-and-swap)', async () => {
  const { elector } = setup();
  const results = await Promise.all([elector('a').tryAcquireOrRenew(), elector('b').tryAcquireOrRenew()]);
  assert.deepEqual(results.sort(), [false, true]);
});

test('run(): leads until renewals fail for renewDeadline, then stops leading; abort releases the lease', async () => {
  const { elector, clock, client, lease } = setup();
  let started: AbortSignal | undefined;
  let stopped = 0;
  const a = elector('a', { started: (s) => (started = s), stopped: () => stopped++ });
  const ac = new AbortController();
  const running = a.run(ac.signal);
  await settle();
  assert.ok(started && !started.aborted, 'leading');
  // Renewals succeed every 2 s.
  for (let i = 0; i < 3; i++) {
    clock.advance(2000);
    await settle();
  }
  assert.equal(started!.aborted, false);
  // Now every write fails (the API server is unreachable): after 10 s without a renewal, leadership is lost.
  const failing = () => {
    for (let i = 0; i < 20; i++) client.failNextWrites.push(new Error('connection refused'));
  };
  failing();
  for (let i = 0; i < 4; i++) {
    clock.advance(2000);
    await settle();
  }
  assert.equal(started!.aborted, false, 'still within renewDeadline');
  clock.advance(2000);
  await settle();
  await running;
  assert.equal(started!.aborted, true);
  assert.equal(stopped, 1);
  client.failNextWrites.length = 0;

  // A new term; abort releases the lease.
  const b = elector('b');
  const ac2 = new AbortController();
  const running2 = b.run(ac2.signal);
  await settle();
  assert.equal((await lease()).spec.holderIdentity, 'a', 'b must first watch the stale lease for leaseDuration');
  for (let i = 0; i < 8; i++) {
    clock.advance(2500);
    await settle();
  }
  assert.equal((await lease()).spec.holderIdentity, 'b');
  ac2.abort();
  await running2;
  assert.equal((await lease()).spec.holderIdentity, '');
});

test('timing parameters must satisfy leaseDuration > renewDeadline > retryPeriod × 1.2', () => {
  const { client, clock } = setup();
  const lock = new LeaseLock(client.resource<Lease>(RESOURCES.leases), 'kube-system', 'x');
  assert.throws(() => new LeaderElector({ lock, identity: 'a', clock, leaseDurationMs: 10_000, renewDeadlineMs: 10_000, onStartedLeading: () => undefined }), /leaseDuration must be greater/);
  assert.throws(() => new LeaderElector({ lock, identity: 'a', clock, renewDeadlineMs: 2_000, retryPeriodMs: 2_000, onStartedLeading: () => undefined }), /renewDeadline must be greater/);
});
