// Writing responses: JSON bodies, Status errors, Warning headers, and an object or list in the
// representation the client negotiated (JSON, YAML, Table, PartialObjectMetadata).
import type { ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { OutputKind } from './negotiation.js';
import type { ResourceDefinition } from './registry.js';
import type { Status } from '../apis/status.js';
import { RAW_JSON } from './store.js';
import { toTable, type IncludeObject } from './table.js';
import type { KubeList, KubeObject } from '../apis/index.js';

export function sendJson(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  // The string itself, not a Buffer of it: the socket's copy is freed when the write completes, where a Buffer
  // lives until a GC. A list page of 500 CSRs is ~2 MB; serving the controllers' first list of 100,000 left
  // dozens of them in the malloc arena between collections (bench:memory).
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function writeStatus(res: ServerResponse, status: Status): void {
  const headers: Record<string, string> = {};
  if (status.details?.retryAfterSeconds) headers['Retry-After'] = String(status.details.retryAfterSeconds);
  sendJson(res, status.code, JSON.stringify(status), headers);
}

export function setWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}

function partialMetadata(obj: KubeObject, version: string): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

/** How a watch renders each object for this client (undefined: plain JSON, passed through unchanged). */
export function transformFor(output: OutputKind, def: ResourceDefinition, now: () => Date): ((obj: KubeObject, first: boolean) => unknown) | undefined {
  if (output.kind === 'table') return (obj, first) => toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, { includeObject: 'Metadata', now: now(), noHeaders: !first });
  if (output.kind === 'partialMetadata') return (obj) => partialMetadata(obj, output.version);
  return undefined;
}

/**
 * YAML as kube-apiserver writes it (sigs.k8s.io/yaml over go-yaml v2): keys sorted, sequences not indented
 * under their key, and YAML 1.1 quoting. Go readers (clientcmd, sigs.k8s.io/yaml) and PyYAML read YAML 1.1,
 * where a plain `yes`, `on`, `y` or `2026-01-01` is a bool or a date: a string that looks like one is quoted,
 * or a ConfigMap value "on" would come back as `true`.
 */
const KUBE_YAML = { schema: 'yaml-1.1', sortMapEntries: true, indentSeq: false } as const;

function encode(output: OutputKind, value: unknown): { body: string; type: string } {
  if (output.kind === 'yaml') return { body: toYaml(value, KUBE_YAML), type: 'application/yaml' };
  return { body: JSON.stringify(value), type: 'application/json' };
}

export function sendObject(res: ServerResponse, code: number, obj: KubeObject, output: OutputKind, def: ResourceDefinition, now: Date, include: IncludeObject = 'Metadata'): void {
  const raw = (obj as KubeObject & { [RAW_JSON]?: string })[RAW_JSON];
  if (raw !== undefined && output.kind === 'json') return sendJson(res, code, raw);
  let value: unknown = obj;
  if (output.kind === 'table') value = toTable(def, [obj], {}, { includeObject: include, now });
  else if (output.kind === 'partialMetadata') value = partialMetadata(obj, output.version);
  const { body, type } = encode(output, value);
  sendJson(res, code, body, { 'Content-Type': type });
}

export function sendList(res: ServerResponse, list: KubeList, output: OutputKind, def: ResourceDefinition, now: Date, include: IncludeObject): void {
  let value: unknown = list;
  if (output.kind === 'table') value = toTable(def, list.items, list.metadata, { includeObject: include, now });
  else if (output.kind === 'partialMetadata') {
    value = { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${output.version}`, metadata: list.metadata, items: list.items.map((i) => partialMetadata(i, output.version)) };
  }
  const { body, type } = encode(output, value);
  sendJson(res, 200, body, { 'Content-Type': type });
}
