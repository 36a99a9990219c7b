// Gives a thread's heap back after a burst of allocation is over. The controllers' informers list every CSR at
// start (and again on a relist), then their queues take each one in: hundreds of MB allocated in seconds, then
// nothing. V8 collects the old generation only when allocation reaches its limit, so the last burst's garbage
// and the pages it grew stay committed while the thread idles (bench:memory, 100,000 CSRs: 103 MiB of heap used
// for 74 MiB live, 120 MiB committed; V8's memory reducer never ran). One full collection once the heap has
// stopped growing returns it: about 30 MiB of RSS.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface HeapAfterBurstsOptions {
  /** How often the heap is looked at. */
  intervalMs: number;
  /** Growth of the used heap since the last collection (or the start) that makes a burst worth collecting. */
  growthBytes: number;
  /** Change between two looks under which the burst counts as over (the thread is quiet). */
  quietBytes: number;
  /** The used heap now (v8.getHeapStatistics by default). */
  heapUsed?: () => number;
  /** A full collection (V8's gc() by default). */
  collect?: () => void;
}

/**
 * V8's gc() function. Node gives it only with --expose-gc on the command line, which a worker thread cannot
 * take: the flag is set at run time, and only a context created after that has the function.
 */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** What one look at the heap decides (pure, for tests). */
export function burstOver(state: { baseline: number; previous: number }, used: number, o: Pick<HeapAfterBurstsOptions, 'growthBytes' | 'quietBytes'>): boolean {
  return used - state.baseline >= o.growthBytes && Math.abs(used - state.previous) < o.quietBytes;
}

/** Looks at the heap every intervalMs and collects once a burst is over; returns the stop. */
export function collectHeapAfterBursts(o: HeapAfterBurstsOptions): () => void {
  const heapUsed = o.heapUsed ?? (() => getHeapStatistics().used_heap_size);
  let collect = o.collect;
  const state = { baseline: heapUsed(), previous: heapUsed() };
  const timer = setInterval(() => {
    const used = heapUsed();
    if (burstOver(state, used, o)) {
      collect ??= exposedGc();
      collect();
      state.baseline = heapUsed();
      state.previous = state.baseline;
      return;
    }
    // A heap that shrank by itself (V8 collected) is the new floor.
    state.baseline = Math.min(state.baseline, used);
    state.previous = used;
  }, o.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
