// One schema per resource kind drives three things, so they cannot disagree: decoding a request body the
// way Go's typed decoder does (unknown fields dropped and reported for fieldValidation, wrong types refused),
// the OpenAPI v3 documents kubectl validates and patches with, and the strategic-merge-patch list keys.
import { parseMicroTime, parseTime, TimeParseError } from '../util/time.js';

/** `date-time` is metav1.Time (whole seconds), `micro-time` metav1.MicroTime (exactly six fractional digits). */
export type StringFormat = 'byte' | 'date-time' | 'micro-time' | 'int-or-string';

export interface SchemaCommon {
  description?: string;
}

export type Schema =
  | (SchemaCommon & { type: 'string'; format?: StringFormat; enum?: string[] })
  | (SchemaCommon & { type: 'integer'; format?: 'int32' | 'int64' })
  | (SchemaCommon & { type: 'number' })
  | (SchemaCommon & { type: 'boolean' })
  | (SchemaCommon & {
      type: 'array';
      items: Schema;
      /** x-kubernetes-list-type */
      listType?: 'atomic' | 'set' | 'map';
      /** x-kubernetes-list-map-keys; also the strategic-merge-patch merge key (first entry). */
      listMapKeys?: string[];
      /** x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key for strategic merge patch. */
      patchStrategy?: 'merge' | 'merge,retainKeys' | 'replace';
      patchMergeKey?: string;
    })
  | ObjectSchema
  | (SchemaCommon & { type: 'map'; values: Schema })
  | (SchemaCommon & { type: 'any' });

export interface ObjectSchema extends SchemaCommon {
  type: 'object';
  /** OpenAPI component name (e.g. io.k8s.api.certificates.v1.CertificateSigningRequest); unnamed objects are inlined. */
  name?: string;
  properties: Record<string, Schema>;
  required?: string[];
  /** x-kubernetes-group-version-kind, for top-level kinds. */
  gvk?: { group: string; version: string; kind: string }[];
  /**
   * Every optional string, list and map field of the Go struct is `omitempty`: an empty one ("", [], {}) is
   * dropped on decode, as the typed round trip through kube-apiserver drops it (finalizers: [] is not kept).
   */
  omitEmpty?: boolean;
}

// ---- Builders ----------------------------------------------------------------------------------------------

export const str = (description?: string, extra: { format?: StringFormat; enum?: string[] } = {}): Schema => ({
  type: 'string',
  ...(description ? { description } : {}),
  ...extra,
});
export const bytes = (description?: string): Schema => str(description, { format: 'byte' });
export const time = (description?: string): Schema => str(description, { format: 'date-time' });
export const microTime = (description?: string): Schema => str(description, { format: 'micro-time' });
export const int32 = (description?: string): Schema => ({ type: 'integer', format: 'int32', ...(description ? { description } : {}) });
export const int64 = (description?: string): Schema => ({ type: 'integer', format: 'int64', ...(description ? { description } : {}) });
export const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
export const any = (description?: string): Schema => ({ type: 'any', ...(description ? { description } : {}) });
export const mapOf = (values: Schema, description?: string): Schema => ({ type: 'map', values, ...(description ? { description } : {}) });
export const arrayOf = (
  items: Schema,
  options: { description?: string; listType?: 'atomic' | 'set' | 'map'; listMapKeys?: string[]; patchStrategy?: 'merge' | 'merge,retainKeys' | 'replace'; patchMergeKey?: string } = {},
): Schema => ({ type: 'array', items, ...options });
export const obj = (
  properties: Record<string, Schema>,
  options: { name?: string; description?: string; required?: string[]; gvk?: ObjectSchema['gvk']; omitEmpty?: boolean } = {},
): ObjectSchema => ({
  type: 'object',
  properties,
  ...options,
});

// ---- Decoding ----------------------------------------------------------------------------------------------

