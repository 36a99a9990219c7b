// LIST of a collection (kube's handlers.ListResource), in the negotiated representation.
import { negotiateOutput } from '../negotiation.js';
import { sendList } from '../responses.js';
import { includeObject, listOptions, type RequestScope } from './scope.js';

export async function listResource(s: RequestScope): Promise<void> {
  const output = negotiateOutput(s.req.headers.accept);
  const list = await s.store.list(s.listNamespace, listOptions(s.store, s.query));
  return sendList(s.res, list, output, s.def, s.env.clock.now(), includeObject(s.query));
}
