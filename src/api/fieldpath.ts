// Field paths and field sets as sigs.k8s.io/structured-merge-diff defines them, driven by our schemas:
// a path is a list of elements — `f:<field>`, `k:{"key":value,...}` (an item of a list-type map, by its
// keys in key-name order), `v:<json>` (an item of a set), `i:<n>` (an index) — and a set of paths is what a
// field manager owns. FieldsV1 is that set as a JSON tree ("." marks a node that is itself in the set and
// has children). Lists are atomic unless the schema says `x-kubernetes-list-type` set or map; maps are
// granular; `any` values are atomic.
import type { Schema } from './schema.js';
import { isObject } from './validation.js';

export type PathElement = string;
export type FieldPath = PathElement[];

const ANY: Schema = { type: 'any' };

/** A path as a set member: its elements joined by a character no element contains (cheap to build and split). */
const SEP = '\u0001';
export const pathKey = (p: FieldPath): string => p.join(SEP);
export const pathOf = (key: string): FieldPath => (key === '' ? [] : key.split(SEP));
export const childKey = (parent: string, pe: PathElement): string => (parent === '' ? pe : parent + SEP + pe);

/** JSON with object keys sorted (how structured-merge-diff writes key and set values). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** The element naming `item` of a list with schema `list`. */
export function itemElement(list: Extract<Schema, { type: 'array' }>, item: unknown, index: number): PathElement {
  if (list.listType === 'map' && list.listMapKeys && isObject(item)) {
    const keys: Record<string, unknown> = {};
    for (const k of [...list.listMapKeys].sort()) if (item[k] !== undefined) keys[k] = item[k];
    return `k:${canonical(keys)}`;
  }
  if (list.listType === 'set') return `v:${canonical(item)}`;
  return `i:${index}`;
}

/** Whether a list is granular (its items are owned one by one) rather than atomic. */
export const granularList = (s: Schema): boolean => s.type === 'array' && (s.listType === 'map' || s.listType === 'set');

/** The schema of a child reached by `pe` from a node of schema `s`. */
export function childSchema(s: Schema, pe: PathElement): Schema {
  if (pe.startsWith('f:')) {
    if (s.type === 'object') return s.properties[pe.slice(2)] ?? ANY;
    if (s.type === 'map') return s.values;
    return ANY;
  }
  return s.type === 'array' ? s.items : ANY;
}

/** The child of `value` at `pe` (undefined when absent) and, for list items, its index. */
export function childAt(value: unknown, pe: PathElement, list?: Schema): { value: unknown; index?: number } {
  if (pe.startsWith('f:')) return { value: isObject(value) ? value[pe.slice(2)] : undefined };
  if (!Array.isArray(value)) return { value: undefined };
  if (pe.startsWith('i:')) {
    const i = Number(pe.slice(2));
    return { value: value[i], index: i };
  }
  for (let i = 0; i < value.length; i++) {
    if (list && list.type === 'array' && itemElement(list, value[i], i) === pe) return { value: value[i], index: i };
  }
  return { value: undefined };
}

/** The value at `path` in `obj`, or undefined. */
export function valueAt(obj: unknown, path: FieldPath, schema: Schema): unknown {
  let v = obj;
  let s = schema;
  for (const pe of path) {
    v = childAt(v, pe, s).value;
    if (v === undefined) return undefined;
    s = childSchema(s, pe);
  }
  return v;
}

/**
 * The set of fields a value sets (structured-merge-diff's ToFieldSet): every scalar and atomic value, every
 * item of a granular list, every entry of a map, and empty or null values.
 */
export function toFieldSet(value: unknown, schema: Schema, path: FieldPath = [], out: Set<string> = new Set()): Set<string> {
  switch (schema.type) {
    case 'object':
    case 'map': {
      if (!isObject(value)) {
        out.add(pathKey(path));
        return out;
      }
      for (const [k, v] of Object.entries(value)) {
        const declared = schema.type === 'object' ? schema.properties[k] : schema.values;
        if (!declared) continue;
        const child = [...path, `f:${k}`];
        toFieldSet(v, declared, child, out);
        if (v === null || (isObject(v) && Object.keys(v).length === 0) || schema.type === 'map') out.add(pathKey(child));
      }
      return out;
    }
    case 'array': {
      if (!granularList(schema) || !Array.isArray(value)) {
        out.add(pathKey(path));
        return out;
      }
      value.forEach((item, i) => {
        const child = [...path, itemElement(schema, item, i)];
        toFieldSet(item, schema.items, child, out);
        out.add(pathKey(child));
      });
      return out;
    }
    default:
      out.add(pathKey(path));
      return out;
  }
}

// ---- FieldsV1 ------------------------------------------------------------------------------------------

interface Node {
  member: boolean;
  children: Map<string, Node>;
}

const ORDER = (pe: string): number => (pe.startsWith('f:') ? 0 : pe.startsWith('k:') ? 1 : pe.startsWith('v:') ? 2 : 3);

function sortElements(a: string, b: string): number {
  const d = ORDER(a) - ORDER(b);
  if (d !== 0) return d;
  if (a.startsWith('i:') && b.startsWith('i:')) return Number(a.slice(2)) - Number(b.slice(2));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A set as FieldsV1 (children in structured-merge-diff's order: fields, keys, values, indexes). */
export function encodeFieldsV1(set: Set<string>): Record<string, unknown> {
  const root: Node = { member: false, children: new Map() };
  for (const key of set) {
    let n = root;
    for (const pe of pathOf(key)) {
      let c = n.children.get(pe);
      if (!c) n.children.set(pe, (c = { member: false, children: new Map() }));
      n = c;
    }
    n.member = true;
  }
  const render = (n: Node): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (n.member && n.children.size > 0) out['.'] = {};
    for (const pe of [...n.children.keys()].sort(sortElements)) out[pe] = render(n.children.get(pe)!);
    return out;
  };
  return render(root);
}

export function decodeFieldsV1(fields: unknown, path: FieldPath = [], out: Set<string> = new Set()): Set<string> {
  if (!isObject(fields)) return out;
  for (const [pe, child] of Object.entries(fields)) {
    if (pe === '.') {
      out.add(pathKey(path));
      continue;
    }
    const p = [...path, pe];
    if (!isObject(child) || Object.keys(child).length === 0) out.add(pathKey(p));
    else decodeFieldsV1(child, p, out);
  }
  return out;
}

/** A path as kube prints it in conflicts: `.spec.x`, `[type="Approved"]`, `[=value]`, `[0]`. */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      if (pe.startsWith('f:')) return `.${body}`;
      if (pe.startsWith('k:')) {
        const keys = JSON.parse(body) as Record<string, unknown>;
        return `[${Object.keys(keys).map((k) => `${k}=${JSON.stringify(keys[k])}`).join(',')}]`;
      }
      if (pe.startsWith('v:')) return `[=${body}]`;
      return `[${body}]`;
    })
    .join('');
}

/** True when `key` has a descendant in `set` (it is a container there, not a leaf). */
export function hasDescendant(set: Set<string>, key: string): boolean {
  const prefix = key + SEP;
  for (const k of set) if (k.startsWith(prefix)) return true;
  return false;
}

/** Every proper prefix (container) of the paths in `set`. */
export function containersOf(set: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const k of set) {
    let i = k.indexOf(SEP);
    while (i >= 0) {
      out.add(k.slice(0, i));
      i = k.indexOf(SEP, i + 1);
    }
  }
  return out;
}
