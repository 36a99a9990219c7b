// PATCH (kube's handlers.PatchResource): JSON patch, merge patch, strategic merge patch and apply; an
// apply of an object that does not exist yet creates it.
import { decodeObject, parseBody, parseFieldValidation, readBody } from '../body.js';
import { contentTypeOf, negotiateOutput } from '../negotiation.js';
import { PATCH_CONTENT_TYPES } from '../patch.js';
import { sendObject, setWarnings } from '../responses.js';
import { unsupportedMediaType } from '../status.js';
import { ApiError, forbiddenField, invalidObject, required } from '../../apis/status.js';
import type { KubeObject } from '../../apis/index.js';
import { isObject } from '../validation.js';
import { queryBool } from '../query.js';
import { managerOf, type RequestScope } from './scope.js';
import { dryRunOf } from './write-options.js';

export async function patchResource(s: RequestScope): Promise<void> {
  const { req, res, query: q, def, sub } = s;
  const dryRun = dryRunOf(q, 'PatchOptions');
  const ct = contentTypeOf(req.headers['content-type']);
  const patchType = PATCH_CONTENT_TYPES[ct];
  if (!patchType) throw unsupportedMediaType(Object.keys(PATCH_CONTENT_TYPES).slice(0, 4));
  const validation = parseFieldValidation(q.get('fieldValidation'));
  const raw = await readBody(req, s.env.maxBody);
  const patch = parseBody(raw, patchType === 'apply' ? 'application/yaml' : 'application/json');
  if (patchType === 'apply' && !q.get('fieldManager')) {
    throw invalidObject({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [required('fieldManager', 'is required for apply patch')]);
  }
  const force = queryBool(q, 'force');
  if (force !== undefined && patchType !== 'apply') {
    throw invalidObject({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [forbiddenField('force', 'may not be specified for non-apply patch')]);
  }
  const manager = managerOf(s);
  const warnings: string[] = [];
  const decode = (value: unknown) => {
    const d = decodeObject<KubeObject>(value, def.schema, def.kind, def.version, validation);
    warnings.splice(0, warnings.length, ...d.warnings);
    return d.object;
  };
  try {
    const updated = await s.store.patch(s.namespace, s.name, patchType, patch, s.ctx, { dryRun, manager, force: force === true, ...(sub ? { subresource: sub } : {}), decode });
    setWarnings(res, warnings);
    return sendObject(res, 200, updated, negotiateOutput(req.headers.accept), def, s.env.clock.now());
  } catch (err) {
    // Server-side apply creates what does not exist yet.
    if (!(patchType === 'apply' && !sub && err instanceof ApiError && err.code === 404 && def.verbs.includes('create'))) throw err;
    const obj = decode(patch);
    if (!isObject(obj.metadata)) obj.metadata = {};
    obj.metadata.name = obj.metadata.name || s.name;
    const created = await s.store.create(s.namespace, obj, s.ctx, { dryRun, manager, apply: { config: decode(patch), force: force === true } });
    setWarnings(res, warnings);
    return sendObject(res, 201, created, negotiateOutput(req.headers.accept), def, s.env.clock.now());
  }
}
