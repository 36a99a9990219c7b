// How a reconcile ends, said explicitly (cert-manager's style) so no controller "logs and hopes":
//  - terminal:  this key is finished — the work was done, or a terminal failure was written to the object;
//  - waiting:   nothing to do until the object changes (a watch event will bring the key back), optionally
//               re-checked after a delay (e.g. a token that expires later);
//  - retryable: something failed that may work next time — requeued with per-item exponential backoff;
//  - ignorable: kube's IgnorableError — not acted on now (e.g. a SubjectAccessReview said no), requeued
//               with backoff like a retryable one but logged quietly, because it is usually user error.
export type Outcome =
  | { type: 'terminal'; reason: string }
  | { type: 'waiting'; reason: string; requeueAfterMs?: number }
  | { type: 'retryable'; error: Error }
  | { type: 'ignorable'; reason: string };

export const terminal = (reason: string): Outcome => ({ type: 'terminal', reason });
export const waiting = (reason: string, requeueAfterMs?: number): Outcome =>
  requeueAfterMs === undefined ? { type: 'waiting', reason } : { type: 'waiting', reason, requeueAfterMs };
export const retryable = (error: unknown): Outcome => ({ type: 'retryable', error: error instanceof Error ? error : new Error(String(error)) });
export const ignorable = (reason: string): Outcome => ({ type: 'ignorable', reason });
