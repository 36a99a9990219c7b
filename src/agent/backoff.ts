// Jittered exponential backoff (k8s.io/apimachinery wait.Backoff as client-go's certificate manager uses it),
// with an injectable random source so tests can pin the delays.

export interface BackoffOptions {
  /** First delay. client-go: 2 s. */
  initialMs?: number;
  /** client-go: 2. */
  factor?: number;
  /** Each delay is lengthened by up to this fraction, at random. client-go: 0.1. */
  jitter?: number;
  /** Delays stop growing here. client-go polls every 32 s once its five steps are spent. */
  capMs?: number;
}

/** Jittered exponential backoff: 2, 4, 8, 16, 32, 32 … seconds (each + up to 10 %), as client-go waits. */
export class Backoff {
  private delay: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly capMs: number;
  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.delay = options.initialMs ?? 2000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.1;
    this.capMs = options.capMs ?? 32_000;
  }
  next(): number {
    const base = Math.min(this.delay, this.capMs);
    this.delay = Math.min(this.delay * this.factor, this.capMs);
    return base * (1 + this.jitter * this.random());
  }
}

