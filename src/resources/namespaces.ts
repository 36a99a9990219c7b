// v1 Namespace: cluster-scoped, named as a DNS-1123 label, labelled kubernetes.io/metadata.name=<name>
// (kube's NamespaceDefaultLabelName), Active on creation. Deleting one removes everything in it (the API
// handler does what kube's namespace controller does, synchronously); default, kube-system and
// kube-public cannot be deleted.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition } from '../api/registry.js';
import { arrayOf, obj, str, time } from '../api/schema.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Label } from '../api/validation.js';
import type { KubeObject } from '../apis/objects.js';
import { invalid, type FieldError } from '../apis/status.js';
import { NAMESPACE_DEFAULT, NAMESPACE_NODE_LEASE, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM } from '../apis/names.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** Created at server start, as kube-apiserver's system namespaces controller does. */
export const SYSTEM_NAMESPACES = [NAMESPACE_DEFAULT, NAMESPACE_SYSTEM, NAMESPACE_PUBLIC, NAMESPACE_NODE_LEASE];

const namespaceSchema = kindSchema({
  name: 'io.k8s.api.core.v1.Namespace',
  group: '',
  version: 'v1',
  kind: 'Namespace',
  description: 'Namespace provides a scope for Names. Use of multiple namespaces is optional.',
  properties: {
    spec: obj({ finalizers: arrayOf(str(), { listType: 'atomic' }) }, { name: 'io.k8s.api.core.v1.NamespaceSpec' }),
    status: obj(
      {
        conditions: arrayOf(
          obj(
            { lastTransitionTime: time(), message: str(), reason: str(), status: str(), type: str() },
            { name: 'io.k8s.api.core.v1.NamespaceCondition', required: ['type', 'status'] },
          ),
          { listType: 'map', listMapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type' },
        ),
        phase: str('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
      },
      { name: 'io.k8s.api.core.v1.NamespaceStatus' },
    ),
  },
});

interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

const withNameLabel = (o: KubeObject) => {
  o.metadata.labels = { ...(o.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: o.metadata.name ?? '' };
};

export const namespaces: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  plural: 'namespaces',
  singular: 'namespace',
  shortNames: ['ns'],
  namespaced: false,
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  schema: namespaceSchema,
  validateName: isDNS1123Label,
  strategy: {
    prepareForCreate(o) {
      const ns = o as Namespace;
      ns.status = { phase: 'Active' };
      ns.spec = { finalizers: ['kubernetes'] };
      if (ns.metadata.name) withNameLabel(ns);
    },
    prepareForUpdate(n, o) {
      (n as Namespace).spec = structuredClone((o as Namespace).spec);
      (n as Namespace).status = structuredClone((o as Namespace).status);
      withNameLabel(n);
    },
    validateUpdate(n): FieldError[] {
      const v = n.metadata.labels?.[NAMESPACE_NAME_LABEL];
      return v === n.metadata.name ? [] : [invalid(`metadata.labels[${NAMESPACE_NAME_LABEL}]`, v, 'must equal the namespace name')];
    },
  },
  subresources: [
    {
      name: 'status',
      verbs: ['get', 'patch', 'update'],
      strategy: {
        prepareForUpdate(n, o) {
          (n as Namespace).spec = structuredClone((o as Namespace).spec);
        },
        validateUpdate: () => [],
      },
    },
  ],
  printer: {
    columns: [NAME_COLUMN, { name: 'Status', type: 'string', description: 'The status of the namespace' }, AGE_COLUMN],
    cells: (o, now) => [o.metadata.name ?? '', (o as Namespace).status?.phase ?? '', age(o.metadata.creationTimestamp, now)],
  },
  fieldSelectors: { 'status.phase': (o) => (o as Namespace).status?.phase },
};


