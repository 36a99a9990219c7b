// The few Kubernetes objects the authenticators read (Secrets, ServiceAccounts, Pods, Nodes) and the
// injected lookups they read them through: the server backs these with its watch-fed caches or storage,
// tests with plain maps. Authenticators never reach into storage themselves.
import type { KubeObject, Secret, ServiceAccount } from '../apis/objects.js';

export type MaybePromise<T> = T | Promise<T>;

/** Read access to the objects credentials are bound to; null when the object does not exist. */
export interface CredentialObjectLookup {
  getSecret(namespace: string, name: string): MaybePromise<Secret | null>;
  getServiceAccount(namespace: string, name: string): MaybePromise<ServiceAccount | null>;
  /** Absent when the server does not serve pods: pod-bound tokens then fail closed. */
  getPod?(namespace: string, name: string): MaybePromise<KubeObject | null>;
  /** Absent when the server does not serve nodes: node-bound tokens then fail closed. */
  getNode?(name: string): MaybePromise<KubeObject | null>;
}

/** One key of a Secret's data, decoded; undefined when absent (kube's bootstrapsecretutil.GetData). */
export function secretDataString(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  if (v === undefined) return undefined;
  return Buffer.from(v, 'base64').toString('utf8');
}

export function secretDataBytes(secret: Secret, key: string): Buffer | undefined {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64');
}

