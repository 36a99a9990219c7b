// Discovery documents: the legacy ones (/api, /apis, /apis/<group>, /api/v1, /apis/<group>/<version>) and
// aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) that kubectl 1.30+ asks /api and /apis for
// first. All are computed once from the registry and served as prepared JSON.
import { apiVersionOf, type ResourceDefinition, type ResourceRegistry } from './registry.js';

export interface DiscoveryDocuments {
  apiVersions: string;
  apiGroupList: string;
  /** keyed by group */
  apiGroup: Map<string, string>;
  /** keyed by `group/version` ('' group for core) */
  resourceList: Map<string, string>;
  aggregatedCore: { v2: string; v2beta1: string };
  aggregatedApis: { v2: string; v2beta1: string };
}

function legacyResources(defs: ResourceDefinition[]): unknown[] {
  const out: unknown[] = [];
  for (const d of defs) {
    const r: Record<string, unknown> = {
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames.length > 0) r['shortNames'] = d.shortNames;
    if (d.categories && d.categories.length > 0) r['categories'] = d.categories;
    out.push(r);
    for (const s of d.subresources) {
      const k = s.create ? { group: s.create.group, version: s.create.version, kind: s.create.kind } : { kind: d.kind };
      out.push({ name: `${d.plural}/${s.name}`, singularName: '', namespaced: d.namespaced, ...k, verbs: s.verbs });
    }
  }
  return out;
}

function aggregatedResources(defs: ResourceDefinition[]): unknown[] {
  return defs.map((d) => {
    const r: Record<string, unknown> = {
      resource: d.plural,
      responseKind: { group: d.group, version: d.version, kind: d.kind },
      scope: d.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: d.singular,
      verbs: d.verbs,
    };
    if (d.shortNames.length > 0) r['shortNames'] = d.shortNames;
    if (d.categories && d.categories.length > 0) r['categories'] = d.categories;
    if (d.subresources.length > 0) {
      r['subresources'] = d.subresources.map((s) => ({
        subresource: s.name,
        responseKind: s.create ? { group: s.create.group, version: s.create.version, kind: s.create.kind } : { group: d.group, version: d.version, kind: d.kind },
        verbs: s.verbs,
      }));
    }
    return r;
  });
}

function aggregatedList(registry: ResourceRegistry, groups: string[], apiVersion: string): string {
  const items = registry
    .groups()
    .filter((g) => groups.includes(g.group))
    .map((g) => ({
      metadata: g.group ? { name: g.group, creationTimestamp: null } : { creationTimestamp: null },
      versions: g.versions.map((v) => ({ version: v, resources: aggregatedResources(registry.resourcesOf(g.group, v)), freshness: 'Current' })),
    }));
  return JSON.stringify({ kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items });
}

export function buildDiscovery(registry: ResourceRegistry, serverAddress: string): DiscoveryDocuments {
  const groups = registry.groups();
  const named = groups.filter((g) => g.group !== '');
  const groupDoc = (g: { group: string; versions: string[] }) => ({
    name: g.group,
    versions: g.versions.map((v) => ({ groupVersion: `${g.group}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${g.group}/${g.versions[0]}`, version: g.versions[0] },
  });
  const apiGroup = new Map<string, string>();
  for (const g of named) apiGroup.set(g.group, JSON.stringify({ kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) }));
  const resourceList = new Map<string, string>();
  for (const g of groups) {
    for (const v of g.versions) {
      resourceList.set(
        `${g.group}/${v}`,
        JSON.stringify({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group: g.group, version: v }), resources: legacyResources(registry.resourcesOf(g.group, v)) }),
      );
    }
  }
  const namedGroups = named.map((g) => g.group);
  return {
    apiVersions: JSON.stringify({
      kind: 'APIVersions',
      versions: groups.find((g) => g.group === '')?.versions ?? [],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }),
    apiGroupList: JSON.stringify({ kind: 'APIGroupList', apiVersion: 'v1', groups: named.map(groupDoc) }),
    apiGroup,
    resourceList,
    aggregatedCore: {
      v2: aggregatedList(registry, [''], 'apidiscovery.k8s.io/v2'),
      v2beta1: aggregatedList(registry, [''], 'apidiscovery.k8s.io/v2beta1'),
    },
    aggregatedApis: {
      v2: aggregatedList(registry, namedGroups, 'apidiscovery.k8s.io/v2'),
      v2beta1: aggregatedList(registry, namedGroups, 'apidiscovery.k8s.io/v2beta1'),
    },
  };
}

export const AGGREGATED_CONTENT_TYPE = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
};
