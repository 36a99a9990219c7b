// Kubernetes objects in their JSON wire form (timestamps are RFC 3339 strings, bytes are base64): the generic
// shape every object has (apiVersion, kind, metadata) and the few kinds that several layers read. Only the
// fields someone uses are typed; everything else is carried through untouched. The CSR is in csr.ts.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
  selfLink?: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface KubeList {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: KubeObject[];
}

/** Deep copy of a JSON value (objects read from a cache are never modified in place). */
export function deepCopy<T>(v: T): T {
  return structuredClone(v);
}

/** core/v1 ConfigMap */
export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** core/v1 Secret */
export interface Secret extends KubeObject {
  type?: string;
  /** Values are base64. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** core/v1 Namespace */
export interface Namespace extends KubeObject {
  status?: { phase?: 'Active' | 'Terminating' | string };
}

/** coordination.k8s.io/v1 Lease; times are RFC 3339 with microseconds (metav1.MicroTime). */
export interface Lease extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The resource part of an authorization.k8s.io/v1 SubjectAccessReview's spec. */
export interface ResourceAttributes {
  namespace?: string;
  verb: string;
  group: string;
  version?: string;
  resource: string;
  subresource?: string;
  name?: string;
}

/** authorization.k8s.io/v1 SubjectAccessReview */
export interface SubjectAccessReview {
  apiVersion: 'authorization.k8s.io/v1';
  kind: 'SubjectAccessReview';
  metadata?: ObjectMeta;
  spec: {
    user?: string;
    uid?: string;
    groups?: string[];
    extra?: Record<string, string[]>;
    resourceAttributes?: ResourceAttributes;
  };
  status?: { allowed: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** core/v1 ServiceAccount (no field of its own is read). */
export type ServiceAccount = KubeObject;