export interface DecodeResult {
  value: unknown;
  /** Paths of unknown fields, in kube's notation (`spec.foo`, `status.conditions[0].bar`). */
  unknownFields: string[];
}

/** A body that cannot be decoded into the kind (wrong JSON type, bad base64) — a 400 at the API edge. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const jsonTypeName = (v: unknown): string => {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return `number ${v}`;
  return typeof v;
};

const goTypeName = (s: Schema): string => {
  switch (s.type) {
    case 'string':
      return s.format === 'byte' ? '[]uint8' : s.format === 'date-time' ? 'v1.Time' : s.format === 'micro-time' ? 'v1.MicroTime' : 'string';
    case 'integer':
      return s.format ?? 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'array':
      return `[]${goTypeName(s.items)}`;
    case 'object':
      return s.name ? `v1.${s.name.slice(s.name.lastIndexOf('.') + 1)}` : 'struct';
    case 'map':
      return `map[string]${goTypeName(s.values)}`;
    case 'any':
      return 'interface {}';
  }
};

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * Decodes `value` against `schema` as Go's json decoder into the typed struct would: unknown fields are
 * dropped (and reported, for fieldValidation), nulls become absent, a value of the wrong JSON type is a
 * DecodeError. `kindName` names the Go struct in messages.
 */
export function decodeWithSchema(value: unknown, schema: Schema): DecodeResult {
  const unknownFields: string[] = [];
  const out = walk(value, schema, '', 'Object', unknownFields);
  return { value: out, unknownFields };
}

function typeError(v: unknown, s: Schema, structName: string, path: string): DecodeError {
  return new DecodeError(`json: cannot unmarshal ${jsonTypeName(v).split(' ')[0]} into Go struct field ${structName}.${path} of type ${goTypeName(s)}`);
}

function walk(v: unknown, s: Schema, path: string, structName: string, unknown: string[]): unknown {
  if (v === null || v === undefined) return undefined;
  switch (s.type) {
    case 'any':
      return v;
    case 'string':
      if (s.format === 'int-or-string') {
        if (typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))) return v;
        throw typeError(v, s, structName, path);
      }
      if (typeof v !== 'string') throw typeError(v, s, structName, path);
      if (s.format === 'byte') {
        const compact = v.replace(/[\r\n]/g, '');
        if (!BASE64_RE.test(compact) || compact.length % 4 === 1) {
          const bad = compact.search(/[^A-Za-z0-9+/=]/);
          throw new DecodeError(`illegal base64 data at input byte ${bad < 0 ? compact.length : bad}`);
        }
      }
      if (s.format === 'date-time' || s.format === 'micro-time') {
        // Stored as Go marshals what it parsed: kube-apiserver decodes into metav1.Time / MicroTime.
        try {
          return s.format === 'date-time' ? parseTime(v) : parseMicroTime(v);
        } catch (err) {
          if (err instanceof TimeParseError) throw new DecodeError(err.message);
          throw err;
        }
      }
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(v, s, structName, path);
      if (s.format === 'int32' && (v > 2147483647 || v < -2147483648)) throw typeError(v, s, structName, path);
      return v;
    case 'number':
      if (typeof v !== 'number') throw typeError(v, s, structName, path);
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw typeError(v, s, structName, path);
      return v;
    case 'array': {
      if (!Array.isArray(v)) throw typeError(v, s, structName, path);
      return v.map((item, i) => {
        const r = walk(item, s.items, `${path}[${i}]`, structName, unknown);
        return r === undefined ? zeroValue(s.items) : r;
      });
    }
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(v, s, structName, path);
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const r = walk(item, s.values, join(path, k), structName, unknown);
        out[k] = r === undefined ? zeroValue(s.values) : r;
      }
      return out;
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(v, s, structName, path);
      const name = s.name ? s.name.slice(s.name.lastIndexOf('.') + 1) : structName;
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        const fs = s.properties[k];
        if (!fs) {
          unknown.push(join(path, k));
          continue;
        }
        const r = walk(item, fs, join(path, k), name, unknown);
        if (r !== undefined && !(s.omitEmpty && isEmpty(r))) out[k] = r;
      }
      return out;
    }
  }
}

