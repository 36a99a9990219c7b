// The agent's list+watch loop for small selections (client-go's reflector, reduced): list, hand the items
// over, watch from the list's resourceVersion until the server ends the watch after `resyncMs` (that is the
// periodic re-read), then list again; a failed list or watch is retried with backoff, and a server that
// refuses to watch is polled every `resyncMs`.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { describeApiError, statusCodeOf } from './csr-client.js';

export interface ListWatchOptions<T> {
  /** Names what is followed, in log lines. */
  what: string;
  kubeConfig: () => KubeConfig;
  path: string;
  query: Record<string, string>;
  list(kc: KubeConfig, query: Record<string, string>): Promise<{ items: T[]; resourceVersion?: string | undefined }>;
  onList(items: T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  resyncMs: number;
  clock: Clock;
  logger: Logger;
  backoff?: BackoffOptions;
  signal: AbortSignal;
}

export async function listWatchLoop<T>(o: ListWatchOptions<T>): Promise<void> {
  const fresh = () => new Backoff(o.backoff ?? { initialMs: 1000, capMs: 30_000 });
  let failures = fresh();
  while (!o.signal.aborted) {
    const kc = o.kubeConfig();
    let rv: string | undefined;
    try {
      const l = await o.list(kc, o.query);
      o.onList(l.items);
      rv = l.resourceVersion;
      failures = fresh();
    } catch (err) {
      o.logger.warn({ err: describeApiError(err) }, `cannot read ${o.what}, retrying`);
      await o.clock.sleep(failures.next(), o.signal).catch(() => undefined);
      continue;
    }
    const end = await watchOnce<T>({ kc, path: o.path, rv, query: o.query, timeoutMs: o.resyncMs, signal: o.signal, onEvent: o.onEvent });
    if (end === 'unsupported') await o.clock.sleep(o.resyncMs, o.signal).catch(() => undefined);
    else if (end !== 'closed') await o.clock.sleep(failures.next(), o.signal).catch(() => undefined);
  }
}

/** One watch connection on `path`; resolves with why it ended ('closed' when the server ends it or on abort). */
function watchOnce<T>(o: {
  kc: KubeConfig;
  path: string;
  rv: string | undefined;
  query: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
}): Promise<'closed' | 'error' | 'unsupported'> {
  return new Promise((resolve) => {
    let done = false;
    let abort: (() => void) | undefined;
    const finish = (why: 'closed' | 'error' | 'unsupported') => {
      if (done) return;
      done = true;
      o.signal.removeEventListener('abort', onAbort);
      abort?.();
      resolve(why);
    };
    const onAbort = () => finish('closed');
    o.signal.addEventListener('abort', onAbort, { once: true });
    const query: Record<string, string | number | boolean> = { ...o.query, allowWatchBookmarks: true, timeoutSeconds: Math.max(1, Math.round(o.timeoutMs / 1000)) };
    if (o.rv) query['resourceVersion'] = o.rv;
    new Watch(o.kc)
      .watch(
        o.path,
        query,
        (type: string, obj: T) => {
          if (type === 'ERROR') finish('error'); // 410 Gone included: re-list
          else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') o.onEvent(type, obj);
        },
        (err: unknown) => {
          if (!err) return finish('closed');
          const status = statusCodeOf(err);
          finish(status !== undefined && [400, 404, 405, 406, 415, 501].includes(status) ? 'unsupported' : 'error');
        },
      )
      .then((controller) => {
        abort = () => controller.abort();
        if (done) controller.abort();
      })
      .catch(() => finish('error'));
  });
}

