// OpenAPI v3 documents, one per group-version (/openapi/v3/api/v1, /openapi/v3/apis/<g>/<v>) plus the
// index (/openapi/v3). kubectl reads them to decide that the server validates fields itself (the PATCH
// operation of a kind lists the `fieldValidation` parameter), to compute strategic merge patches for
// `apply`, and for `explain`. Schemas come from the resource definitions, so they match what is decoded.
import { createHash } from 'node:crypto';
import { KUBE_SEMVER } from '../apis/kube-version.js';
import { swagger2 } from './openapi-v2.js';
import { listSchema, objectMetaSchema } from './meta-schema.js';
import { apiVersionOf, type ResourceDefinition, type ResourceRegistry } from './registry.js';
import { toOpenApi, type OpenApiSchema } from './schema.js';

export interface OpenApiDocuments {
  /** The /openapi/v3 index. */
  index: string;
  /** keyed by path without leading slash: `api/v1`, `apis/certificates.k8s.io/v1` */
  documents: Map<string, { json: string; hash: string }>;
  /** /openapi/v2: every group-version in one Swagger 2.0 document, with its ETag hash. */
  v2: { json: string; hash: string };
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

const commonComponents = (): Record<string, OpenApiSchema> => ({
  [`${META}.Status`]: {
    type: 'object',
    description: 'Status is a return value for calls that don\'t return other objects.',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      code: { type: 'integer', format: 'int32', description: 'Suggested HTTP return code for this status, 0 if not set.' },
      details: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Extended data associated with the reason (name, group, kind, causes, retryAfterSeconds).' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      message: { type: 'string', description: 'A human-readable description of the status of this operation.' },
      metadata: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'Standard list metadata.' },
      reason: { type: 'string', description: 'A machine-readable description of why this operation is in the "Failure" status.' },
      status: { type: 'string', description: 'Status of the operation. One of: "Success" or "Failure".' },
    },
    'x-kubernetes-group-version-kind': [{ group: '', kind: 'Status', version: 'v1' }],
  },
  [`${META}.Patch`]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
  [`${META}.DeleteOptions`]: {
    type: 'object',
    description: 'DeleteOptions may be provided when deleting an API object.',
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      dryRun: { type: 'array', items: { type: 'string' }, description: 'When present, indicates that modifications should not be persisted. The only valid value is "All".' },
      gracePeriodSeconds: { type: 'integer', format: 'int64', description: 'The duration in seconds before the object should be deleted.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy.' },
      preconditions: {
        type: 'object',
        description: 'Must be fulfilled before a deletion is carried out; if not possible, a 409 Conflict status is returned.',
        properties: { resourceVersion: { type: 'string', description: 'Specifies the target ResourceVersion.' }, uid: { type: 'string', description: 'Specifies the target UID.' } },
      },
      propagationPolicy: { type: 'string', description: 'Whether and how garbage collection will be performed: Orphan, Background or Foreground.' },
    },
  },
});

const param = (name: string, description: string, type = 'string'): OpenApiSchema => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});

const P = {
  dryRun: param('dryRun', 'When present, indicates that modifications should not be persisted.'),
  fieldManager: param('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  fieldValidation: param(
    'fieldValidation',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict',
  ),
  force: param('force', 'Force is going to "force" Apply requests.', 'boolean'),
  pretty: param('pretty', "If 'true', then the output is pretty printed."),
  labelSelector: param('labelSelector', 'A selector to restrict the list of returned objects by their labels.'),
  fieldSelector: param('fieldSelector', 'A selector to restrict the list of returned objects by their fields.'),
  limit: param('limit', 'limit is a maximum number of responses to return for a list call.', 'integer'),
  continue: param('continue', 'The continue option should be set when retrieving more results from the server.'),
  resourceVersion: param('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from.'),
  resourceVersionMatch: param('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
  timeoutSeconds: param('timeoutSeconds', 'Timeout for the list/watch call.', 'integer'),
  watch: param('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  allowWatchBookmarks: param('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', 'boolean'),
  gracePeriodSeconds: param('gracePeriodSeconds', 'The duration in seconds before the object should be deleted.', 'integer'),
  propagationPolicy: param('propagationPolicy', 'Whether and how garbage collection will be performed.'),
};

const pathParam = (name: string, description: string): OpenApiSchema => ({ name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } });

const ref = (name: string): OpenApiSchema => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: OpenApiSchema) => ({
  'application/json': { schema },
  'application/yaml': { schema },
});
const ok = (schema: OpenApiSchema, codes = ['200']): OpenApiSchema =>
  Object.fromEntries([...codes.map((c) => [c, { description: c === '201' ? 'Created' : c === '202' ? 'Accepted' : 'OK', content: jsonContent(schema) }]), ['401', { description: 'Unauthorized' }]]);

