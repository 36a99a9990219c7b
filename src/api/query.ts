// Query parameters read as apimachinery's conversion reads them (runtime.Convert_Slice_string_To_bool and
// friends): the first value counts; a boolean is false only for "0" or "false" (any case) and true for any
// other value, the empty one included (`?watch` alone is a watch, as kube-apiserver treats it); an integer
// is Go's strconv.ParseInt(s, 10, 64), and a value it refuses is a 400 with strconv's words.
import { badRequest } from '../apis/status.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A boolean parameter: undefined when absent. */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  const v = all[0]!;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/**
 * An int64 parameter: undefined when absent. Values beyond what a JS number holds exactly are clamped to
 * ±2^53 (every count and duration this server deals in is far below it).
 */
export function queryInt64(q: URLSearchParams, name: string): number | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  const v = all[0]!;
  if (!/^[+-]?\d+$/.test(v)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(n > max ? max : n < -max ? -max : n);
}
