// The one clock. Anything time-dependent (validity, rotation, cleanup, expiry) takes a Clock so tests can
// inject a fake one instead of sleeping (client-go's `now func() time.Time`).

export interface Clock {
  now(): Date;
  /** Resolves after ms; a fake clock resolves when advanced past the deadline. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * setTimeout's longest delay (about 24.8 days); a longer one fires after 1 ms with a TimeoutOverflowWarning, so
 * a long sleep (a CSR cleaner retention of 720h, a certificate's expiry) waits in chunks of this.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      let t: NodeJS.Timeout;
      const arm = (left: number) => {
        const chunk = Math.min(left, MAX_TIMER_MS);
        t = setTimeout(() => {
          if (left > chunk) return arm(left - chunk);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, chunk);
      };
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason ?? new Error('aborted'));
      };
      arm(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/** A manually advanced clock for tests. */
export class FakeClock implements Clock {
  private t: number;
  private waiters: { at: number; resolve: () => void }[] = [];
  constructor(start: Date = new Date('2026-01-01T00:00:00Z')) {
    this.t = start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const waiter = { at: this.t + ms, resolve };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(signal.reason ?? new Error('aborted'));
        },
        { once: true },
      );
      this.fire();
    });
  }
  /** How many sleeps are waiting (tests wait for the code under test to go to sleep before advancing). */
  get pendingSleeps(): number {
    return this.waiters.length;
  }
  advance(ms: number): void {
    this.t += ms;
    this.fire();
  }
  set(d: Date): void {
    this.t = d.getTime();
    this.fire();
  }
  private fire(): void {
    const due = this.waiters.filter((w) => w.at <= this.t);
    this.waiters = this.waiters.filter((w) => w.at > this.t);
    for (const w of due) w.resolve();
  }
}
