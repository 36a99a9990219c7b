// Reads at a resourceVersion newer than the store has seen: kube's watch cache waits for it a little
// (waitUntilFreshAndBlock, 3 s) and then answers 504 "Too large resource version" with the cause
// ResourceVersionTooLarge and Retry-After 1, so that a client that read from another, fresher server
// retries rather than getting older data than it has already seen.
import { ApiError } from '../../apis/status.js';
import type { HandlerEnv } from './scope.js';

const POLL_MS = 25;

export function tooLargeResourceVersion(wanted: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

/** Resolves once the store's revision reaches `rv` (a decimal resourceVersion); 504 after the wait. */
export async function waitForResourceVersion(env: HandlerEnv, rv: string | null): Promise<void> {
  if (!rv || !/^\d+$/.test(rv) || rv === '0') return; // "" and "0" mean any; a malformed one is the store's 400
  const wanted = Number(rv);
  const deadline = Date.now() + env.tooLargeResourceVersionWaitMs;
  for (;;) {
    const current = await env.storage.currentRevision();
    if (current >= wanted) return;
    if (Date.now() >= deadline) throw tooLargeResourceVersion(wanted, current);
    await new Promise((r) => setTimeout(r, Math.min(POLL_MS, Math.max(1, deadline - Date.now()))));
  }
}
