// Well-known names of custom CA trust (seed 001): the Secret operators write, and the per-node record an
// agent keeps of what it applied — a Lease `<node>-custom-ca-trust` in kube-node-lease (a node may write it
// as it writes its heartbeat Lease), whose annotations carry the applied bundle's SHA-256, when, and the
// last error. `kubepki trust status` compares them with the Secret.
export const CUSTOM_CA_TRUST_NAMESPACE = 'kube-system';
export const CUSTOM_CA_TRUST_SECRET = 'custom-ca-trust-secret';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const CUSTOM_CA_TRUST_LEASE_SUFFIX = '-custom-ca-trust';
export const customCaTrustLeaseName = (node: string): string => `${node}${CUSTOM_CA_TRUST_LEASE_SUFFIX}`;

/** Label on every report Lease, so that `trust status` lists them with one selector. */
export const CUSTOM_CA_TRUST_LABEL = 'kubepki.io/custom-ca-trust';
export const ANNOTATION_APPLIED_SHA256 = 'kubepki.io/custom-ca-trust-applied-sha256';
export const ANNOTATION_APPLIED_AT = 'kubepki.io/custom-ca-trust-applied-at';
export const ANNOTATION_APPLIED_COUNT = 'kubepki.io/custom-ca-trust-applied-certificates';
/** The set the node last saw (Secret or file); differs from the applied one while it cannot apply it. */
export const ANNOTATION_WANTED_SHA256 = 'kubepki.io/custom-ca-trust-wanted-sha256';
export const ANNOTATION_SOURCE = 'kubepki.io/custom-ca-trust-source';
export const ANNOTATION_ERROR = 'kubepki.io/custom-ca-trust-error';
export const ANNOTATION_ERROR_SINCE = 'kubepki.io/custom-ca-trust-error-since';
