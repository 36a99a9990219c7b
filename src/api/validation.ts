// Name, label and ObjectMeta validation with kube-apiserver's rules and messages
// (k8s.io/apimachinery/pkg/util/validation and pkg/api/validation/objectmeta.go).
import type { ObjectMeta } from '../apis/objects.js';
import { forbiddenField, invalid, required, type FieldError } from '../apis/status.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** IsDNS1123Label: error strings, empty when valid. */
export function isDNS1123Label(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) errs.push(DNS1123_LABEL_MSG);
  return errs;
}

/** IsDNS1123Subdomain. */
export function isDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) errs.push(DNS1123_SUBDOMAIN_MSG);
  return errs;
}

/** IsQualifiedName: an optional DNS subdomain prefix and a name part (label keys, finalizers). */
export function isQualifiedName(v: string): string[] {
  const errs: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > 63) errs.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) errs.push(QUALIFIED_NAME_MSG);
  return errs;
}

export const validateLabelKey = isQualifiedName;

export function validateLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 63) errs.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) errs.push(LABEL_VALUE_MSG);
  return errs;
}

/** ValidatePathSegmentName: RBAC objects may have almost any name that fits in a URL path segment. */
export function isPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const errs: string[] = [];
  for (const c of ['/', '%']) if (v.includes(c)) errs.push(`may not contain '${c}'`);
  return errs;
}

export type NameValidator = (name: string) => string[];

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateLabels(labels: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  for (const [k, v] of Object.entries(labels as Record<string, string>)) {
    for (const m of validateLabelKey(k)) errs.push(invalid(field, k, m));
    for (const m of validateLabelValue(String(v))) errs.push(invalid(`${field}[${k}]`, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, string>)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(field, k, m));
    size += k.length + String(v).length;
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) {
    errs.push({ type: 'FieldValueTooLong', field, value: '', detail: `must have at most ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes` });
  }
  return errs;
}

/** ValidateObjectMeta for create (and as the first half of update validation). */
export function validateObjectMeta(meta: ObjectMeta, options: { namespaced: boolean; validateName: NameValidator }): FieldError[] {
  const errs: FieldError[] = [];
  if (meta.generateName) {
    for (const m of options.validateName(meta.generateName.replace(/-$/, '') || 'a')) {
      errs.push(invalid('metadata.generateName', meta.generateName, m));
    }
  }
  if (!meta.name) errs.push(required('metadata.name', 'name or generateName is required'));
  else for (const m of options.validateName(meta.name)) errs.push(invalid('metadata.name', meta.name, m));
  if (options.namespaced) {
    if (!meta.namespace) errs.push(required('metadata.namespace'));
    else for (const m of isDNS1123Label(meta.namespace)) errs.push(invalid('metadata.namespace', meta.namespace, m));
  } else if (meta.namespace) {
    errs.push(forbiddenField('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  if (Array.isArray(meta.finalizers)) {
    meta.finalizers.forEach((f, i) => {
      for (const m of isQualifiedName(f)) errs.push(invalid(`metadata.finalizers[${i}]`, f, m));
    });
  }
  errs.push(...validateOwnerReferences(meta.ownerReferences));
  return errs;
}

/**
 * ValidateOwnerReferences (apimachinery): each reference names a version, kind, name and uid. Field paths carry
 * no index, as kube's. The version is the part after "/" of apiVersion; more than one "/" leaves none.
 */
function validateOwnerReferences(refs: unknown): FieldError[] {
  if (!Array.isArray(refs)) return [];
  const errs: FieldError[] = [];
  const f = 'metadata.ownerReferences';
  for (const ref of refs) {
    const r = isObject(ref) ? ref : {};
    const str = (v: unknown) => (typeof v === 'string' ? v : '');
    const apiVersion = str(r['apiVersion']);
    const parts = apiVersion.split('/');
    const version = parts.length === 1 ? parts[0]! : parts.length === 2 ? parts[1]! : '';
    if (!version) errs.push(invalid(`${f}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!str(r['kind'])) errs.push(invalid(`${f}.kind`, str(r['kind']), 'kind must not be empty'));
    if (!str(r['name'])) errs.push(invalid(`${f}.name`, str(r['name']), 'name must not be empty'));
    if (!str(r['uid'])) errs.push(invalid(`${f}.uid`, str(r['uid']), 'uid must not be empty'));
  }
  return errs;
}

/** ValidateObjectMetaUpdate: identity fields are immutable. */
export function validateObjectMetaUpdate(newMeta: ObjectMeta, oldMeta: ObjectMeta): FieldError[] {
  const errs: FieldError[] = [];
  const immutable = (field: keyof ObjectMeta) => {
    if ((newMeta[field] ?? '') !== (oldMeta[field] ?? '')) errs.push(invalid(`metadata.${field}`, newMeta[field], 'field is immutable'));
  };
  immutable('name');
  immutable('namespace');
  immutable('uid');
  immutable('creationTimestamp');
  return errs;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

