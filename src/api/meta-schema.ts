// Schemas of the meta.k8s.io/v1 types every kind embeds (ObjectMeta and friends), and the helper that wraps
// a kind's own fields with apiVersion/kind/metadata.
import { any, arrayOf, bool, int64, mapOf, obj, str, time, type ObjectSchema, type Schema } from './schema.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export const ownerReferenceSchema = obj(
  {
    apiVersion: str('API version of the referent.'),
    blockOwnerDeletion: bool(),
    controller: bool('If true, this reference points to the managing controller.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
  },
  { name: `${META}.OwnerReference`, required: ['apiVersion', 'kind', 'name', 'uid'], description: 'OwnerReference contains enough information to let you identify an owning object.' },
);

export const managedFieldsEntrySchema = obj(
  {
    apiVersion: str(),
    fieldsType: str(),
    fieldsV1: any(),
    manager: str(),
    operation: str(),
    subresource: str(),
    time: time(),
  },
  { name: `${META}.ManagedFieldsEntry` },
);

export const objectMetaSchema = obj(
  {
    annotations: mapOf(str(), 'Annotations is an unstructured key value map stored with a resource.'),
    creationTimestamp: time('CreationTimestamp is a timestamp representing the server time when this object was created.'),
    deletionGracePeriodSeconds: int64(),
    deletionTimestamp: time(),
    finalizers: arrayOf(str(), { listType: 'set', patchStrategy: 'merge' }),
    generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.'),
    generation: int64(),
    labels: mapOf(str(), 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
    managedFields: arrayOf(managedFieldsEntrySchema, { listType: 'atomic' }),
    name: str('Name must be unique within a namespace.'),
    namespace: str('Namespace defines the space within which each name must be unique.'),
    ownerReferences: arrayOf(ownerReferenceSchema, { listType: 'map', listMapKeys: ['uid'], patchStrategy: 'merge', patchMergeKey: 'uid' }),
    resourceVersion: str('An opaque value that represents the internal version of this object.'),
    selfLink: str(),
    uid: str('UID is the unique in time and space value for this object.'),
  },
  { name: `${META}.ObjectMeta`, description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.' },
);

export const listMetaSchema = obj(
  {
    continue: str(),
    remainingItemCount: int64(),
    resourceVersion: str(),
    selfLink: str(),
  },
  { name: `${META}.ListMeta` },
);

/** metav1.Condition (used by newer kinds' status.conditions). */
export const conditionSchema = obj(
  {
    lastTransitionTime: time(),
    message: str(),
    observedGeneration: int64(),
    reason: str(),
    status: str(),
    type: str(),
  },
  { name: `${META}.Condition`, required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);

/** A kind's top-level schema: apiVersion, kind, metadata plus its own fields. */
export function kindSchema(options: {
  name: string;
  group: string;
  version: string;
  kind: string;
  description?: string;
  properties: Record<string, Schema>;
  required?: string[];
}): ObjectSchema {
  return obj(
    {
      apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
      kind: str('Kind is a string value representing the REST resource this object represents.'),
      metadata: objectMetaSchema,
      ...options.properties,
    },
    {
      name: options.name,
      ...(options.description ? { description: options.description } : {}),
      ...(options.required ? { required: options.required } : {}),
      gvk: [{ group: options.group, version: options.version, kind: options.kind }],
    },
  );
}

/** The list kind's schema (FooList), for OpenAPI. */
export function listSchema(item: ObjectSchema, options: { group: string; version: string; kind: string }): ObjectSchema {
  return obj(
    {
      apiVersion: str(),
      items: arrayOf(item),
      kind: str(),
      metadata: listMetaSchema,
    },
    { name: `${item.name}List`, required: ['items'], gvk: [options] },
  );
}
