// WATCH (kube's handlers.ListResource with watch=true): the initial state as ADDED events when asked for
// (no resourceVersion, "0", or sendInitialEvents), then every change from storage as a chunked stream.
import { negotiateOutput } from '../negotiation.js';
import { queryBool, queryInt64 } from '../query.js';
import { apiVersionOf } from '../registry.js';
import { transformFor } from '../responses.js';
import { parseFieldSelector, parseLabelSelector } from '../selectors.js';
import { badRequest } from '../../apis/status.js';
import type { KubeObject } from '../../apis/index.js';
import { WatchStream } from '../watch.js';
import { validateListOptions } from './list-options.js';
import type { RequestScope } from './scope.js';

export async function watchResource(s: RequestScope): Promise<void> {
  const { def, store, query: q, env } = s;
  const namespace = s.listNamespace;
  const urlName = s.name || undefined;
  const output = negotiateOutput(s.req.headers.accept);
  const label = parseLabelSelector(q.get('labelSelector'));
  const field = parseFieldSelector(q.get('fieldSelector'), store.supportedFieldSelectors());
  const name = urlName ?? field.exactValue('metadata.name');
  const rvParam = q.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
  const sendInitialEventsParam = queryBool(q, 'sendInitialEvents');
  const sendInitialEvents = sendInitialEventsParam === true;
  const timeoutSeconds = queryInt64(q, 'timeoutSeconds');
  validateListOptions(q, true);
  if (timeoutSeconds !== undefined && timeoutSeconds < 0) {
    // kube's watch timer of a negative duration fires at once: a 200 whose stream ends before any event.
    s.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    s.res.end();
    return;
  }
  const minTimeout = env.minRequestTimeoutSeconds;
  const timeoutMs = timeoutSeconds !== undefined && timeoutSeconds > 0 ? timeoutSeconds * 1000 : (minTimeout + Math.random() * minTimeout) * 1000;
  const transform = transformFor(output, def, () => env.clock.now());
  const stream: WatchStream = new WatchStream({
    res: s.res,
    namespace,
    name,
    afterRevision: 0,
    matches: (obj) => (urlName === undefined || obj.metadata.name === urlName) && store.matches(obj, label, field),
    // A name-only (or empty) selection is fully done by the namespace/name filters.
    matchesEverything: label.empty && (field.empty || (field.requirements.length === 1 && name !== undefined && field.exactValue('metadata.name') === name)),
    ...(transform ? { transform } : {}),
    apiVersion: apiVersionOf(def),
    kind: def.kind,
    bookmarks: queryBool(q, 'allowWatchBookmarks') === true,
    timeoutMs,
    onClose: () => env.watches.delete(stream),
  });
  // Initial state: "" (most recent) and "0" (any) start with ADDED for every matching object, as does an
  // explicit sendInitialEvents=true; a given resourceVersion starts right after it. sendInitialEvents=false
  // (the WatchList opt-out) never synthesizes ADDED events: "" and "0" then start at the current revision.
  let initial: KubeObject[] = [];
  if (sendInitialEventsParam === false) {
    stream.afterRevision = rvParam === '' || rvParam === '0' ? await env.storage.currentRevision() : Number(rvParam);
  } else if (rvParam === '' || rvParam === '0' || sendInitialEvents) {
    const list = await store.list(namespace, {
      labelSelector: label,
      fieldSelector: urlName !== undefined ? parseFieldSelector(`metadata.name=${urlName}`) : field,
      ...(sendInitialEvents && rvParam !== '' && rvParam !== '0' ? { resourceVersion: rvParam, resourceVersionMatch: 'NotOlderThan' } : {}),
    });
    initial = list.items;
    stream.afterRevision = Number(list.metadata.resourceVersion ?? 0);
  } else {
    stream.afterRevision = Number(rvParam);
  }
  env.watches.add(stream);
  stream.open();
  for (const obj of initial) stream.send('ADDED', null, obj);
  if (sendInitialEvents && stream.wantsBookmarks) {
    stream.lastRevision = Math.min(stream.lastRevision, stream.afterRevision - 1);
    stream.bookmark(stream.afterRevision, { 'k8s.io/initial-events-end': 'true' });
  }
  if (stream.isClosed) return;
  // The narrowest key prefix that holds everything the watch selects (one object, a namespace, the resource).
  const prefix = name !== undefined && (namespace !== undefined || !def.namespaced) ? store.keyFor(namespace ?? '', name) : store.listPrefix(namespace);
  stream.watchStorage(env.storage, { prefix, resource: store });
}
