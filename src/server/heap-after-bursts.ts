// Gives a thread's heap back after a burst of allocation is over. The controllers' informers list every CSR at
// start (and again on a relist), then their queues take each one in: hundreds of MB allocated in seconds, then
// nothing. V8 collects the old generation only when allocation reaches its limit, so the last burst's garbage
// and the pages it grew stay committed while the thread idles (bench:memory, 100,000 CSRs: 103 MiB of heap used
// for 74 MiB live, 120 MiB committed; V8's memory reducer never ran), and the main thread that served the list
// keeps 46 MiB committed for 12 MiB used. Collecting once the heap has stopped growing returns it: ~45 MiB of RSS.
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export interface HeapAfterBurstsOptions {
  /** How often the heap is looked at. */
  intervalMs: number;
  /** Growth of the committed heap since the last collection (the start counts as nothing) that makes a burst worth collecting. */
  growthBytes: number;
  /** Change of the used heap between two looks under which the burst counts as over (the thread is quiet). */
  quietBytes: number;
  /**
   * Event-loop utilisation since the previous look (0..1) under which the thread counts as quiet. A busy thread's
   * used heap can sit at the same height at two looks by chance (a saw-tooth of scavenges); its loop cannot be idle.
   */
  quietUtilization: number;
  /** The heap now: used and committed (v8.getHeapStatistics by default). */
  heap?: () => HeapNow;
  /** A full collection (V8's gc(), twice, by default). */
  collect?: () => void;
}

export interface HeapNow {
  used: number;
  total: number;
  /** Event-loop utilisation since the previous look. */
  utilization: number;
}

/** serve's setting for each of its threads (the main thread and the controllers thread). */
export const SERVE_HEAP_AFTER_BURSTS = { intervalMs: 2000, growthBytes: 16 * 1024 * 1024, quietBytes: 2 * 1024 * 1024, quietUtilization: 0.25 } as const;

/**
 * Two full collections with V8's gc() function. Node gives it only with --expose-gc on the command line, which a
 * worker thread cannot take: the flag is set at run time, and only a context created after that has the
 * function. Twice, as V8's own last-resort collection does it several times: the first frees the garbage, the
 * second evacuates the pages it left sparse and gives them back (a 100 MiB heap with 25 MiB live: 86 MiB
 * committed after one, 64 MiB after two).
 */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** What one look at the heap decides (pure, for tests): the heap grew by growthBytes and is no longer moving. */
export function burstOver(state: { baseline: number; previousUsed: number }, now: HeapNow, o: Pick<HeapAfterBurstsOptions, 'growthBytes' | 'quietBytes' | 'quietUtilization'>): boolean {
  return now.total - state.baseline >= o.growthBytes && Math.abs(now.used - state.previousUsed) < o.quietBytes && now.utilization < o.quietUtilization;
}

/**
 * Looks at the heap every intervalMs and collects once a burst is over; returns the stop. A heap that stays
 * large because what it holds is live is collected once, then not again until it grows by growthBytes more;
 * a busy thread's used heap moves by more than quietBytes between looks, so it is left to V8.
 */
export function collectHeapAfterBursts(o: HeapAfterBurstsOptions): () => void {
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  const heap =
    o.heap ??
    ((): HeapNow => {
      const h = getHeapStatistics();
      const since = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      return { used: h.used_heap_size, total: h.total_heap_size, utilization: since.utilization };
    });
  let collect = o.collect;
  // The floor starts at nothing: the first quiet look collects (a thread that starts its work before this
  // starts looking, as serve's main thread serving the controllers' first list does, has already grown).
  const state = { baseline: 0, previousUsed: heap().used };
  const timer = setInterval(() => {
    const now = heap();
    if (burstOver(state, now, o)) {
      collect ??= exposedGc();
      collect();
      const after = heap();
      state.baseline = after.total;
      state.previousUsed = after.used;
      return;
    }
    // A heap that shrank by itself is the new floor.
    state.baseline = Math.min(state.baseline, now.total);
    state.previousUsed = now.used;
  }, o.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
