// The three patch formats of kube-apiserver: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
// strategic merge patch, which merges the few lists that declare a merge key in the schema (conditions by
// type, ownerReferences by uid...) and honours the `$patch` / `$deleteFromPrimitiveList` / `$retainKeys` /
// `$setElementOrder` directives; every other list is replaced, as in a merge patch.
import fastJsonPatch from 'fast-json-patch';
import { schemaAt, type Schema } from './schema.js';
import { isObject } from './validation.js';
import { ApiError, badRequest } from '../apis/status.js';
import { requestEntityTooLarge } from './status.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

/** RFC 7386. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** kube-apiserver's maxJSONPatchOperations (endpoints/handlers/patch.go): more is a 413. */
export const MAX_JSON_PATCH_OPERATIONS = 10_000;
/** kube's JSONPatchMaxCopyBytes default (the 3 MiB request body limit): bytes all "copy" operations may add. */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

/** RFC 6902 via fast-json-patch; a failing operation is a 422, a malformed patch a 400. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const op of patch) {
    if (!isObject(op) || typeof op['op'] !== 'string' || typeof op['path'] !== 'string') {
      throw badRequest('the json patch is invalid: every operation needs "op" and "path"');
    }
  }
  if (patch.length > MAX_JSON_PATCH_OPERATIONS) {
    throw requestEntityTooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patch.length}`);
  }
  let at = 0;
  try {
    // One operation at a time, so "copy" can be bounded: each copy may double the document, and 30 copies
    // of copies made the server build gigabytes and stop answering (kube: jsonpatch.AccumulatedCopySizeLimit).
    let doc: unknown = structuredClone(target);
    let copied = 0;
    for (let i = 0; i < patch.length; i++) {
      const op = patch[i] as fastJsonPatch.Operation;
      at = i;
      if (op.op === 'copy' && typeof op.from === 'string') {
        const value: unknown = fastJsonPatch.getValueByPointer(doc, op.from);
        copied += value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
        if (copied > MAX_JSON_PATCH_COPY_BYTES) {
          throw new Error(`Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`);
        }
      }
      doc = fastJsonPatch.applyOperation(doc, op, true, true, true, i).newDocument;
    }
    return doc;
  } catch (err) {
    // The library's own errors say what failed; a TypeError is JavaScript's wording (moving a member into its own
    // child reads a property of undefined), so the client hears which operation could not be applied instead.
    const op = patch[at] as { op: string; path: string };
    const msg = err instanceof TypeError ? `operation ${at} (${op.op} at ${JSON.stringify(op.path)}) cannot be applied to the object` : err instanceof Error ? err.message.split('\n')[0]! : String(err);
    throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
  }
}

const DIRECTIVE = '$patch';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';
const RETAIN_KEYS = '$retainKeys';

/** Strategic merge patch of `patch` onto `target` guided by `schema` (k8s.io/apimachinery strategicpatch). */
export function applyStrategicMergePatch(target: unknown, patch: unknown, schema: Schema | undefined): unknown {
  if (!isObject(patch)) throw badRequest('strategic merge patch must be a JSON object');
  // A top-level `$patch: delete` leaves an empty object (strategicpatch's handleDirectiveInMergeMap), which the
  // handler then refuses for its missing name, as kube does.
  return mergeMap(isObject(target) ? target : {}, patch, schema) ?? {};
}

