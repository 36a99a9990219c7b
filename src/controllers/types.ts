// The Kubernetes objects the controllers read and write, in their JSON wire form (timestamps are RFC 3339
// strings, bytes are base64), so the same code runs against kubepki's API server and a real kube-apiserver.
// Only the fields the controllers use are typed; everything else is carried through untouched.

import type { KubeObject, ObjectMeta } from '../api/types.js';

export type { KubeObject, ObjectMeta };

/** certificates.k8s.io/v1, as the API server's resource module defines it. */
export type { CertificateSigningRequest, CsrCondition as CertificateSigningRequestCondition } from '../resources/certificatesigningrequests.js';

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface Secret extends KubeObject {
  type?: string;
  /** Values are base64. */
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

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

/** The well-known signer names (k8s.io/api/certificates/v1 and v1beta1). */
export const KUBE_APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBE_APISERVER_CLIENT_KUBELET_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

/** k8s.io/cluster-bootstrap/token/api */
export { CLUSTER_INFO_CONFIGMAP, JWS_SIGNATURE_KEY_PREFIX, KUBECONFIG_KEY } from '../apis/cluster-info.js';
