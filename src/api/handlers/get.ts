// GET of one object (kube's handlers.GetResource): the stored JSON as is when the client wants JSON.
import { negotiateOutput } from '../negotiation.js';
import { sendJson, sendObject } from '../responses.js';
import { badRequest } from '../../apis/status.js';
import { waitForResourceVersion } from './freshness.js';
import { includeObject, type RequestScope } from './scope.js';

export async function getResource(s: RequestScope): Promise<void> {
  const output = negotiateOutput(s.req.headers.accept);
  const rv = s.query.get('resourceVersion');
  if (rv && !/^\d+$/.test(rv)) throw badRequest(`Invalid value: ${JSON.stringify(rv)}: resourceVersion must be an integer`);
  await waitForResourceVersion(s.env, rv);
  if (output.kind === 'json') return sendJson(s.res, 200, await s.store.getJson(s.namespace, s.name));
  const obj = await s.store.get(s.namespace, s.name);
  return sendObject(s.res, 200, obj, output, s.def, s.env.clock.now(), includeObject(s.query));
}
