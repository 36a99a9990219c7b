// The one way a test waits for something to become true: poll a probe until it gives a value. The timeout
// only bounds a hang — the verdict is what the probe saw, never how fast — so defaults are generous enough
// for a busy 2-core CI machine running ten times slower than a laptop.

export interface PollOptions {
  /** Give up (throw) after this long; default 30 s. */
  timeoutMs?: number;
  /** Pause between probes; default 10 ms. Use more for probes that start a process (kubectl, openssl). */
  intervalMs?: number;
}

/**
 * Resolves with the first value `probe` gives that is neither `undefined` nor `false`; throws
 * "timed out waiting until <what>" after `timeoutMs`.
 */
export async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, options: PollOptions = {}): Promise<T> {
  const end = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10));
  }
}
