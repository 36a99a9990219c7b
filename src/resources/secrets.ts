// v1 Secret: data values are base64 bytes, stringData is write-only and merged into data, type defaults to
// Opaque and never changes, well-known types require their keys (kubernetes.io/tls: tls.crt and tls.key;
// service-account tokens: the service-account.name annotation), an immutable secret keeps its data.
import { isDeepStrictEqual } from 'node:util';
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { bool, bytes, mapOf, str } from '../api/schema.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import { validateConfigKeys } from './configmaps.js';
import type { KubeObject } from '../apis/objects.js';
import { forbiddenField, invalid, required, type FieldError } from '../apis/status.js';
import { validateCustomCaTrustSecret } from './custom-ca-trust-admission.js';

export interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  immutable?: boolean;
}

const MAX_SECRET_SIZE = 1024 * 1024;

const secretSchema = kindSchema({
  name: 'io.k8s.api.core.v1.Secret',
  group: '',
  version: 'v1',
  kind: 'Secret',
  description: 'Secret holds secret data of a certain type.',
  omitEmpty: true,
  properties: {
    data: mapOf(bytes(), 'Data contains the secret data. Each key must consist of alphanumeric characters, \'-\', \'_\' or \'.\'.'),
    immutable: bool('Immutable, if set to true, ensures that data stored in the Secret cannot be updated.'),
    stringData: mapOf(str(), 'stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience.'),
    type: str('Used to facilitate programmatic handling of secret data.'),
  },
});

const REQUIRED_KEYS: Record<string, string[]> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

function validateSecret(s: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const data = s.data ?? {};
  errs.push(...validateConfigKeys(data, 'data'));
  let size = 0;
  for (const v of Object.values(data)) size += Math.floor((v.length * 3) / 4);
  if (size > MAX_SECRET_SIZE) errs.push({ type: 'FieldValueTooLong', field: 'data', value: '', detail: `must have at most ${MAX_SECRET_SIZE} bytes` });
  const type = s.type ?? 'Opaque';
  for (const k of REQUIRED_KEYS[type] ?? []) if (!(k in data)) errs.push(required(`data[${k}]`));
  if (type === 'kubernetes.io/service-account-token' && !s.metadata.annotations?.['kubernetes.io/service-account.name']) {
    errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
  }
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data)) {
    errs.push(required('data[username]', 'either username or password or both must be provided'));
  }
  return errs;
}

/** stringData wins over data for the same key and is never stored (kube's Secret conversion). */
function mergeStringData(s: Secret): void {
  if (!s.stringData) return;
  s.data = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(v, 'utf8').toString('base64');
  delete s.stringData;
}

export const secrets: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  listKind: 'SecretList',
  plural: 'secrets',
  singular: 'secret',
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: secretSchema,
  validateName: isDNS1123Subdomain,
  strategy: {
    defaults(o) {
      const s = o as Secret;
      if (!s.type) s.type = 'Opaque';
      mergeStringData(s);
    },
    validate: (o, ctx) => [...validateSecret(o as Secret), ...validateCustomCaTrustSecret(o as Secret, ctx.now)],
    validateUpdate(n, o, ctx) {
      const ns = n as Secret;
      const os = o as Secret;
      const errs = [...validateSecret(ns), ...validateCustomCaTrustSecret(ns, ctx.now)];
      if ((ns.type ?? 'Opaque') !== (os.type ?? 'Opaque')) errs.push(invalid('type', ns.type, 'field is immutable'));
      if (os.immutable) {
        if (!ns.immutable) errs.push(forbiddenField('immutable', 'field is immutable when `immutable` is set'));
        if (!isDeepStrictEqual(ns.data ?? {}, os.data ?? {})) errs.push(forbiddenField('data', 'field is immutable when `immutable` is set'));
      }
      return errs;
    },
  },
  subresources: [],
  printer: {
    columns: [
      NAME_COLUMN,
      { name: 'Type', type: 'string', description: 'Used to facilitate programmatic handling of secret data.' },
      { name: 'Data', type: 'integer', description: 'Data contains the secret data.' },
      AGE_COLUMN,
    ],
    cells: (o, now) => [o.metadata.name ?? '', (o as Secret).type ?? 'Opaque', Object.keys((o as Secret).data ?? {}).length, age(o.metadata.creationTimestamp, now)],
  },
  fieldSelectors: { type: (o) => (o as Secret).type ?? 'Opaque' },
};
