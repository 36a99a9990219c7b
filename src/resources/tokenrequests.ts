// authentication.k8s.io/v1 TokenRequest, served as the `token` subresource of ServiceAccounts
// (`kubectl create token SA`): create-only, never stored. The logic is src/auth/serviceaccount-token.ts.
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition, SubresourceDefinition } from '../api/registry.js';
import { arrayOf, int64, obj, str, time } from '../api/schema.js';
import type { KubeObject } from '../apis/objects.js';

const GROUP = 'authentication.k8s.io';

export const tokenRequestSchema = kindSchema({
  name: 'io.k8s.api.authentication.v1.TokenRequest',
  group: GROUP,
  version: 'v1',
  kind: 'TokenRequest',
  description: 'TokenRequest requests a token for a given service account.',
  required: ['spec'],
  properties: {
    spec: obj(
      {
        audiences: arrayOf(str(), { listType: 'atomic' }),
        boundObjectRef: obj({ apiVersion: str(), kind: str(), name: str(), uid: str() }, { name: 'io.k8s.api.authentication.v1.BoundObjectReference' }),
        expirationSeconds: int64(),
      },
      { name: 'io.k8s.api.authentication.v1.TokenRequestSpec' },
    ),
    status: obj({ expirationTimestamp: time(), token: str() }, { name: 'io.k8s.api.authentication.v1.TokenRequestStatus', required: ['token', 'expirationTimestamp'] }),
  },
});

export function serviceAccountTokenSubresource(handle: (namespace: string, name: string, body: KubeObject) => Promise<KubeObject>): SubresourceDefinition {
  return {
    name: 'token',
    verbs: ['create'],
    // Never updated: the strategy is required by the type but unused for a create-only subresource.
    strategy: { prepareForUpdate: () => undefined, validateUpdate: () => [] },
    create: { group: GROUP, version: 'v1', kind: 'TokenRequest', schema: tokenRequestSchema, handle: (ns, name, body) => handle(ns, name, body) },
  };
}

/** The ServiceAccount definition with its token subresource added. */
export function withTokenSubresource(serviceAccounts: ResourceDefinition, handle: (namespace: string, name: string, body: KubeObject) => Promise<KubeObject>): ResourceDefinition {
  return { ...serviceAccounts, subresources: [...serviceAccounts.subresources.filter((s) => s.name !== 'token'), serviceAccountTokenSubresource(handle)] };
}
