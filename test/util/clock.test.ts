import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/util/clock.js';

test('systemClock.sleep beyond setTimeout\'s 24.8-day limit waits (no 1 ms TimeoutOverflowWarning firing) and still aborts', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    const ac = new AbortController();
    let settled = 'pending';
    const slept = systemClock.sleep(30 * 24 * 3600 * 1000, ac.signal).then(
      () => (settled = 'resolved'),
      () => (settled = 'aborted'),
    );
    // An overflowing setTimeout warns on the next tick and is re-armed at 1 ms. Node fires timers in order of
    // expiry, so once a 2 ms timer armed after it has fired, an overflowed one has fired too: this is the
    // event that decides, not a guess at how long to wait.
    await new Promise((r) => setTimeout(r, 2));
    assert.deepEqual(warnings, []);
    assert.equal(settled, 'pending');
    ac.abort();
    await slept;
    assert.equal(settled, 'aborted');
  } finally {
    process.off('warning', onWarning);
  }
});

test('systemClock.sleep resolves after a short delay', async () => {
  const t0 = Date.now();
  await systemClock.sleep(30);
  assert.ok(Date.now() - t0 >= 25);
});
