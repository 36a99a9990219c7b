// When serve's threads give their heap back after a burst (src/server/heap-after-bursts.ts): once the committed
// heap has grown by the threshold and the used heap stopped moving, one collection; not while it still moves,
// not for small growth, and the real collection does shrink a heap full of garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { burstOver, collectHeapAfterBursts } from '../../src/server/heap-after-bursts.js';

const MiB = 1024 * 1024;
const o = { growthBytes: 16 * MiB, quietBytes: 2 * MiB, quietUtilization: 0.25 };

test('a burst is over once the committed heap has grown by the threshold and the used heap stopped moving', () => {
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 30 * MiB }, { used: 40 * MiB, total: 60 * MiB, utilization: 0 }, o), false, 'still moving');
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 40 * MiB }, { used: 41 * MiB, total: 60 * MiB, utilization: 0.05 }, o), true, 'grown 40 MiB, quiet');
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 12 * MiB }, { used: 12 * MiB, total: 30 * MiB, utilization: 0 }, o), false, 'quiet but grown only 10 MiB');
  assert.equal(burstOver({ baseline: 20 * MiB, previousUsed: 40 * MiB }, { used: 41 * MiB, total: 60 * MiB, utilization: 0.9 }, o), false, 'same height by chance, but the loop is busy');
});

test('collects at the first quiet look, not again for a heap that stays large, again after the next burst', (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  // [used, total] in MiB at each look (the first is read at start).
  const looks = [[10, 20], [30, 40], [40, 50], [40.5, 50], [38, 45], [38, 45], [38.5, 45], [60, 70], [60.2, 70]].map(([u, c]) => ({ used: u! * MiB, total: c! * MiB, utilization: 0 }));
  let i = 0;
  const collected: number[] = [];
  const stop = collectHeapAfterBursts({ ...o, intervalMs: 1000, heap: () => looks[Math.min(i, looks.length - 1)]!, collect: () => collected.push(i) });
  for (i = 1; i < looks.length; i++) t.mock.timers.tick(1000);
  stop();
  // Looks 1-2 move; look 3 is the first quiet one (the start counts as 0 MiB committed). After it the floor is look 3's 50 MiB committed (the collection read again):
  // looks 4-6 shrink or hold, no collection; look 7 moves; look 8 is quiet with 20 MiB more than the 45 MiB floor.
  assert.deepEqual(collected, [3, 8]);
});

test('the default collection is V8 full GC: an object only weakly held is gone after it', async () => {
  let garbage: { payload: number[] } | undefined = { payload: Array.from({ length: 100_000 }, (_, i) => i) };
  const weak = new WeakRef(garbage);
  garbage = undefined;
  // A WeakRef's target is kept until the end of the current job: let one pass before the collection.
  await new Promise((r) => setImmediate(r));
  let looks = 0;
  const keepAlive = setTimeout(() => undefined, 5_000);
  await new Promise<void>((resolve) => {
    // A reported burst (committed +100 MiB, quiet): the second look collects, with V8's own gc().
    const stop = collectHeapAfterBursts({
      intervalMs: 10,
      growthBytes: MiB,
      quietBytes: Number.MAX_SAFE_INTEGER,
      quietUtilization: 1.01,
      heap: () => {
        if (looks++ === 2) {
          stop();
          resolve();
        }
        return looks < 2 ? { used: 0, total: 0, utilization: 0 } : { used: 0, total: 100 * MiB, utilization: 0 };
      },
    });
  });
  clearTimeout(keepAlive);
  assert.equal(weak.deref(), undefined, 'the full collection freed the unreachable object');
});

test("the default sampler reads the event loop's utilisation: the look right after a busy stretch does not collect, the next quiet one does", async () => {
  let collectedAt = 0;
  const collected = new Promise<void>((resolve) => {
    const stop = collectHeapAfterBursts({
      intervalMs: 50,
      growthBytes: 0,
      quietBytes: Number.MAX_SAFE_INTEGER,
      quietUtilization: 0.25,
      collect: () => {
        collectedAt = performance.now();
        stop();
        resolve();
      },
    });
  });
  const keepAlive = setTimeout(() => undefined, 5_000);
  const busyUntil = performance.now() + 300;
  while (performance.now() < busyUntil) {
    // the thread is busy: the interval's look is overdue and sees a loop that was ~100% utilised
  }
  await collected;
  clearTimeout(keepAlive);
  assert.ok(collectedAt - busyUntil >= 40, `collected ${(collectedAt - busyUntil).toFixed(0)} ms after the busy stretch (the overdue look must not collect)`);
});
