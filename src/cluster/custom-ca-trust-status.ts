// Where each node stands with custom CA trust: the Secret's set (its SHA-256) against each node's report
// Lease (`<node>-custom-ca-trust`). Pure: the objects in, one row per node out; `kubepki trust status`
// prints it.
import {
  ANNOTATION_APPLIED_AT,
  ANNOTATION_APPLIED_COUNT,
  ANNOTATION_APPLIED_SHA256,
  ANNOTATION_ERROR,
  ANNOTATION_ERROR_SINCE,
  ANNOTATION_SOURCE,
  ANNOTATION_WANTED_SHA256,
  CUSTOM_CA_TRUST_LEASE_SUFFIX,
} from '../apis/custom-ca-trust.js';
import { customCaBundleSha256, customCasFromSecretData } from './custom-ca-trust.js';

export interface CustomCaTrustSecretState {
  present: boolean;
  sha256: string;
  certificates: number;
  /** Why the Secret cannot be applied (it was stored without validation). */
  invalid?: string;
}

export interface NodeCustomCaTrustState {
  node: string;
  /** Applied the Secret's current set (or, for a node following ClusterTrustBundles, its source's), with no error pending. */
  inSync: boolean;
  /** Where the node takes its custom CAs from (the Secret, or ClusterTrustBundles). */
  source?: string;
  appliedSha256?: string;
  /** When the applied set was applied. */
  since?: string;
  certificates?: number;
  error?: string;
  errorSince?: string;
}

export interface CustomCaTrustStatus {
  secret: CustomCaTrustSecretState;
  nodes: NodeCustomCaTrustState[];
}

interface ObjectWithMeta {
  metadata?: { name?: string; annotations?: Record<string, string> };
}

export function customCaTrustStatus(options: { secretData: Record<string, string> | undefined | null; leases: ObjectWithMeta[]; now: Date }): CustomCaTrustStatus {
  const set = customCasFromSecretData(options.secretData ?? {}, options.now);
  const secret: CustomCaTrustSecretState = {
    present: options.secretData !== null,
    sha256: customCaBundleSha256(set.certificates),
    certificates: set.certificates.length,
    ...(set.problems.length ? { invalid: set.problems.map((p) => (p.key ? `data[${p.key}]: ${p.detail}` : `data: ${p.detail}`)).join('; ') } : {}),
  };
  const nodes = options.leases
    .filter((l) => l.metadata?.name?.endsWith(CUSTOM_CA_TRUST_LEASE_SUFFIX))
    .map((l): NodeCustomCaTrustState => {
      const a = l.metadata!.annotations ?? {};
      const applied = a[ANNOTATION_APPLIED_SHA256];
      const error = a[ANNOTATION_ERROR];
      const count = a[ANNOTATION_APPLIED_COUNT];
      const source = a[ANNOTATION_SOURCE];
      const fromSecret = source === undefined || source.startsWith('secret/');
      return {
        node: l.metadata!.name!.slice(0, -CUSTOM_CA_TRUST_LEASE_SUFFIX.length),
        inSync: fromSecret ? secret.invalid === undefined && applied === secret.sha256 && !error : applied !== undefined && applied === a[ANNOTATION_WANTED_SHA256] && !error,
        ...(source ? { source } : {}),
        ...(applied ? { appliedSha256: applied } : {}),
        ...(a[ANNOTATION_APPLIED_AT] ? { since: a[ANNOTATION_APPLIED_AT] } : {}),
        ...(count !== undefined ? { certificates: Number(count) } : {}),
        ...(error ? { error, errorSince: a[ANNOTATION_ERROR_SINCE] ?? '' } : {}),
      };
    })
    .sort((x, y) => x.node.localeCompare(y.node));
  return { secret, nodes };
}
