// Small pieces shared by the storage backends (not part of the storage contract).
import type { Clock } from '../util/clock.js';
import { compacted, StorageError } from './errors.js';

export const storageClosed = () => new StorageError('Unavailable', 'storage is closed');

/**
 * The revision a read happens at: the latest when none is asked for; a compacted one fails; a future one
 * reads the latest (a local store has nothing newer to wait for).
 */
export function readRevision(requested: number | undefined, current: number, compactedRevision: number): number {
  if (requested === undefined || requested <= 0) return current;
  if (requested < compactedRevision) throw compacted(requested, compactedRevision);
  return Math.min(requested, current);
}

/** Runs `tick` every intervalMs of `clock` until the signal aborts; a failed tick is retried at the next one. */
export async function repeatEvery(clock: Clock, intervalMs: number, signal: AbortSignal, tick: () => Promise<void>): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return;
    }
    if (signal.aborted) return;
    try {
      await tick();
    } catch {
      // Compaction is housekeeping: reads and writes do not depend on one tick succeeding.
    }
  }
}
