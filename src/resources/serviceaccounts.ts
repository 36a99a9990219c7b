// v1 ServiceAccount: an identity for processes, with the secrets and image pull secrets it references.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { arrayOf, bool, obj, str } from '../api/schema.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import type { KubeObject } from '../apis/objects.js';

export const objectReferenceSchema = obj(
  {
    apiVersion: str('API version of the referent.'),
    fieldPath: str('If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    namespace: str('Namespace of the referent.'),
    resourceVersion: str('Specific resourceVersion to which this reference is made, if any.'),
    uid: str('UID of the referent.'),
  },
  { name: 'io.k8s.api.core.v1.ObjectReference', description: 'ObjectReference contains enough information to let you inspect or modify the referred object.' },
);

const serviceAccountSchema = kindSchema({
  name: 'io.k8s.api.core.v1.ServiceAccount',
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  description: 'ServiceAccount binds together: a name, understood by users, and perhaps by peripheral systems, for an identity; a principal that can be authenticated and authorized; a set of secrets.',
  properties: {
    automountServiceAccountToken: bool('AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted.'),
    imagePullSecrets: arrayOf(
      obj({ name: str('Name of the referent.') }, { name: 'io.k8s.api.core.v1.LocalObjectReference', description: 'LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.' }),
      { listType: 'atomic', description: 'ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount.' },
    ),
    secrets: arrayOf(objectReferenceSchema, {
      listType: 'map',
      listMapKeys: ['name'],
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
    }),
  },
});

export const serviceAccounts: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  plural: 'serviceaccounts',
  singular: 'serviceaccount',
  shortNames: ['sa'],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: serviceAccountSchema,
  validateName: isDNS1123Subdomain,
  strategy: {},
  subresources: [],
  printer: {
    columns: [NAME_COLUMN, { name: 'Secrets', type: 'integer', description: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.' }, AGE_COLUMN],
    cells: (o: KubeObject, now) => [o.metadata.name ?? '', ((o['secrets'] as unknown[] | undefined) ?? []).length, age(o.metadata.creationTimestamp, now)],
  },
};
