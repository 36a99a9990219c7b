// coordination.k8s.io/v1 Lease: leader election and node heartbeats.
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition } from '../api/registry.js';
import { int32, microTime, obj, str } from '../api/schema.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Subdomain } from '../api/validation.js';
import type { KubeObject } from '../apis/objects.js';
import { invalid, type FieldError } from '../apis/status.js';
import { checkNodeLeaseCreate } from './lease-node-restriction.js';

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; leaseTransitions?: number };
}

function validateLease(l: Lease): FieldError[] {
  const errs: FieldError[] = [];
  const s = l.spec ?? {};
  if (s.leaseDurationSeconds !== undefined && s.leaseDurationSeconds <= 0) errs.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
  if (s.leaseTransitions !== undefined && s.leaseTransitions < 0) errs.push(invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0'));
  return errs;
}

export const leases: ResourceDefinition = {
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  listKind: 'LeaseList',
  plural: 'leases',
  singular: 'lease',
  shortNames: [],
  namespaced: true,
  verbs: ALL_VERBS,
  schema: kindSchema({
    name: 'io.k8s.api.coordination.v1.Lease',
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    description: 'Lease defines a lease concept.',
    properties: {
      spec: obj(
        {
          acquireTime: microTime('acquireTime is a time when the current lease was acquired.'),
          holderIdentity: str('holderIdentity contains the identity of the holder of a current lease.'),
          leaseDurationSeconds: int32('leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it.'),
          leaseTransitions: int32('leaseTransitions is the number of transitions of a lease between holders.'),
          preferredHolder: str('PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up (only with a strategy set).'),
          renewTime: microTime('renewTime is a time when the current holder of a lease has last updated the lease.'),
          strategy: str('Strategy indicates the strategy for picking the leader for coordinated leader election (e.g. OldestEmulationVersion).'),
        },
        { name: 'io.k8s.api.coordination.v1.LeaseSpec', description: 'LeaseSpec is a specification of a Lease.' },
      ),
    },
  }),
  validateName: isDNS1123Subdomain,
  strategy: {
    validate(o, ctx) {
      const errs = validateLease(o as Lease);
      // Admission runs after validation, as in kube-apiserver.
      if (errs.length === 0) checkNodeLeaseCreate(o, ctx.user);
      return errs;
    },
    validateUpdate: (n) => validateLease(n as Lease),
  },
  subresources: [],
  printer: {
    columns: [NAME_COLUMN, { name: 'Holder', type: 'string', description: 'holderIdentity contains the identity of the holder of a current lease.' }, AGE_COLUMN],
    cells: (o, now) => [o.metadata.name ?? '', (o as Lease).spec?.holderIdentity ?? '', age(o.metadata.creationTimestamp, now)],
  },
};
