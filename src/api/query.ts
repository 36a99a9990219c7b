// Query parameters read as apimachinery's conversion reads them (runtime.Convert_Slice_string_To_bool and
// friends): the first value counts; a boolean is false only for "0" or "false" (any case) and true for any
// other value, the empty one included (`?watch` alone is a watch, as kube-apiserver treats it).

/** A boolean parameter: undefined when absent. */
export function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const all = q.getAll(name);
  if (all.length === 0) return undefined;
  const v = all[0]!;
  return !(v === '0' || v.toLowerCase() === 'false');
}
