// Validation of a write's options as kube's apimachinery validation does (ValidateCreateOptions,
// ValidateUpdateOptions, ValidatePatchOptions, ValidateDeleteOptions): a bad dryRun or propagationPolicy is
// 422 Invalid on the options kind ("DeleteOptions.meta.k8s.io "" is invalid: ..."), and nothing is written.
import { invalid, invalidObject, notSupported, type FieldError } from '../../apis/status.js';

export type WriteOptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

const PROPAGATION_POLICIES = ['Foreground', 'Background', 'Orphan'];

function dryRunErrors(values: readonly unknown[]): FieldError[] {
  return values.filter((v) => v !== 'All').map((v) => notSupported('dryRun', v, ['All']));
}

function throwIfAny(kind: WriteOptionsKind, errs: FieldError[]): void {
  if (errs.length > 0) throw invalidObject({ group: 'meta.k8s.io', kind }, '', errs);
}

/** ?dryRun= of a write: true for "All" (the only value kube accepts). */
export function dryRunOf(q: URLSearchParams, kind: WriteOptionsKind): boolean {
  const values = q.getAll('dryRun');
  throwIfAny(kind, dryRunErrors(values));
  return values.length > 0;
}

export interface DeleteOptionsFields {
  propagationPolicy?: unknown;
  orphanDependents?: unknown;
  dryRun?: readonly unknown[];
}

/** ValidateDeleteOptions: the options from the body, or the query when there is no body. */
export function validateDeleteOptions(o: DeleteOptionsFields): void {
  const errs: FieldError[] = [];
  const policy = o.propagationPolicy;
  const hasPolicy = policy !== undefined && policy !== null;
  if (o.orphanDependents !== undefined && o.orphanDependents !== null && hasPolicy) {
    errs.push(invalid('propagationPolicy', policy, 'orphanDependents and deletionPropagation cannot be both set'));
  }
  if (hasPolicy && !PROPAGATION_POLICIES.includes(policy as string)) errs.push(notSupported('propagationPolicy', policy, [...PROPAGATION_POLICIES, 'nil']));
  errs.push(...dryRunErrors(o.dryRun ?? []));
  throwIfAny('DeleteOptions', errs);
}
