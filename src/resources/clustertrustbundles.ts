// certificates.k8s.io/v1beta1 ClusterTrustBundle (as in Kubernetes 1.33), cluster-scoped: name rules (a bundle
// linked to a signer is named `<signerName with / → :>:<suffix>`, an unlinked one has no ':'), trustBundle
// rules (cluster/trust-bundle.ts), signerName immutable, and kube's ClusterTrustBundleAttest admission:
// writing a bundle that names a signer needs `attest` on that signer (or `<domain>/*`) — skipped on an
// update that changes neither signerName nor trustBundle, as kube skips it.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition, type StrategyContext } from '../api/registry.js';
import { obj, str } from '../api/schema.js';
import { forbidden, invalid, required, tooLong, type FieldError } from '../apis/status.js';
import { NAME_COLUMN } from '../api/table.js';
import type { KubeObject } from '../apis/index.js';
import { isPathSegmentName } from '../api/validation.js';
import { CTB_GROUP, CTB_RESOURCE, CTB_VERSION, MAX_TRUST_BUNDLE_SIZE, ctbNamePrefix, type ClusterTrustBundle } from '../apis/clustertrustbundle.js';
import { trustBundleProblem } from '../cluster/trust-bundle.js';
import { authorizeSigner } from '../auth/authz/signers.js';
import { validateSignerName } from './certificatesigningrequests.js';

const asCtb = (o: KubeObject) => o as unknown as ClusterTrustBundle;

function validateCtb(b: ClusterTrustBundle): FieldError[] {
  const errs: FieldError[] = [];
  const name = b.metadata.name ?? '';
  const signerName = b.spec?.signerName ?? '';
  if (signerName) {
    errs.push(...validateSignerName('spec.signerName', signerName));
    if (!name.startsWith(ctbNamePrefix(signerName))) {
      errs.push(invalid('metadata.name', name, `ClusterTrustBundle for signerName ${signerName} must be named with prefix ${ctbNamePrefix(signerName)}`));
    }
  } else if (name.includes(':')) {
    errs.push(invalid('metadata.name', name, 'ClusterTrustBundle without signer name must not have ":" in its name'));
  }
  const pem = b.spec?.trustBundle ?? '';
  if (pem === '') errs.push(required('spec.trustBundle'));
  else if (pem.length > MAX_TRUST_BUNDLE_SIZE) errs.push(tooLong('spec.trustBundle', '<value omitted>', MAX_TRUST_BUNDLE_SIZE));
  else {
    const problem = trustBundleProblem(pem);
    if (problem) errs.push(invalid('spec.trustBundle', '<value omitted>', problem));
  }
  return errs;
}

/** kube's ClusterTrustBundleAttest admission plugin. */
async function requireAttest(b: ClusterTrustBundle, ctx: StrategyContext): Promise<void> {
  const signerName = b.spec?.signerName ?? '';
  if (!signerName) return;
  if (!(await authorizeSigner({ authorize: (a) => ctx.authorize(a) }, ctx.user, 'attest', signerName))) {
    throw forbidden({ group: CTB_GROUP, resource: CTB_RESOURCE }, b.metadata.name ?? '', `user not permitted to attest for signerName ${JSON.stringify(signerName)}`);
  }
}

export const clusterTrustBundles: ResourceDefinition = {
  group: CTB_GROUP,
  version: CTB_VERSION,
  kind: 'ClusterTrustBundle',
  listKind: 'ClusterTrustBundleList',
  plural: CTB_RESOURCE,
  singular: 'clustertrustbundle',
  shortNames: [],
  namespaced: false,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.certificates.v1beta1.ClusterTrustBundle',
    group: CTB_GROUP,
    version: CTB_VERSION,
    kind: 'ClusterTrustBundle',
    description: 'ClusterTrustBundle is a cluster-scoped container for X.509 trust anchors (root certificates).',
    properties: {
      spec: obj(
        {
          signerName: str('signerName indicates the associated signer, if any. In order to create or update a ClusterTrustBundle that sets signerName, you must have the following cluster-scoped permission: group=certificates.k8s.io resource=signers resourceName=<the signer name> verb=attest.'),
          trustBundle: str('trustBundle contains the individual X.509 trust anchors for this bundle, as PEM bundle of PEM-wrapped, DER-formatted X.509 certificates.'),
        },
        { name: 'io.k8s.api.certificates.v1beta1.ClusterTrustBundleSpec', description: 'ClusterTrustBundleSpec contains the signer and trust anchors.', required: ['trustBundle'] },
      ),
    },
  }),
  validateName: isPathSegmentName,
  strategy: {
    async validate(o, ctx) {
      const errs = validateCtb(asCtb(o));
      if (errs.length === 0) await requireAttest(asCtb(o), ctx);
      return errs;
    },
    async validateUpdate(n, o, ctx) {
      const nb = asCtb(n);
      const ob = asCtb(o);
      const errs = validateCtb(nb);
      if ((nb.spec?.signerName ?? '') !== (ob.spec?.signerName ?? '')) errs.push(invalid('spec.signerName', nb.spec?.signerName ?? '', 'field is immutable'));
      const changed = (nb.spec?.signerName ?? '') !== (ob.spec?.signerName ?? '') || nb.spec?.trustBundle !== ob.spec?.trustBundle;
      if (errs.length === 0 && changed) await requireAttest(nb, ctx);
      return errs;
    },
  },
  subresources: [],
  printer: {
    // kube's printers have no Age column for ClusterTrustBundle (kubectl get shows NAME and SIGNERNAME only).
    columns: [NAME_COLUMN, { name: 'SignerName', type: 'string', description: 'signerName indicates the associated signer, if any.' }],
    cells: (o) => [o.metadata.name ?? '', asCtb(o).spec?.signerName || '<none>'],
  },
  fieldSelectors: { 'spec.signerName': (o) => asCtb(o).spec?.signerName ?? '' },
};
