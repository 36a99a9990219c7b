// DELETE of a collection (kube's handlers.DeleteCollection): every matching object, answered as a list.
import { sendList } from '../responses.js';
import { listOptions } from './list-options.js';
import { readDeleteOptions, type RequestScope } from './scope.js';

export async function deleteCollection(s: RequestScope): Promise<void> {
  const opts = await readDeleteOptions(s);
  const list = await s.store.deleteCollection(s.listNamespace, listOptions(s.store, s.query), s.ctx, { dryRun: opts.dryRun });
  return sendList(s.res, list, { kind: 'json' }, s.def, s.env.clock.now(), 'Object');
}
