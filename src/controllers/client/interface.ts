// The API client the controllers are written against: plain REST verbs on any resource plus watch, in
// Kubernetes' wire JSON. One implementation speaks HTTPS to any API server with a kubeconfig (rest.ts);
// another may call kubepki's server in-process. Errors are the API's Status (ApiError from src/api/status).
import { ApiError, isApiError } from '../../api/status.js';
import type { KubeObject, SubjectAccessReview } from '../types.js';

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
  clusterTrustBundles: { group: 'certificates.k8s.io', version: 'v1beta1', resource: 'clustertrustbundles', namespaced: false, kind: 'ClusterTrustBundle' },
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
  delete(name: string, options?: { namespace?: string; preconditions?: { uid?: string; resourceVersion?: string } }): Promise<void>;
}

export interface KubeClient {
  resource<T extends KubeObject>(ref: ResourceRef): ResourceClient<T>;
  createSubjectAccessReview(review: SubjectAccessReview): Promise<SubjectAccessReview>;
}

export { ApiError };
export const isNotFound = (e: unknown): boolean => isApiError(e) && e.code === 404;
export const isConflict = (e: unknown): boolean => isApiError(e) && e.code === 409 && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown): boolean => isApiError(e) && e.reason === 'AlreadyExists';
/** 410 Gone / Expired: the resourceVersion is too old, relist. */
export const isGone = (e: unknown): boolean => isApiError(e) && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');

/** `namespace/name` or `name`, the key informers and queues use. */
export const objectKey = (o: KubeObject): string => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : `${o.metadata.name}`);

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** Builds an ApiError from a Status body (or a bare HTTP status when the body is not one). */
export function apiErrorFromResponse(code: number, body: unknown, fallbackMessage: string): ApiError {
  const s = body as { kind?: string; reason?: string; message?: string; details?: Record<string, unknown>; code?: number } | undefined;
  if (s && s.kind === 'Status') {
    return new ApiError(s.code ?? code, s.reason as ApiError['reason'], s.message ?? fallbackMessage, s.details as never);
  }
  const reason = code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : code === 410 ? 'Gone' : code === 403 ? 'Forbidden' : code === 401 ? 'Unauthorized' : undefined;
  return new ApiError(code, reason, fallbackMessage);
}
