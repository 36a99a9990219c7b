// The official JavaScript client's models, generated from kube-apiserver's OpenAPI, as an oracle of the
// shapes serve sends: every field must be one kube's schema has, of the JSON type the client's deserializer
// expects, with times in the form Go marshals them. (The client's own deserializer drops unknown fields and
// turns any string into a Date, so it would hide these differences rather than report them.)
import * as k8s from '@kubernetes/client-node';

interface AttributeType {
  baseName: string;
  type: string;
  format: string;
}
type Model = { getAttributeTypeMap(): AttributeType[] };

const models = k8s as unknown as Record<string, Model | undefined>;

/** The client's model class name for a kind served at apiVersion (`v1` Event is CoreV1Event in the client). */
export function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  const name = `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
  return models[name]?.getAttributeTypeMap ? name : `Core${name}`;
}

export const hasModel = (name: string): boolean => typeof models[name]?.getAttributeTypeMap === 'function';

// metav1.Time and MicroTime as Go marshals them (UTC; whole seconds; six digits).
const GO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const GO_MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every way `value` differs from the client's model `type`, as `path: what`. */
export function shapeProblems(value: unknown, type: string, path = ''): string[] {
  const out: string[] = [];
  check(value, { baseName: '', type, format: '' }, path, out);
  return out;
}

function check(v: unknown, a: AttributeType, path: string, out: string[]): void {
  // Go writes null for a zero metav1.Time (reviews' creationTimestamp) and nil pointers; the client takes it.
  if (v === undefined || v === null) return;
  const { type, format } = a;
  const bad = (what: string) => out.push(`${path}: ${JSON.stringify(v)} ${what}`);
  if (type.startsWith('Array<')) {
    if (!Array.isArray(v)) return void bad(`is not an array (${type})`);
    v.forEach((x, i) => check(x, { baseName: '', type: type.slice(6, -1), format }, `${path}[${i}]`, out));
    return;
  }
  if (type.startsWith('{ [key: string]: ')) {
    if (typeof v !== 'object' || Array.isArray(v)) return void bad('is not a map');
    for (const [k, x] of Object.entries(v)) check(x, { baseName: '', type: type.slice(17, -3), format }, `${path}.${k}`, out);
    return;
  }
  switch (type) {
    case 'string':
      if (typeof v !== 'string') bad('is not a string');
      else if (format === 'byte' && !BASE64.test(v)) bad('is not base64');
      return;
    case 'number':
      if (typeof v !== 'number' || ((format === 'int32' || format === 'int64') && !Number.isInteger(v))) bad(`is not a ${format || 'number'}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') bad('is not a boolean');
      return;
    case 'Date':
      if (typeof v !== 'string' || !GO_TIME.test(v)) bad('is not a metav1.Time as Go marshals it');
      return;
    case 'V1MicroTime':
      if (typeof v !== 'string' || !GO_MICRO_TIME.test(v)) bad('is not a metav1.MicroTime as Go marshals it');
      return;
    case 'IntOrString':
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isInteger(v))) bad('is not an int-or-string');
      return;
    case 'any':
      return;
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap) return void out.push(`${path}: the client has no model ${type}`);
  if (typeof v !== 'object' || Array.isArray(v)) return void bad(`is not an object (${type})`);
  const attrs = model.getAttributeTypeMap();
  for (const k of Object.keys(v)) if (!attrs.some((x) => x.baseName === k)) out.push(`${path}.${k}: not a field of ${type}`);
  for (const x of attrs) check((v as Record<string, unknown>)[x.baseName], x, `${path}.${x.baseName}`, out);
}
