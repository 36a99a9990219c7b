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
        audiences: arrayOf(str(), { listType: 'atomic', description: 'Audiences are the intendend audiences of the token.' }),
        boundObjectRef: obj(
          { apiVersion: str('API version of the referent.'), kind: str('Kind of the referent. Valid kinds are \'Pod\' and \'Secret\'.'), name: str('Name of the referent.'), uid: str('UID of the referent.') },
          { name: 'io.k8s.api.authentication.v1.BoundObjectReference', description: 'BoundObjectRef is a reference to an object that the token will be bound to.' },
        ),
        expirationSeconds: int64('ExpirationSeconds is the requested duration of validity of the request.'),
      },
      { name: 'io.k8s.api.authentication.v1.TokenRequestSpec', description: 'Spec holds information about the request being evaluated.' },
    ),
    status: obj(
      { expirationTimestamp: time('ExpirationTimestamp is the time of expiration of the returned token.'), token: str('Token is the opaque bearer token.') },
      { name: 'io.k8s.api.authentication.v1.TokenRequestStatus', required: ['token', 'expirationTimestamp'], description: 'Status is filled in by the server and indicates whether the token can be authenticated.' },
    ),
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
