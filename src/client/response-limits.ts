// Bounds on what an API server may send a client of kubepki (the agent, the CLI, the controllers): a hostile
// or broken server (an endless body, a body trickled a byte at a time, a watch line that never ends) ends in
// one clear error instead of unbounded memory or a request that never returns. client-go sets none of these
// (kubectl's --request-timeout defaults to none); a node agent that hangs for ever keeps its old certificate
// until it expires, so kubepki bounds them.
import { KubepkiError } from '../util/errors.js';

/** One response body (a list page, an object): far above the largest list kubepki serve writes (~20 MB for 5,000 CSRs). */
export const MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
/** One watch event line: an object is at most 1.5 MB in etcd (3 MB in a request), so 16 MB is never a real event. */
export const MAX_WATCH_LINE_BYTES = 16 * 1024 * 1024;
/** A request (not a watch) from its start to its response's last byte. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5 * 60_000;

export function responseTooLarge(what: string, limit: number): KubepkiError {
  return new KubepkiError('APIError', `${what}: the API server's response is larger than ${limit / (1024 * 1024)} MiB`);
}

export function requestTimedOut(what: string, ms: number): KubepkiError {
  return new KubepkiError('APIError', `${what}: no complete response from the API server within ${ms / 1000}s`);
}