function operations(d: ResourceDefinition, kindRef: string, listRef: string): Record<string, OpenApiSchema> {
  const gvk = { group: d.group, version: d.version, kind: d.kind };
  const base = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
  const nsSeg = d.namespaced ? '/namespaces/{namespace}' : '';
  const tag = d.group ? `${d.group.replace(/\..*/, '')}_${d.version}` : `core_${d.version}`;
  const opId = (verb: string, suffix = '') => `${verb}${d.namespaced ? 'Namespaced' : ''}${d.kind}${suffix}`;
  const common = (verb: string, action: string, extra: OpenApiSchema = {}): OpenApiSchema => ({
    tags: [tag],
    operationId: opId(verb),
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const nsParams = d.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const paths: Record<string, OpenApiSchema> = {};
  const has = (v: string) => (d.verbs as string[]).includes(v);

  const collection: OpenApiSchema = { parameters: [...nsParams, P.pretty] };
  if (has('list')) {
    collection['get'] = common('list', 'list', {
      parameters: [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.timeoutSeconds, P.watch],
      responses: ok(ref(listRef)),
      operationId: opId('list'),
    });
  }
  if (has('create')) {
    collection['post'] = common('create', 'post', {
      parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
      requestBody: { content: { '*/*': { schema: ref(kindRef) } }, required: true },
      responses: ok(ref(kindRef), ['200', '201', '202']),
    });
  }
  if (has('deletecollection')) {
    collection['delete'] = common('deletecollection', 'deletecollection', {
      parameters: [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.labelSelector, P.limit, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.timeoutSeconds],
      requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
      responses: ok(ref(`${META}.Status`)),
      operationId: `deleteCollection${d.namespaced ? 'Namespaced' : ''}${d.kind}`,
    });
  }
  if (has('list') || has('create') || has('deletecollection')) paths[`${base}${nsSeg}/${d.plural}`] = collection;
  if (d.namespaced && has('list')) {
    paths[`${base}/${d.plural}`] = {
      get: { ...common('list', 'list'), operationId: `list${d.kind}ForAllNamespaces`, responses: ok(ref(listRef)), parameters: [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.timeoutSeconds, P.watch] },
      parameters: [P.pretty],
    };
  }

  const patchBody = {
    content: Object.fromEntries(
      ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'].map((t) => [t, { schema: ref(`${META}.Patch`) }]),
    ),
    required: true,
  };
  const itemOps = (suffix: string, verbs: string[]): OpenApiSchema => {
    const item: OpenApiSchema = { parameters: [pathParam('name', `name of the ${d.kind}`), ...nsParams, P.pretty] };
    if (verbs.includes('get')) item['get'] = { ...common('read', 'get'), operationId: opId('read', suffix), responses: ok(ref(kindRef)) };
    if (verbs.includes('update')) {
      item['put'] = {
        ...common('replace', 'put'),
        operationId: opId('replace', suffix),
        parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
        requestBody: { content: { '*/*': { schema: ref(kindRef) } }, required: true },
        responses: ok(ref(kindRef), ['200', '201']),
      };
    }
    if (verbs.includes('patch')) {
      item['patch'] = {
        ...common('patch', 'patch'),
        operationId: opId('patch', suffix),
        parameters: [P.dryRun, P.fieldManager, P.fieldValidation, P.force],
        requestBody: patchBody,
        responses: ok(ref(kindRef), ['200', '201']),
      };
    }
    if (verbs.includes('delete')) {
      item['delete'] = {
        ...common('delete', 'delete'),
        operationId: opId('delete', suffix),
        parameters: [P.dryRun, P.gracePeriodSeconds, P.propagationPolicy],
        requestBody: { content: { '*/*': { schema: ref(`${META}.DeleteOptions`) } } },
        responses: ok(ref(`${META}.Status`), ['200', '202']),
      };
    }
    return item;
  };
  if (has('get') || has('update') || has('patch') || has('delete')) paths[`${base}${nsSeg}/${d.plural}/{name}`] = itemOps('', d.verbs);
  for (const s of d.subresources) {
    paths[`${base}${nsSeg}/${d.plural}/{name}/${s.name}`] = itemOps(s.name[0]!.toUpperCase() + s.name.slice(1), s.verbs);
  }
  return paths;
}

function document(defs: ResourceDefinition[]): string {
  const components = commonComponents();
  toOpenApi(objectMetaSchema, components);
  let paths: Record<string, OpenApiSchema> = {};
  for (const d of defs) {
    const kindName = d.schema.name!;
    toOpenApi(d.schema, components);
    const list = listSchema(d.schema, { group: d.group, version: d.version, kind: d.listKind });
    toOpenApi(list, components);
    paths = { ...paths, ...operations(d, kindName, list.name!) };
  }
  return JSON.stringify({
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_SEMVER },
    paths,
    components: { schemas: components, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
  });
}

export function buildOpenApi(registry: ResourceRegistry): OpenApiDocuments {
  const documents = new Map<string, { json: string; hash: string }>();
  for (const g of registry.groups()) {
    for (const v of g.versions) {
      const json = document(registry.resourcesOf(g.group, v));
      const hash = createHash('sha512').update(json).digest('hex').toUpperCase();
      const path = g.group ? `apis/${apiVersionOf({ group: g.group, version: v })}` : `api/${v}`;
      documents.set(path, { json, hash });
    }
  }
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [p, d] of documents) paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${d.hash}` };
  const v2json = swagger2([...documents.values()].map((d) => JSON.parse(d.json) as OpenApiSchema), KUBE_SEMVER);
  const v2 = { json: v2json, hash: createHash('sha512').update(v2json).digest('hex').toUpperCase() };
  return { index: JSON.stringify({ paths }), documents, v2 };
}
