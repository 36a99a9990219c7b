// LIST of a collection (kube's handlers.ListResource), in the negotiated representation.
import { negotiateOutput } from '../negotiation.js';
import { sendList } from '../responses.js';
import { waitForResourceVersion } from './freshness.js';
import { listOptions } from './list-options.js';
import { includeObject, type RequestScope } from './scope.js';

export async function listResource(s: RequestScope): Promise<void> {
  const output = negotiateOutput(s.req.headers.accept);
  const options = listOptions(s.store, s.query);
  if (!options.continue) await waitForResourceVersion(s.env, s.query.get('resourceVersion'));
  const list = await s.store.list(s.listNamespace, options);
  return sendList(s.res, list, output, s.def, s.env.clock.now(), includeObject(s.query));
}
