// When serve's threads give their heap back after a burst (src/server/heap-after-bursts.ts): once the committed
// heap has grown by the threshold and the used heap stopped moving, one collection; not while it still moves,
// not for small growth, and the real collection does shrink a heap full of garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { burstOver, collectHeapAfterBursts } from '../../src/server/heap-after-bursts.js';

const MiB = 1024 * 1024;
const o = { growthBytes: 16 * MiB, quietBytes: 2 * MiB };

test('a burst is over once the committed heap has grown by the threshold and the used heap stopped moving', () => {
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 30 * MiB }, { used: 40 * MiB, total: 60 * MiB }, o), false, 'still moving');
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 40 * MiB }, { used: 41 * MiB, total: 60 * MiB }, o), true, 'grown 40 MiB, quiet');
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 12 * MiB }, { used: 12 * MiB, total: 30 * MiB }, o), false, 'quiet but grown only 10 MiB');
});

test('collects at the first quiet look, not again for a heap that stays large, again after the next burst', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  // [used, total] in MiB at each look (the first is read at start).
  const looks = [[10, 20], [30, 40], [40, 50], [40.5, 50], [38, 45], [38, 45], [38.5, 45], [60, 70], [60.2, 70]].map(([u, c]) => ({ used: u! * MiB, total: c! * MiB }));
  let i = 0;
  const collected: number[] = [];
  const stop = collectHeapAfterBursts({ ...o, intervalMs: 1000, heap: () => looks[Math.min(i, looks.length - 1)]!, collect: () => collected.push(i) });
  for (i = 1; i < looks.length; i++) t.mock.timers.tick(1000);
  stop();
  // Looks 1-2 move; look 3 is the first quiet one (the start counts as 0 MiB committed). After it the floor is look 3's 50 MiB committed (the collection read again):
  // looks 4-6 shrink or hold, no collection; look 7 moves; look 8 is quiet with 20 MiB more than the 45 MiB floor.
  assert.deepEqual(collected, [3, 8]);
});

test('the default collection is V8 full GC: garbage left in the old generation goes', async () => {
  let keep: unknown[] = [];
  for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
  await new Promise((r) => setTimeout(r, 50));
  keep = [];
  const before = getHeapStatistics().used_heap_size;
  // A reported burst (committed +100 MiB, quiet): the first look collects, with V8's own gc().
  let looks = 0;
  const stop = collectHeapAfterBursts({ intervalMs: 10, growthBytes: MiB, quietBytes: Number.MAX_SAFE_INTEGER, heap: () => (looks++ < 1 ? { used: 0, total: 0 } : { used: 0, total: 100 * MiB }) });
  await new Promise((r) => setTimeout(r, 100));
  stop();
  const after = getHeapStatistics().used_heap_size;
  assert.ok(after < before - 5 * MiB, `${(before / MiB).toFixed(1)} MiB before, ${(after / MiB).toFixed(1)} after`);
  assert.equal(keep.length, 0);
});
