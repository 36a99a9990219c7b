// The one API client's interface, which the controllers, the agent and `kubepki token` are written against:
// plain REST verbs on any resource plus watch, in Kubernetes' wire JSON. rest.ts speaks HTTPS to any API
// server with a kubeconfig, or kubepki serve's loopback socket. Errors are the API's Status (ApiError from
// src/apis/status).
import type { KubeObject, SubjectAccessReview } from '../apis/objects.js';
import { CTB_GROUP, CTB_VERSION } from '../apis/clustertrustbundle.js';

export interface ResourceRef {
  group: string;
  version: string;
  /** Lower-case plural, as in the URL. */
  resource: string;
  namespaced: boolean;
  kind: string;
}

export const RESOURCES = {
  certificateSigningRequests: { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests', namespaced: false, kind: 'CertificateSigningRequest' },
  configMaps: { group: '', version: 'v1', resource: 'configmaps', namespaced: true, kind: 'ConfigMap' },
  secrets: { group: '', version: 'v1', resource: 'secrets', namespaced: true, kind: 'Secret' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces', namespaced: false, kind: 'Namespace' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true, kind: 'Lease' },
  events: { group: '', version: 'v1', resource: 'events', namespaced: true, kind: 'Event' },
  clusterTrustBundles: { group: CTB_GROUP, version: CTB_VERSION, resource: 'clustertrustbundles', namespaced: false, kind: 'ClusterTrustBundle' },
} as const satisfies Record<string, ResourceRef>;

export interface ListOptions {
  /** Namespaced resources: one namespace; absent = all namespaces. */
  namespace?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ObjectList<T> {
  items: T[];
  metadata: { resourceVersion?: string; continue?: string };
}

export interface WatchOptions {
  namespace?: string;
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** For ERROR the object is a Status. */
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

/** A running watch: `done` resolves when the server ends the stream and rejects on a failure (HTTP status → ApiError). */
export interface WatchStream {
  stop(): void;
  readonly done: Promise<void>;
}

export interface ResourceClient<T extends KubeObject> {
  list(options?: ListOptions): Promise<ObjectList<T>>;
  watch(options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): WatchStream;
  get(name: string, namespace?: string): Promise<T>;
  create(object: T): Promise<T>;
  /** PUT of the object (compare-and-swap on metadata.resourceVersion), or of a subresource (status, approval). */
  update(object: T, subresource?: string): Promise<T>;
  /**
   * update() for a caller that does not read the stored object back (the approver, the signer): the same PUT,
   * with the answer's body left undecoded on success (an error's Status still becomes the ApiError).
   */
  updateWithoutResult(object: T, subresource?: string): Promise<void>;
  delete(name: string, options?: { namespace?: string; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<void>;
}

export interface KubeClient {
  resource<T extends KubeObject>(ref: ResourceRef): ResourceClient<T>;
  createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview>;
}

/** `namespace/name` or `name`, the key informers and queues use. */
export const objectKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`);
