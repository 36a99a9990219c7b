// POST (kube's handlers.CreateResource): a stored object, a virtual kind answered without storing
// (reviews), or a create-only subresource with its own kind (serviceaccounts/token).
import { decodeObject, parseBody, parseFieldValidation, readBody } from '../body.js';
import { negotiateOutput } from '../negotiation.js';
import { sendJson, sendObject, setWarnings } from '../responses.js';
import { badRequest } from '../../apis/status.js';
import type { KubeObject } from '../../apis/index.js';
import { isObject } from '../validation.js';
import { managerOf, readObject, type RequestScope } from './scope.js';
import { dryRunOf } from './write-options.js';
import { claimRequestNamespace } from '../store.js';

export async function createResource(s: RequestScope): Promise<void> {
  const { object, warnings } = await readObject(s);
  setWarnings(s.res, warnings);
  const created = await s.store.create(s.namespace, object, s.ctx, { dryRun: dryRunOf(s.query, 'CreateOptions'), manager: managerOf(s) });
  return sendObject(s.res, 201, created, negotiateOutput(s.req.headers.accept), s.def, s.env.clock.now());
}

/** A kind that is never stored: the definition's virtualCreate answers. */
export async function createVirtual(s: RequestScope, create: NonNullable<RequestScope['def']['virtualCreate']>): Promise<void> {
  const { object, warnings } = await readObject(s);
  if (s.def.namespaced) claimRequestNamespace(object.metadata, s.namespace);
  setWarnings(s.res, warnings);
  const out = await create(object, s.ctx);
  return sendObject(s.res, 201, out, negotiateOutput(s.req.headers.accept), s.def, s.env.clock.now());
}

/** POST to a create-only subresource, decoded as the subresource's own kind. */
export async function createSubresource(s: RequestScope, c: NonNullable<NonNullable<RequestScope['sub']>['create']>): Promise<void> {
  const raw = await readBody(s.req, s.env.maxBody);
  if (raw.length === 0) throw badRequest('the body of the request was empty');
  const { object, warnings } = decodeObject<KubeObject>(parseBody(raw, s.req.headers['content-type'], c.schema), c.schema, c.kind, c.version, parseFieldValidation(s.query.get('fieldValidation')));
  if (!isObject(object.metadata)) object.metadata = {};
  setWarnings(s.res, warnings);
  return sendJson(s.res, 201, JSON.stringify(await c.handle(s.namespace, s.name, object, s.ctx)));
}
