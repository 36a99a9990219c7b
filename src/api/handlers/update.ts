// PUT of an object or of a subresource (kube's handlers.UpdateResource).
import { negotiateOutput } from '../negotiation.js';
import { sendObject, setWarnings } from '../responses.js';
import { managerOf, readObject, type RequestScope } from './scope.js';
import { dryRunOf } from './write-options.js';

export async function updateResource(s: RequestScope): Promise<void> {
  const { object, warnings } = await readObject(s);
  setWarnings(s.res, warnings);
  const updated = await s.store.update(s.namespace, s.name, object, s.ctx, { dryRun: dryRunOf(s.query, 'UpdateOptions'), manager: managerOf(s), ...(s.sub ? { subresource: s.sub } : {}) });
  return sendObject(s.res, 200, updated, negotiateOutput(s.req.headers.accept), s.def, s.env.clock.now());
}
