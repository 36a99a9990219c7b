// Schemas of the meta.k8s.io/v1 types every kind embeds (ObjectMeta and friends), and the helper that wraps
// a kind's own fields with apiVersion/kind/metadata.
import { any, arrayOf, bool, int64, mapOf, obj, str, time, type ObjectSchema, type Schema } from './schema.js';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

export const ownerReferenceSchema = obj(
  {
    apiVersion: str('API version of the referent.'),
    blockOwnerDeletion: bool('If true, and the owner has the "foregroundDeletion" finalizer, the owner cannot be deleted from storage until this reference is removed.'),
    controller: bool('If true, this reference points to the managing controller.'),
    kind: str('Kind of the referent.'),
    name: str('Name of the referent.'),
    uid: str('UID of the referent.'),
  },
  { name: `${META}.OwnerReference`, required: ['apiVersion', 'kind', 'name', 'uid'], description: 'OwnerReference contains enough information to let you identify an owning object.' },
);

export const managedFieldsEntrySchema = obj(
  {
    apiVersion: str('APIVersion defines the version of this resource that this field set applies to, as "group/version" (or "v1" for the core group).'),
    fieldsType: str('FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: "FieldsV1".'),
    fieldsV1: any('FieldsV1 holds the first JSON version format of the set of fields this manager owns: "f:<name>" for a field, "k:<keys>" for a list item by its keys, "v:<value>" for a set item, "." for the item itself.'),
    manager: str('Manager is an identifier of the workflow managing these fields.'),
    operation: str('Operation is the type of operation which lead to this ManagedFieldsEntry being created: "Apply" or "Update".', { enum: ['Apply', 'Update'] }),
    subresource: str('Subresource is the name of the subresource (e.g. "status") used to update the object; empty for the main resource.'),
    time: time('Time is the timestamp of when the ManagedFields entry was added; it is updated when the manager\'s set of fields changes.'),
  },
  { name: `${META}.ManagedFieldsEntry`, description: 'ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.' },
);

export const objectMetaSchema = obj(
  {
    annotations: mapOf(str(), 'Annotations is an unstructured key value map stored with a resource.'),
    creationTimestamp: time('CreationTimestamp is a timestamp representing the server time when this object was created.'),
    deletionGracePeriodSeconds: int64('Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. Read-only.'),
    deletionTimestamp: time('DeletionTimestamp is the time after which this resource will be deleted, set by the server when a graceful deletion is requested (while finalizers remain). Read-only.'),
    finalizers: arrayOf(str(), { listType: 'set', patchStrategy: 'merge', description: 'Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list.' }),
    generateName: str('GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided.'),
    generation: int64('A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.'),
    labels: mapOf(str(), 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.'),
    managedFields: arrayOf(managedFieldsEntrySchema, { listType: 'atomic', description: 'ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow (server-side apply field ownership). Populated by the system.' }),
    name: str('Name must be unique within a namespace.'),
    namespace: str('Namespace defines the space within which each name must be unique.'),
    ownerReferences: arrayOf(ownerReferenceSchema, { listType: 'map', listMapKeys: ['uid'], patchStrategy: 'merge', patchMergeKey: 'uid', description: 'List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected.' }),
    resourceVersion: str('An opaque value that represents the internal version of this object.'),
    selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
    uid: str('UID is the unique in time and space value for this object.'),
  },
  { name: `${META}.ObjectMeta`, description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.', omitEmpty: true },
);

export const listMetaSchema = obj(
  {
    continue: str('continue may be set if the user set a limit on the number of items returned, and indicates that the server has more data available.'),
    remainingItemCount: int64('remainingItemCount is the number of subsequent items in the list which are not included in this list response.'),
    resourceVersion: str('String that identifies the server\'s internal version of this object that can be used by clients to determine when objects have changed.'),
    selfLink: str('Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.'),
  },
  { name: `${META}.ListMeta`, description: 'ListMeta describes metadata that synthetic resources must have, including lists and various status objects.' },
);

/** metav1.Condition (used by newer kinds' status.conditions). */
export const conditionSchema = obj(
  {
    lastTransitionTime: time('lastTransitionTime is the last time the condition transitioned from one status to another.'),
    message: str('message is a human readable message indicating details about the transition.'),
    observedGeneration: int64('observedGeneration represents the .metadata.generation that the condition was set based upon.'),
    reason: str('reason contains a programmatic identifier indicating the reason for the condition\'s last transition.'),
    status: str('status of the condition, one of True, False, Unknown.'),
    type: str('type of condition in CamelCase or in foo.example.com/CamelCase.'),
  },
  { name: `${META}.Condition`, description: 'Condition contains details for one aspect of the current state of this API Resource.', required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
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
  /** Every optional string/list/map field of the kind's Go struct is omitempty (see ObjectSchema.omitEmpty). */
  omitEmpty?: boolean;
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
      ...(options.omitEmpty ? { omitEmpty: true } : {}),
    },
  );
}

/** The list kind's schema (FooList), for OpenAPI. */
export function listSchema(item: ObjectSchema, options: { group: string; version: string; kind: string }): ObjectSchema {
  return obj(
    {
      apiVersion: str('APIVersion defines the versioned schema of this representation of an object.'),
      items: arrayOf(item, { description: `List of ${options.kind.replace(/List$/, '')} objects.` }),
      kind: str('Kind is a string value representing the REST resource this object represents.'),
      metadata: listMetaSchema,
    },
    { name: `${item.name}List`, description: `${options.kind} is a list of ${options.kind.replace(/List$/, '')} objects.`, required: ['items'], gvk: [options] },
  );
}