function mergeMap(target: Record<string, unknown>, patch: Record<string, unknown>, schema: Schema | undefined): Record<string, unknown> | undefined {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) if (k !== DIRECTIVE && !k.startsWith('$')) out[k] = stripDirectives(v);
    return out;
  }
  if (directive !== undefined && directive !== 'merge') throw badRequest(`unknown patch type: ${String(directive)} in map: ${goValue(patch)}`);
  checkDirectiveFormats(patch);
  const out: Record<string, unknown> = { ...target };
  const retain = patch[RETAIN_KEYS];
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS) continue;
    if (k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
      continue;
    }
    const fieldSchema = schemaAt(schema, k);
    if (v === null) {
      delete out[k];
      continue;
    }
    if (isObject(v)) {
      const merged = mergeMap(isObject(out[k]) ? (out[k] as Record<string, unknown>) : {}, v, fieldSchema);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v, fieldSchema);
      continue;
    }
    out[k] = v;
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k) && !(k in patch)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER) || !Array.isArray(v)) continue;
    const field = k.slice(SET_ORDER.length);
    const fieldSchema = schemaAt(schema, field);
    if (Array.isArray(out[field])) out[field] = reorder(out[field] as unknown[], v, fieldSchema);
  }
  return out;
}

/**
 * The directives' shapes, as apimachinery's strategicpatch checks them (mergepatch errors, answered 400 by
 * interpretStrategicMergePatchError; a patch naming keys its $retainKeys does not keep is 422 there).
 */
function checkDirectiveFormats(patch: Record<string, unknown>): void {
  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === 'string')) throw badRequest('invalid patch format of retainKeys');
    for (const k of Object.keys(patch)) {
      if (!k.startsWith('$') && !retain.includes(k)) throw new ApiError(422, 'Invalid', "the server rejected our request due to an error in our request: patch content doesn't match retainKeys list");
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(SET_ORDER) && !Array.isArray(v)) throw badRequest('invalid patch format of setElementOrder list');
    if (k.startsWith(DELETE_PRIMITIVE) && !Array.isArray(v)) throw badRequest('invalid patch format of primitive list');
  }
}

function mergeList(target: unknown[], patch: unknown[], schema: Schema | undefined): unknown[] {
  if (patch.some((e) => isObject(e) && e[DIRECTIVE] === 'replace')) {
    return patch.filter((e) => !(isObject(e) && e[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  const strategy = schema && schema.type === 'array' ? schema.patchStrategy : undefined;
  const mergeKey = schema && schema.type === 'array' ? (schema.patchMergeKey ?? (schema.listType === 'map' ? schema.listMapKeys?.[0] : undefined)) : undefined;
  const itemSchema = schema && schema.type === 'array' ? schema.items : undefined;
  const merging = strategy?.startsWith('merge') || (schema?.type === 'array' && (schema.listType === 'map' || schema.listType === 'set'));
  if (!merging) return patch.map(stripDirectives);
  if (!mergeKey || patch.every((e) => !isObject(e))) {
    // A merging list of primitives (a set): union, keeping the target's order.
    const out = [...target];
    for (const e of patch) if (!out.includes(e)) out.push(e);
    return out;
  }
  const out = target.map((e) => e);
  for (const e of patch) {
    if (!isObject(e)) continue;
    const key = e[mergeKey];
    const idx = out.findIndex((x) => isObject(x) && x[mergeKey] === key);
    if (e[DIRECTIVE] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(out[idx] as Record<string, unknown>, e, itemSchema);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(stripDirectives(e));
    }
  }
  return out;
}

function reorder(list: unknown[], order: unknown[], schema: Schema | undefined): unknown[] {
  const mergeKey = schema && schema.type === 'array' ? schema.patchMergeKey : undefined;
  const keyOf = (e: unknown) => (mergeKey && isObject(e) ? e[mergeKey] : e);
  const orderKeys = order.map((o) => (mergeKey && isObject(o) ? o[mergeKey] : o));
  const ranked = list.map((e, i) => ({ e, i, r: orderKeys.indexOf(keyOf(e)) }));
  ranked.sort((a, b) => (a.r < 0 || b.r < 0 ? a.i - b.i : a.r - b.r));
  return ranked.map((x) => x.e);
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/** A value as Go's fmt %v prints the map[string]interface{} strategicpatch quotes in its errors. */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return v === null ? '<nil>' : String(v);
}
