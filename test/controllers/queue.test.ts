import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  WorkQueue,
} from '../../src/controllers/runtime/queue.js';
import { Controller } from '../../src/controllers/runtime/controller.js';
import { ignorable, retryable, terminal, waiting } from '../../src/controllers/runtime/outcome.js';
import { settle } from './fake-client.js';

test('per-item backoff doubles from 5 ms and stops at 1000 s; forget starts over', () => {
  const rl = new ItemExponentialFailureRateLimiter();
  const delays = Array.from({ length: 20 }, () => rl.when('a'));
  assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
  assert.equal(delays[17], 5 * 2 ** 17);
  assert.equal(delays[18], 1_000_000);
  assert.equal(delays[19], 1_000_000);
  assert.equal(rl.when('b'), 5, 'items back off independently');
  assert.equal(rl.numRequeues('a'), 20);
  rl.forget('a');
  assert.equal(rl.when('a'), 5);
});

test('the overall bucket allows a burst of 100, then 10 per second', () => {
  const clock = new FakeClock();
  const rl = new BucketRateLimiter(10, 100, clock);
  for (let i = 0; i < 100; i++) assert.equal(rl.when(), 0);
  assert.equal(rl.when(), 100);
  assert.equal(rl.when(), 200);
  clock.advance(300);
  assert.equal(rl.when(), 0, 'three tokens came back in 300 ms; two had been borrowed');
  assert.equal(rl.when(), 100);
});

test('the default controller limiter is the larger of both', () => {
  const clock = new FakeClock();
  const rl = defaultControllerRateLimiter(clock);
  assert.equal(rl.when('x'), 5);
  assert.equal(rl.when('x'), 10);
});

test('a key is queued once however often it is added, and a key being processed is re-queued after done', async () => {
  const q = new WorkQueue({ clock: new FakeClock() });
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.length, 2);
  const first = await q.get();
  assert.equal(first, 'a');
  q.add('a'); // changed while processing
  assert.equal(q.length, 1, 'not handed to a second worker meanwhile');
  assert.equal(await q.get(), 'b');
  q.done('a');
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
});

test('addAfter and addRateLimited wait on the injected clock', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('later', 1000);
  q.addRateLimited('retry'); // 5 ms
  q.addRateLimited('retry'); // re-added while a delayed add is pending: the earlier deadline wins
  assert.equal(q.length, 0);
  clock.advance(5);
  await settle();
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'retry');
  clock.advance(995);
  await settle();
  assert.equal(await q.get(), 'later');
  q.shutDown();
  assert.equal(await q.get(), undefined);
});

test('thousands of delayed keys share one timer and come out in deadline order', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  for (let i = 0; i < 2000; i++) q.addAfter(`k${i}`, 1000 + ((i * 7919) % 2000));
  q.addAfter('early', 10);
  assert.equal(clock.pendingSleeps, 1, 'one timer, re-armed for the earliest deadline');
  clock.advance(10);
  await settle();
  assert.equal(await q.get(), 'early');
  clock.advance(1000);
  await settle();
  assert.equal(q.length, 11, 'exactly the eleven keys due by 1010 ms');
  clock.advance(2000);
  await settle();
  assert.equal(q.length, 2000);
  assert.ok(clock.pendingSleeps <= 1);
});

test('a waiting worker is woken by add and released by shutDown', async () => {
  const q = new WorkQueue({ clock: new FakeClock() });
  const next = q.get();
  q.add('k');
  assert.equal(await next, 'k');
  const blocked = q.get();
  q.shutDown();
  assert.equal(await blocked, undefined);
  q.add('after');
  assert.equal(q.length, 0, 'nothing is queued after shutdown');
});

test('outcomes drive the queue: terminal and waiting forget, retryable and ignorable back off', async () => {
  const clock = new FakeClock();
  const results = new Map([
    ['t', terminal('done')],
    ['w', waiting('later', 50)],
    ['r', retryable(new Error('boom'))],
    ['i', ignorable('sar said no')],
  ]);
  const c = new Controller({ name: 'test', clock, reconcile: async (k) => results.get(k)! });
  for (const k of ['t', 'w', 'r', 'i']) await c.processOne(k);
  assert.equal(c.queue.numRequeues('t'), 0);
  assert.equal(c.queue.numRequeues('r'), 1);
  assert.equal(c.queue.numRequeues('i'), 1);
  clock.advance(5);
  await settle();
  assert.equal(c.queue.length, 2, 'r and i are back after 5 ms');
  clock.advance(45);
  await settle();
  assert.equal(c.queue.length, 3, 'w is back after its requeue delay');
  const thrown = new Controller({ name: 'throws', clock, reconcile: async () => Promise.reject(new Error('x')) });
  assert.equal((await thrown.processOne('k')).type, 'retryable');
});

test('N workers process keys concurrently and stop when the signal aborts', async () => {
  const clock = new FakeClock();
  let inFlight = 0;
  let maxInFlight = 0;
  const release: (() => void)[] = [];
  const c = new Controller({
    name: 'par',
    clock,
    workers: 3,
    reconcile: async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => release.push(r));
      inFlight--;
      return terminal('ok');
    },
  });
  const ac = new AbortController();
  const running = c.run(ac.signal);
  for (const k of ['a', 'b', 'c', 'd', 'e']) c.enqueue(k);
  await settle();
  assert.equal(maxInFlight, 3);
  while (release.length) {
    release.shift()!();
    await settle();
  }
  ac.abort();
  await running;
  assert.equal(inFlight, 0);
});
