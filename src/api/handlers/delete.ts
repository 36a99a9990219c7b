// DELETE of one object (kube's handlers.DeleteResource): the definition's delete hook runs first (a
// namespace's cascade); the answer is the object while finalizers hold it, or kube's Status Success.
import { negotiateOutput } from '../negotiation.js';
import { sendJson, sendObject } from '../responses.js';
import { readDeleteOptions, type RequestScope } from './scope.js';

export async function deleteResource(s: RequestScope): Promise<void> {
  const { def, store } = s;
  const opts = await readDeleteOptions(s);
  await def.deleteHooks?.beforeDelete?.(s.name, { strategy: s.ctx, dryRun: opts.dryRun, stores: s.env.stores });
  const { object, deleted } = await store.delete(s.namespace, s.name, s.ctx, { dryRun: opts.dryRun, ...(opts.preconditions ? { preconditions: opts.preconditions } : {}) });
  const answer = deleted ? def.deleteHooks?.deletedObject?.(object, s.ctx) : object;
  if (answer) return sendObject(s.res, 200, answer, negotiateOutput(s.req.headers.accept), def, s.env.clock.now());
  const status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: s.name, group: def.group, kind: def.plural, uid: object.metadata.uid },
  };
  return sendJson(s.res, 200, JSON.stringify(status));
}