/** What Go's encoding/json `omitempty` drops among the values kept here: "", [] and {} (never 0 or false, which
 * kube's pointer fields keep). */
function isEmpty(v: unknown): boolean {
  if (v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && v !== null && Object.keys(v).length === 0;
}

/** Go's zero value for a null inside a list or map. */
function zeroValue(s: Schema): unknown {
  switch (s.type) {
    case 'string':
      return '';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return null;
    case 'object':
      return {};
    case 'map':
      return null;
    case 'any':
      return null;
  }
}

/** Follows a path of object properties (for patch-strategy lookups). */
export function schemaAt(schema: Schema | undefined, key: string): Schema | undefined {
  if (!schema) return undefined;
  if (schema.type === 'object') return schema.properties[key];
  if (schema.type === 'map') return schema.values;
  return undefined;
}

// ---- OpenAPI v3 ------------------------------------------------------------------------------------------

export type OpenApiSchema = Record<string, unknown>;

/**
 * Renders a schema as OpenAPI v3, registering every named object in `components` (by name) and referring
 * to it with `allOf: [{$ref}]` as kube-openapi does.
 */
export function toOpenApi(s: Schema, components: Record<string, OpenApiSchema>): OpenApiSchema {
  const base: OpenApiSchema = s.description ? { description: s.description } : {};
  switch (s.type) {
    case 'string': {
      if (s.format === 'int-or-string') return { ...base, 'x-kubernetes-int-or-string': true };
      // kube-openapi publishes MicroTime as a date-time string too.
      const format = s.format === 'micro-time' ? 'date-time' : s.format;
      return { ...base, type: 'string', ...(format ? { format } : {}), ...(s.enum ? { enum: s.enum } : {}) };
    }
    case 'integer':
      return { ...base, type: 'integer', format: s.format ?? 'int64' };
    case 'number':
      return { ...base, type: 'number', format: 'double' };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'any':
      return { ...base, type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    case 'map':
      return { ...base, type: 'object', additionalProperties: withDefault(toOpenApi(s.values, components), s.values) };
    case 'array': {
      const out: OpenApiSchema = { ...base, type: 'array', items: withDefault(toOpenApi(s.items, components), s.items) };
      if (s.listType) out['x-kubernetes-list-type'] = s.listType;
      if (s.listMapKeys) out['x-kubernetes-list-map-keys'] = s.listMapKeys;
      if (s.patchStrategy) out['x-kubernetes-patch-strategy'] = s.patchStrategy;
      if (s.patchMergeKey) out['x-kubernetes-patch-merge-key'] = s.patchMergeKey;
      return out;
    }
    case 'object': {
      if (s.name) {
        if (!components[s.name]) {
          components[s.name] = {}; // placeholder against recursion
          components[s.name] = objectBody(s, components);
        }
        return { ...base, allOf: [{ $ref: `#/components/schemas/${s.name}` }] };
      }
      return { ...base, ...objectBody(s, components) };
    }
  }
}

function withDefault(o: OpenApiSchema, s: Schema): OpenApiSchema {
  return s.type === 'object' && s.name ? { ...o, default: {} } : o;
}

function objectBody(s: ObjectSchema, components: Record<string, OpenApiSchema>): OpenApiSchema {
  const properties: Record<string, OpenApiSchema> = {};
  for (const [k, v] of Object.entries(s.properties)) properties[k] = withDefault(toOpenApi(v, components), v);
  const out: OpenApiSchema = { type: 'object' };
  if (s.description) out['description'] = s.description;
  out['properties'] = properties;
  if (s.required && s.required.length > 0) out['required'] = s.required;
  if (s.gvk) out['x-kubernetes-group-version-kind'] = s.gvk;
  return out;
}
