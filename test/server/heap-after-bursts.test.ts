// When serve's threads give their heap back after a burst (src/server/heap-after-bursts.ts): once the used heap
// has grown by the threshold and then stopped moving, one full collection; not while it still grows, not for
// small growth, and a real collection does shrink a heap full of garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { burstOver, collectHeapAfterBursts } from '../../src/server/heap-after-bursts.js';

const MiB = 1024 * 1024;
const o = { growthBytes: 32 * MiB, quietBytes: 2 * MiB };

test('a burst is over once the heap has grown by the threshold and stopped moving', () => {
  assert.equal(burstOver({ baseline: 10 * MiB, previous: 30 * MiB }, 60 * MiB, o), false, 'still growing');
  assert.equal(burstOver({ baseline: 10 * MiB, previous: 60 * MiB }, 61 * MiB, o), true, 'grown 51 MiB, quiet');
  assert.equal(burstOver({ baseline: 10 * MiB, previous: 30 * MiB }, 31 * MiB, o), false, 'quiet but grown only 21 MiB');
});

test('collects once after a burst, then waits for the next one', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const heap = [10, 30, 60, 61, 61, 61, 62, 100, 140, 141].map((m) => m * MiB);
  let i = 0;
  const collected: number[] = [];
  const stop = collectHeapAfterBursts({ ...o, intervalMs: 1000, heapUsed: () => heap[Math.min(i, heap.length - 1)]!, collect: () => collected.push(i) });
  // Start: baseline and previous read the first value (two reads).
  for (i = 1; i < heap.length; i++) t.mock.timers.tick(1000);
  stop();
  // 60 -> 61: over (collect at the look reading 61); after it the baseline is 61 MiB; 100, 140 grow; 141: over again.
  assert.deepEqual(collected, [3, 9]);
});

test('the default collection is V8 full GC: garbage left in the old generation goes', async () => {
  let keep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
  await new Promise((r) => setTimeout(r, 50));
  keep = [];
  const before = getHeapStatistics().used_heap_size;
  // Reported growth of 100 MiB, then quiet: the first look collects, with V8's own gc().
  let looks = 0;
  const stop = collectHeapAfterBursts({ intervalMs: 10, growthBytes: MiB, quietBytes: Number.MAX_SAFE_INTEGER, heapUsed: () => (looks++ < 2 ? 0 : 100 * MiB) });
  await new Promise((r) => setTimeout(r, 100));
  stop();
  const after = getHeapStatistics().used_heap_size;
  assert.ok(after < before - 5 * MiB, `${(before / MiB).toFixed(1)} MiB before, ${(after / MiB).toFixed(1)} after`);
  assert.equal(keep.length, 0);
});
