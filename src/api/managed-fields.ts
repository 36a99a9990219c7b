// Field ownership (metadata.managedFields) as kube-apiserver's field manager keeps it, with
// structured-merge-diff's rules on our schemas. Every write records who set what: an Update (create, PUT,
// JSON/merge/strategic patch) gives its manager the fields it changed and takes them from the others; an
// Apply (server-side apply) makes the applier own exactly the fields of its configuration, refuses with 409
// to change a field another manager owns with another value (unless forced, which takes it over), and
// removes the fields the applier owned before, stopped applying, and nobody else owns.
import { isDeepStrictEqual } from 'node:util';
import { granularList, childAt, childKey, childSchema, containersOf, decodeFieldsV1, encodeFieldsV1, hasDescendant, itemElement, pathKey, pathOf, pathString, toFieldSet, valueAt, type FieldPath } from './fieldpath.js';
import type { ObjectSchema, Schema } from './schema.js';
import { ApiError } from '../apis/status.js';
import type { KubeObject } from '../apis/index.js';
import { isObject } from './validation.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Managed {
  entry: Omit<ManagedFieldsEntry, 'fieldsV1' | 'fieldsType'>;
  set: Set<string>;
}

/** Fields nobody owns (the field manager's stripSet): identity and system-maintained metadata. */
const STRIPPED = new Set(
  [['f:apiVersion'], ['f:kind'], ['f:metadata'], ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion'].map((f) => ['f:metadata', `f:${f}`])].map(pathKey),
);
/** Fields an object's write never gives a manager (set by the server; kube resets them in its strategies). */
const SYSTEM_FIELDS = new Set([pathKey(['f:metadata', 'f:deletionTimestamp']), pathKey(['f:metadata', 'f:deletionGracePeriodSeconds'])]);

function strip(set: Set<string>): Set<string> {
  for (const k of STRIPPED) set.delete(k);
  for (const k of SYSTEM_FIELDS) set.delete(k);
  return set;
}

/** The largest length kube accepts for a field manager name. */
const MAX_MANAGER_LENGTH = 128;

/**
 * The manager of a write: the fieldManager parameter, else the User-Agent's product (kube's
 * prefixFromUserAgent: up to the first "/", at most 128 characters).
 */
export function fieldManagerOf(param: string | null, userAgent: string | undefined): string {
  if (param !== null && param !== '') {
    if (param.length > MAX_MANAGER_LENGTH) {
      throw new ApiError(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than ${MAX_MANAGER_LENGTH} bytes`);
    }
    return param;
  }
  return (userAgent ?? '').split('/')[0]!.slice(0, MAX_MANAGER_LENGTH);
}

function readManaged(obj: KubeObject | null): Managed[] {
  const out: Managed[] = [];
  for (const raw of obj?.metadata.managedFields ?? []) {
    if (!isObject(raw) || typeof raw['manager'] !== 'string') continue;
    const e = raw as unknown as ManagedFieldsEntry;
    out.push({
      entry: { manager: e.manager, operation: e.operation === 'Apply' ? 'Apply' : 'Update', apiVersion: e.apiVersion, ...(e.time ? { time: e.time } : {}), ...(e.subresource ? { subresource: e.subresource } : {}) },
      set: decodeFieldsV1(e.fieldsV1),
    });
  }
  return out;
}

/** Entries in kube's order (Apply before Update, then by time, manager, subresource); empty ones dropped. */
function writeManaged(obj: KubeObject, managed: Managed[]): void {
  const entries = managed
    .filter((m) => m.set.size > 0)
    .sort((a, b) => {
      const p = a.entry;
      const q = b.entry;
      if (p.operation !== q.operation) return p.operation < q.operation ? -1 : 1;
      const pt = p.time ?? '';
      const qt = q.time ?? '';
      if (pt !== qt) return pt < qt ? -1 : 1;
      if (p.manager !== q.manager) return p.manager < q.manager ? -1 : 1;
      return (p.subresource ?? '') < (q.subresource ?? '') ? -1 : (p.subresource ?? '') > (q.subresource ?? '') ? 1 : 0;
    })
    .map((m): ManagedFieldsEntry => ({
      manager: m.entry.manager,
      operation: m.entry.operation,
      apiVersion: m.entry.apiVersion,
      ...(m.entry.time ? { time: m.entry.time } : {}),
      fieldsType: 'FieldsV1',
      fieldsV1: encodeFieldsV1(m.set),
      ...(m.entry.subresource ? { subresource: m.entry.subresource } : {}),
    }));
  if (entries.length > 0) obj.metadata.managedFields = entries;
  else delete obj.metadata.managedFields;
}

export interface WriteIdentity {
  manager: string;
  apiVersion: string;
  subresource?: string;
  /** metav1.Time of the write. */
  time: string;
}

const sameEntry = (m: Managed, id: WriteIdentity, operation: 'Apply' | 'Update') =>
  m.entry.manager === id.manager && m.entry.operation === operation && (m.entry.subresource ?? '') === (id.subresource ?? '');

function entryFor(managed: Managed[], id: WriteIdentity, operation: 'Apply' | 'Update'): Managed {
  let m = managed.find((x) => sameEntry(x, id, operation));
  if (!m) {
    m = { entry: { manager: id.manager, operation, apiVersion: id.apiVersion }, set: new Set() };
    managed.push(m);
  }
  m.entry.apiVersion = id.apiVersion;
  m.entry.time = id.time;
  if (id.subresource) m.entry.subresource = id.subresource;
  return m;
}

/**
 * One walk of `next` against `old` (structured-merge-diff's ToFieldSet and Compare at once): `after` gets
 * every field `next` sets, `changed` the fields whose value is new or different, and the maps, granular
 * lists and list items that did not exist before (kube records those as owned themselves, ".").
 */
function diffWalk(next: unknown, old: unknown, schema: Schema, key: string, after: Set<string>, changed: Set<string>): void {
  const leaf = () => {
    after.add(key);
    if (old === undefined || (typeof next === 'object' && next !== null ? !isDeepStrictEqual(next, old) : next !== old)) changed.add(key);
  };
  switch (schema.type) {
    case 'object':
    case 'map': {
      if (!isObject(next)) return leaf();
      if (schema.type === 'map' && key !== '' && old === undefined) changed.add(key);
      const o = isObject(old) ? old : undefined;
      for (const [k, v] of Object.entries(next)) {
        const declared = schema.type === 'object' ? schema.properties[k] : schema.values;
        if (!declared) continue;
        const child = childKey(key, `f:${k}`);
        const before = o?.[k];
        diffWalk(v, before, declared, child, after, changed);
        if (v === null || (isObject(v) && Object.keys(v).length === 0) || schema.type === 'map') {
          after.add(child);
          if (before === undefined) changed.add(child);
        }
      }
      return;
    }
    case 'array': {
      if (!granularList(schema) || !Array.isArray(next)) return leaf();
      if (old === undefined) changed.add(key);
      next.forEach((item, i) => {
        const pe = itemElement(schema, item, i);
        const child = childKey(key, pe);
        const before = childAt(old, pe, schema).value;
        diffWalk(item, before, schema.items, child, after, changed);
        after.add(child);
        if (before === undefined) changed.add(child);
      });
      return;
    }
    default:
      return leaf();
  }
}

/**
 * An Update write (`next` replaces `old`, null for a create): the manager gets the fields whose value it
 * set or changed (and the maps and list items it added), the other managers lose those; fields that no
 * longer exist are nobody's. Sets next.metadata.managedFields (the previous records come from `old`).
 */
export function recordUpdate(schema: ObjectSchema, old: KubeObject | null, next: KubeObject, id: WriteIdentity): void {
  const managed = readManaged(old);
  const after = new Set<string>();
  const changed = new Set<string>();
  diffWalk(withoutManaged(next), old ? withoutManaged(old) : undefined, schema, '', after, changed);
  strip(after);
  strip(changed);
  const present = containersOf(after);
  for (const k of after) present.add(k);
  for (const m of managed) {
    for (const k of [...m.set]) if (changed.has(k) || !present.has(k)) m.set.delete(k);
  }
  if (changed.size > 0) {
    const mine = entryFor(managed, id, 'Update');
    for (const k of changed) mine.set.add(k);
  }
  writeManaged(next, managed);
}

function withoutManaged(o: KubeObject): KubeObject {
  if (o.metadata.managedFields === undefined) return o;
  const { managedFields: _m, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

// ---- apply ---------------------------------------------------------------------------------------------

/** kube's 409 for an apply that would change fields other managers own. */
export function applyConflict(conflicts: { manager: Managed['entry']; path: FieldPath }[]): ApiError {
  const who = (e: Managed['entry']) => {
    let s = JSON.stringify(e.manager);
    if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
    return e.operation === 'Update' ? `${s} using ${e.apiVersion}` : s;
  };
  let message: string;
  if (conflicts.length === 1) message = `Apply failed with 1 conflict: conflict with ${who(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const name = who(c.manager);
      byManager.set(name, [...(byManager.get(name) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const name of [...byManager.keys()].sort()) lines.push(`conflicts with ${name}:`, ...byManager.get(name)!.map((p) => `- ${p}`));
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${who(c.manager)}`, field: pathString(c.path) })),
  });
}

/** Merges an apply configuration into the live object (structured-merge-diff's merge). */
function merge(live: unknown, config: unknown, schema: Schema): unknown {
  if (config === undefined) return live;
  switch (schema.type) {
    case 'object':
    case 'map': {
      if (!isObject(config) || config === null) return config;
      const out: Record<string, unknown> = isObject(live) ? { ...live } : {};
      for (const [k, v] of Object.entries(config)) {
        const s = schema.type === 'object' ? schema.properties[k] : schema.values;
        out[k] = merge(out[k], v, s ?? { type: 'any' });
      }
      return out;
    }
    case 'array': {
      if (!granularList(schema) || !Array.isArray(config)) return config;
      const out = Array.isArray(live) ? [...live] : [];
      config.forEach((item, i) => {
        const pe = itemElement(schema, item, i);
        const at = childAt(out, pe, schema);
        if (at.index !== undefined && at.value !== undefined) out[at.index] = merge(at.value, item, schema.items);
        else out.push(item);
      });
      return out;
    }
    default:
      return config;
  }
}

/** Removes the value at `path` (a field, or a list item) from `obj`. */
function removeAt(obj: unknown, path: FieldPath, schema: Schema): void {
  let v: unknown = obj;
  let s = schema;
  for (const pe of path.slice(0, -1)) {
    v = childAt(v, pe, s).value;
    s = childSchema(s, pe);
    if (v === undefined || v === null) return;
  }
  const last = path[path.length - 1]!;
  if (last.startsWith('f:')) {
    if (isObject(v)) delete v[last.slice(2)];
    return;
  }
  const at = childAt(v, last, s);
  if (Array.isArray(v) && at.index !== undefined && at.value !== undefined) v.splice(at.index, 1);
}

/**
 * Server-side apply of `config` by `id.manager` onto `live` (null: the object does not exist yet). Returns
 * the merged object with its managedFields; a 409 names every field another manager owns with another value
 * unless `force`, which takes those fields over.
 */
export function applyConfiguration(schema: ObjectSchema, live: KubeObject | null, config: KubeObject, id: WriteIdentity, force: boolean): KubeObject {
  const managed = readManaged(live);
  const applied = strip(toFieldSet(withoutManaged(config), schema));
  const base = live ? (structuredClone(withoutManaged(live)) as KubeObject) : ({ metadata: {} } as KubeObject);
  const mine = managed.find((m) => sameEntry(m, id, 'Apply'));
  // Fields this manager applied before and no longer applies go, unless someone else owns them too.
  if (mine) {
    for (const k of [...mine.set].sort((a, b) => b.length - a.length)) {
      if (applied.has(k)) continue;
      if (managed.some((m) => m !== mine && m.set.has(k))) continue;
      removeAt(base, pathOf(k), schema);
    }
  }
  const merged = merge(base, withoutManaged(config), schema) as KubeObject;
  const conflicts: { manager: Managed['entry']; path: FieldPath }[] = [];
  for (const m of managed) {
    if (m === mine) continue;
    for (const k of applied) {
      if (!m.set.has(k) || hasDescendant(applied, k)) continue;
      const p = pathOf(k);
      // Equal values are co-owned, not a conflict. Key order is no difference: a typed client's protobuf body
      // stores a PolicyRule as {verbs, apiGroups, resources}, a manifest applies it as {apiGroups, resources, verbs}.
      if (!isDeepStrictEqual(valueAt(merged, p, schema), valueAt(live, p, schema))) conflicts.push({ manager: m.entry, path: p });
    }
  }
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
  for (const c of conflicts) {
    const owner = managed.find((m) => m.entry === c.manager);
    owner?.set.delete(pathKey(c.path));
  }
  const entry = entryFor(managed, id, 'Apply');
  entry.set = applied;
  for (const m of managed) for (const k of [...m.set]) if (valueAt(merged, pathOf(k), schema) === undefined) m.set.delete(k);
  merged.metadata = isObject(merged.metadata) ? merged.metadata : {};
  writeManaged(merged, managed);
  return merged;
}
