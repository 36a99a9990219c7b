// v1 Namespace: cluster-scoped, named as a DNS-1123 label, labelled kubernetes.io/metadata.name=<name>
// (kube's NamespaceDefaultLabelName), Active on creation. Deleting one removes everything in it first (its
// delete hook does what kube's namespace controller does, synchronously) and answers with the namespace,
// Terminating; default, kube-system and kube-public cannot be deleted.
import { kindSchema } from '../api/meta-schema.js';
import type { DeleteHookContext, ResourceDefinition } from '../api/registry.js';
import { parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import { formatTime } from '../util/time.js';
import { NAMESPACE_DEFAULT, NAMESPACE_NODE_LEASE, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM } from '../apis/names.js';
import { arrayOf, obj, str, time } from '../api/schema.js';
import { ApiError, forbidden, invalid, notFound, type FieldError } from '../apis/status.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import type { KubeObject } from '../apis/index.js';
import { isDNS1123Label } from '../api/validation.js';

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
    spec: obj(
      { finalizers: arrayOf(str(), { listType: 'atomic', description: 'Finalizers is an opaque list of values that must be empty to permanently remove object from storage.' }) },
      { name: 'io.k8s.api.core.v1.NamespaceSpec', description: 'NamespaceSpec describes the attributes on a Namespace.' },
    ),
    status: obj(
      {
        conditions: arrayOf(
          obj(
            {
              lastTransitionTime: time('Last time the condition transitioned from one status to another.'),
              message: str('Human-readable message indicating details about last transition.'),
              reason: str('Unique, one-word, CamelCase reason for the condition\'s last transition.'),
              status: str('Status of the condition, one of True, False, Unknown.'),
              type: str('Type of namespace controller condition.'),
            },
            { name: 'io.k8s.api.core.v1.NamespaceCondition', required: ['type', 'status'], description: 'NamespaceCondition contains details about state of namespace.' },
          ),
          { listType: 'map', listMapKeys: ['type'], patchStrategy: 'merge', patchMergeKey: 'type', description: 'Represents the latest available observations of a namespace\'s current state.' },
        ),
        phase: str('Phase is the current lifecycle phase of the namespace.', { enum: ['Active', 'Terminating'] }),
      },
      { name: 'io.k8s.api.core.v1.NamespaceStatus', description: 'NamespaceStatus is information about the current status of a Namespace.' },
    ),
  },
});

interface Namespace extends KubeObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

const PROTECTED_NAMESPACES = new Set([NAMESPACE_DEFAULT, NAMESPACE_SYSTEM, NAMESPACE_PUBLIC]);

/** Everything in the namespace goes first (kube's namespace controller, done synchronously). */
async function deleteContents(ns: string, ctx: DeleteHookContext): Promise<void> {
  if (PROTECTED_NAMESPACES.has(ns)) throw forbidden({ group: '', resource: 'namespaces' }, ns, 'this namespace may not be deleted');
  const self = [...ctx.stores.values()].find((s) => s.def === namespaces);
  if (self) await self.get('', ns); // 404 first
  else throw notFound({ group: '', resource: 'namespaces' }, ns);
  if (ctx.dryRun) return;
  const everything = { labelSelector: parseLabelSelector(''), fieldSelector: parseFieldSelector('') };
  for (const [d, store] of ctx.stores) {
    if (!d.namespaced) continue;
    const list = await store.list(ns, everything);
    for (const item of list.items) {
      try {
        if (item.metadata.finalizers?.length) {
          await store.update(ns, item.metadata.name!, { ...item, metadata: { ...item.metadata, finalizers: [] } }, ctx.strategy, { dryRun: false });
        }
        await store.delete(ns, item.metadata.name!, ctx.strategy, { dryRun: false });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }
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
  deleteHooks: {
    beforeDelete: deleteContents,
    deletedObject(o, ctx) {
      o.metadata.deletionTimestamp = o.metadata.deletionTimestamp ?? formatTime(ctx.now);
      o['status'] = { phase: 'Terminating' };
      return o;
    },
  },
};


