// Admission for kube-system/custom-ca-trust-secret: the Secret every node installs into its trust store is
// checked when it is written (create, update, patch, apply — they all run the Secret strategy), so a bad
// value is a 422 naming its key at `kubectl apply` time instead of "x509: certificate signed by unknown
// authority" on a node later (seed 001's troubleshooting section).
import { invalid, type FieldError } from '../apis/status.js';
import { CUSTOM_CA_TRUST_NAMESPACE, CUSTOM_CA_TRUST_SECRET, customCasFromSecretData } from '../cluster/custom-ca-trust.js';
import type { KubeObject } from '../apis/index.js';

/** Field errors for the custom CA trust Secret; none for any other Secret. */
export function validateCustomCaTrustSecret(secret: KubeObject & { data?: Record<string, string> }, now: Date): FieldError[] {
  if (secret.metadata.namespace !== CUSTOM_CA_TRUST_NAMESPACE || secret.metadata.name !== CUSTOM_CA_TRUST_SECRET) return [];
  const { problems, certificates } = customCasFromSecretData(secret.data, now);
  // The value shown is the key, as kube's own Secret key validation shows it: certificate data is not echoed.
  return problems.map((p) => (p.key === '' ? invalid('data', certificates.length, p.detail) : invalid(`data[${p.key}]`, p.key, p.detail)));
}
