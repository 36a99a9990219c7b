// Content negotiation: which representation a client accepts (JSON, YAML, a Table, partial object metadata,
// aggregated discovery) and which request body formats the server reads. Protobuf is not served: a client
// that accepts only protobuf gets 406, one that also accepts JSON gets JSON (client-go does so).
import { notAcceptable } from './status.js';

export interface MediaType {
  type: string;
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  const out: MediaType[] = [];
  for (const part of header.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (!type) continue;
    const p: Record<string, string> = {};
    for (const kv of params) {
      const eq = kv.indexOf('=');
      if (eq > 0) p[kv.slice(0, eq).trim().toLowerCase()] = kv.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    out.push({ type: type.toLowerCase(), params: p });
  }
  return out;
}

export type OutputKind =
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1' }
  | { kind: 'partialMetadata'; version: 'v1' | 'v1beta1' };

const isJsonish = (t: string) => t === 'application/json' || t === '*/*' || t === 'application/*' || t === 'application/json-patch+json' || t === 'application/merge-patch+json';

/** Picks the representation for a resource response, in the client's order of preference. */
export function negotiateOutput(accept: string | undefined): OutputKind {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return { kind: 'json' };
  for (const m of types) {
    const as = m.params['as'];
    if (as !== undefined) {
      if (m.type !== 'application/json' || m.params['g'] !== 'meta.k8s.io') continue;
      const v = m.params['v'];
      if (v !== 'v1' && v !== 'v1beta1') continue;
      if (as === 'Table') return { kind: 'table', version: v };
      if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return { kind: 'partialMetadata', version: v };
      continue;
    }
    if (isJsonish(m.type)) return { kind: 'json' };
    if (m.type === 'application/yaml') return { kind: 'yaml' };
  }
  throw notAcceptable(['application/json', 'application/yaml']);
}

export type DiscoveryKind = 'legacy' | 'v2' | 'v2beta1';

/** /api and /apis: aggregated discovery (apidiscovery.k8s.io v2 or v2beta1) when asked for it first. */
export function negotiateDiscovery(accept: string | undefined): DiscoveryKind {
  for (const m of parseMediaTypes(accept)) {
    if (m.params['as'] === 'APIGroupDiscoveryList' && m.params['g'] === 'apidiscovery.k8s.io' && m.type === 'application/json') {
      if (m.params['v'] === 'v2') return 'v2';
      if (m.params['v'] === 'v2beta1') return 'v2beta1';
      continue;
    }
    if (m.params['as'] === undefined && (isJsonish(m.type) || m.type === 'application/yaml')) return 'legacy';
  }
  return 'legacy';
}

/** The body's media type without parameters (application/json if the client sent none). */
export function contentTypeOf(header: string | undefined): string {
  if (!header) return 'application/json';
  return header.split(';')[0]!.trim().toLowerCase();
}

/** /openapi/v2 is served as JSON: 'json' when the Accept header allows it (or is absent), else undefined (406). */
export function negotiateOpenApiV2(accept: string | undefined): 'json' | undefined {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return 'json';
  return types.some((m) => isJsonish(m.type)) ? 'json' : undefined;
}
