// The agent's list+watch loop for small selections (client-go's reflector, reduced): list, hand the items
// over, watch from the list's resourceVersion until the server ends the watch after `resyncMs` (that is the
// periodic re-read), then list again; a failed list or watch is retried with backoff, and a server that
// refuses to watch is polled every `resyncMs`. The controllers' Informer (controllers/runtime) keeps a
// watch open indefinitely and never re-lists on its own; the agent wants the periodic re-read as a fallback
// and a polling mode, and reads its kubeconfig anew for each round (the node's certificate rotates).
import { RestKubeClient } from '../client/rest.js';
import type { ClientConfig } from '../client/kubeconfig.js';
import type { ResourceClient, ResourceRef, WatchOptions, WatchStream } from '../client/interface.js';
import type { KubeObject } from '../apis/objects.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { describeApiError, statusCodeOf } from './csr-client.js';

/** The server-side narrowing of the list and the watch. */
export interface ListWatchSelection {
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
}

export interface ListWatchOptions<T extends KubeObject> {
  /** Names what is followed, in log lines. */
  what: string;
  /** The client configuration, read for each list+watch round. */
  kubeConfig: () => ClientConfig;
  resource: ResourceRef;
  selection: ListWatchSelection;
  onList(items: T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  resyncMs: number;
  clock: Clock;
  logger: Logger;
  backoff?: BackoffOptions;
  signal: AbortSignal;
}

export async function listWatchLoop<T extends KubeObject>(o: ListWatchOptions<T>): Promise<void> {
  const fresh = () => new Backoff(o.backoff ?? { initialMs: 1000, capMs: 30_000 });
  let failures = fresh();
  while (!o.signal.aborted) {
    // The agent asks rarely and rotates its certificate file: each request reads the credentials anew.
    const resource = new RestKubeClient(o.kubeConfig(), { userAgent: 'kubepki-agent', oneShot: true }).resource<T>(o.resource);
    let rv: string | undefined;
    try {
      const l = await resource.list(o.selection);
      o.onList(l.items);
      rv = l.metadata?.resourceVersion;
      failures = fresh();
    } catch (err) {
      o.logger.warn({ err: describeApiError(err) }, `cannot read ${o.what}, retrying`);
      await o.clock.sleep(failures.next(), o.signal).catch(() => undefined);
      continue;
    }
    const end = await watchOnce<T>({
      resource,
      options: { ...o.selection, resourceVersion: rv ?? '', allowWatchBookmarks: true, timeoutSeconds: Math.max(1, Math.round(o.resyncMs / 1000)) },
      signal: o.signal,
      onEvent: o.onEvent,
    });
    if (end === 'unsupported') await o.clock.sleep(o.resyncMs, o.signal).catch(() => undefined);
    else if (end !== 'closed') await o.clock.sleep(failures.next(), o.signal).catch(() => undefined);
  }
}

/** One watch; resolves with why it ended ('closed' when the server ends it or on abort). */
function watchOnce<T extends KubeObject>(o: {
  resource: ResourceClient<T>;
  options: WatchOptions;
  signal: AbortSignal;
  onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void;
}): Promise<'closed' | 'error' | 'unsupported'> {
  return new Promise((resolve) => {
    let done = false;
    let stream: WatchStream | undefined;
    const finish = (why: 'closed' | 'error' | 'unsupported') => {
      if (done) return;
      done = true;
      o.signal.removeEventListener('abort', onAbort);
      stream?.stop();
      resolve(why);
    };
    const onAbort = () => finish('closed');
    // Stopped while listing: open no watch.
    if (o.signal.aborted) return finish('closed');
    o.signal.addEventListener('abort', onAbort, { once: true });
    stream = o.resource.watch(o.options, (event) => {
      if (done) return;
      if (event.type === 'ERROR') finish('error'); // 410 Gone included: re-list
      else if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') o.onEvent(event.type, event.object);
    });
    stream.done.then(
      () => finish('closed'),
      (err: unknown) => {
        const status = statusCodeOf(err);
        finish(status !== undefined && [400, 404, 405, 406, 415, 501].includes(status) ? 'unsupported' : 'error');
      },
    );
  });
}
