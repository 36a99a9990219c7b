// kube-system/extension-apiserver-authentication, as kube-apiserver's ClusterAuthenticationInfo controller
// writes it at start: the client CA and the request-header settings (JSON lists), CA bundles merged with
// what other servers published so replicas with different CAs do not undo each other.
import { createHash } from 'node:crypto';
import type { StrategyContext } from '../api/registry.js';
import type { ResourceStore } from '../api/store.js';
import type { AuthConfig } from '../auth/config.js';
import { NAMESPACE_SYSTEM } from '../apis/names.js';
import type { KubeObject } from '../apis/objects.js';
import { ApiError } from '../apis/status.js';

export const EXTENSION_APISERVER_AUTHENTICATION = 'extension-apiserver-authentication';

/** Creates or updates the ConfigMap through `configMaps` (a conflict with another replica is retried). */
export async function publishAuthenticationConfigMap(options: { config: AuthConfig; configMaps: ResourceStore; ctx: () => StrategyContext }, attempt = 0): Promise<void> {
  const { config: c, configMaps: store, ctx } = options;
  const want: Record<string, string> = {};
  if (c.clientCA) want['client-ca-file'] = c.clientCA.pem;
  if (c.requestHeader) {
    const rh = c.requestHeader;
    want['requestheader-client-ca-file'] = rh.pem;
    want['requestheader-allowed-names'] = JSON.stringify(rh.allowedNames);
    want['requestheader-username-headers'] = JSON.stringify(rh.usernameHeaders);
    want['requestheader-group-headers'] = JSON.stringify(rh.groupHeaders);
    want['requestheader-extra-headers-prefix'] = JSON.stringify(rh.extraHeaderPrefixes);
  }
  if (Object.keys(want).length === 0) return;
  let existing: KubeObject | null = null;
  try {
    existing = await store.get(NAMESPACE_SYSTEM, EXTENSION_APISERVER_AUTHENTICATION);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  const data = { ...((existing?.['data'] as Record<string, string> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(want)) data[k] = k.endsWith('-ca-file') ? mergeBundles(data[k], v) : v;
  try {
    if (!existing) {
      await store.create(NAMESPACE_SYSTEM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: EXTENSION_APISERVER_AUTHENTICATION, namespace: NAMESPACE_SYSTEM }, data }, ctx(), { dryRun: false });
    } else if (JSON.stringify(data) !== JSON.stringify(existing['data'] ?? {})) {
      await store.update(NAMESPACE_SYSTEM, EXTENSION_APISERVER_AUTHENTICATION, { ...existing, data }, ctx(), { dryRun: false });
    }
  } catch (err) {
    if (err instanceof ApiError && err.code === 409 && attempt < 3) return publishAuthenticationConfigMap(options, attempt + 1);
    throw err;
  }
}

/** Union of two PEM bundles, de-duplicated by certificate content, existing ones first. */
function mergeBundles(existing: string | undefined, add: string): string {
  const blocks = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const b of [...blocks(existing ?? ''), ...blocks(add)]) {
    const id = createHash('sha256').update(b.replace(/\s+/g, '')).digest('hex');
    if (!seen.has(id)) {
      seen.add(id);
      out.push(b);
    }
  }
  return out.join('\n') + '\n';
}
