// v1 ConfigMap: string data and binaryData under config keys (alphanumerics, '-', '_', '.'), no key in
// both, at most 1 MiB in all, frozen once immutable.
import { isDeepStrictEqual } from 'node:util';
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { bool, bytes, mapOf, str } from '../api/schema.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import type { KubeObject } from '../apis/objects.js';
import { forbiddenField, invalid, type FieldError } from '../apis/status.js';

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  immutable?: boolean;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const MAX_SIZE = 1024 * 1024;

/** IsConfigMapKey for every key of a data map. */
export function validateConfigKeys(data: Record<string, unknown>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const k of Object.keys(data)) {
    if (k.length > 253) errs.push(invalid(field, k, 'must be no more than 253 characters'));
    if (!CONFIG_KEY.test(k)) errs.push(invalid(field, k, CONFIG_KEY_MSG));
    if (k === '.' || k === '..' || k.startsWith('..')) errs.push(invalid(field, k, `must not be '.' or '..' or start with '..'`));
  }
  return errs;
}

const configMapSchema = kindSchema({
  name: 'io.k8s.api.core.v1.ConfigMap',
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  description: 'ConfigMap holds configuration data for pods to consume.',
  omitEmpty: true,
  properties: {
    binaryData: mapOf(bytes(), 'BinaryData contains the binary data.'),
    data: mapOf(str(), 'Data contains the configuration data.'),
    immutable: bool('Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated.'),
  },
});

function validateConfigMap(c: ConfigMap): FieldError[] {
  const errs = [...validateConfigKeys(c.data ?? {}, 'data'), ...validateConfigKeys(c.binaryData ?? {}, 'binaryData')];
  for (const k of Object.keys(c.data ?? {})) if (c.binaryData && k in c.binaryData) errs.push(invalid('data', k, 'duplicate of key present in binaryData'));
  let size = 0;
  for (const v of Object.values(c.data ?? {})) size += Buffer.byteLength(v);
  for (const v of Object.values(c.binaryData ?? {})) size += Math.floor((v.length * 3) / 4);
  if (size > MAX_SIZE) errs.push({ type: 'FieldValueTooLong', field: '', value: '', detail: `must have at most ${MAX_SIZE} bytes` });
  return errs;
}

export const configMaps: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  plural: 'configmaps',
  singular: 'configmap',
  shortNames: ['cm'],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: configMapSchema,
  validateName: isDNS1123Subdomain,
  strategy: {
    validate: (o) => validateConfigMap(o as ConfigMap),
    validateUpdate(n, o) {
      const nc = n as ConfigMap;
      const oc = o as ConfigMap;
      const errs = validateConfigMap(nc);
      if (oc.immutable) {
        if (!nc.immutable) errs.push(forbiddenField('immutable', 'field is immutable when `immutable` is set'));
        // Compared as values (a client may send the keys in another order than they are stored in).
        if (!isDeepStrictEqual(nc.data ?? {}, oc.data ?? {})) errs.push(forbiddenField('data', 'field is immutable when `immutable` is set'));
        if (!isDeepStrictEqual(nc.binaryData ?? {}, oc.binaryData ?? {})) errs.push(forbiddenField('binaryData', 'field is immutable when `immutable` is set'));
      }
      return errs;
    },
  },
  subresources: [],
  printer: {
    columns: [NAME_COLUMN, { name: 'Data', type: 'integer', description: 'Data contains the configuration data.' }, AGE_COLUMN],
    cells: (o, now) => [
      o.metadata.name ?? '',
      Object.keys((o as ConfigMap).data ?? {}).length + Object.keys((o as ConfigMap).binaryData ?? {}).length,
      age(o.metadata.creationTimestamp, now),
    ],
  },
};
