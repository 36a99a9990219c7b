// /openapi/v2: the whole API as one Swagger 2.0 document, which kube-apiserver still serves next to the v3
// documents and which tools that predate OpenAPI v3 read (schema generators, validators, older kubectl).
// It is derived from the v3 documents, so the two cannot disagree: components become definitions, a request
// body becomes the `body` parameter, a parameter's schema type moves onto the parameter. Only the JSON form is
// served; kube's protobuf form (client-go's OpenAPISchema) is answered 406 like any other unserved media type.
import type { OpenApiSchema } from './schema.js';

const V3_REF = '#/components/schemas/';

/** Rewrites every `$ref` into #/definitions/. */
function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = k === '$ref' && typeof x === 'string' && x.startsWith(V3_REF) ? `#/definitions/${x.slice(V3_REF.length)}` : rewriteRefs(x);
  }
  return out;
}

function parameter(p: OpenApiSchema): OpenApiSchema {
  const { schema, ...rest } = p as { schema?: { type?: string } } & OpenApiSchema;
  return { ...rest, ...(schema?.type ? { type: schema.type, uniqueItems: true } : {}) };
}

function operation(op: OpenApiSchema): OpenApiSchema {
  const { requestBody, responses, parameters, ...rest } = op as {
    requestBody?: { content?: Record<string, { schema?: unknown }>; required?: boolean };
    responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
    parameters?: OpenApiSchema[];
  } & OpenApiSchema;
  const params = (parameters ?? []).map(parameter);
  const out: OpenApiSchema = { ...rest };
  if (requestBody?.content) {
    const types = Object.keys(requestBody.content);
    const schema = requestBody.content[types[0]!]?.schema;
    params.push({ name: 'body', in: 'body', ...(requestBody.required ? { required: true } : {}), schema: schema ?? {} });
    out['consumes'] = types;
  }
  if (params.length > 0) out['parameters'] = params;
  out['produces'] = ['application/json', 'application/yaml'];
  out['schemes'] = ['https'];
  const res: Record<string, unknown> = {};
  for (const [code, r] of Object.entries(responses ?? {})) {
    const schema = r.content ? Object.values(r.content)[0]?.schema : undefined;
    res[code] = { description: r.description ?? '', ...(schema ? { schema } : {}) };
  }
  out['responses'] = res;
  return out;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'patch']);

/** One Swagger 2.0 document from the per-group-version OpenAPI v3 documents. */
export function swagger2(v3Documents: OpenApiSchema[], version: string): string {
  const definitions: Record<string, unknown> = {};
  const paths: Record<string, unknown> = {};
  for (const doc of v3Documents) {
    const schemas = ((doc['components'] as OpenApiSchema | undefined)?.['schemas'] ?? {}) as Record<string, unknown>;
    for (const [name, s] of Object.entries(schemas)) definitions[name] ??= rewriteRefs(s);
    for (const [p, item] of Object.entries((doc['paths'] ?? {}) as Record<string, OpenApiSchema>)) {
      const converted: OpenApiSchema = {};
      for (const [k, v] of Object.entries(item)) {
        if (k === 'parameters') converted[k] = (v as OpenApiSchema[]).map(parameter);
        else if (METHODS.has(k)) converted[k] = rewriteRefs(operation(v as OpenApiSchema));
      }
      paths[p] = converted;
    }
  }
  return JSON.stringify({
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths,
    definitions,
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  });
}
