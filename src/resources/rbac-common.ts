// Shared pieces of the rbac.authorization.k8s.io/v1 kinds: PolicyRule, Subject and RoleRef schemas and
// kube's validation of them (pkg/apis/rbac/validation). Escalation checks belong to the authorizer (auth).
import { isDeepStrictEqual } from 'node:util';
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceStrategy } from '../api/registry.js';
import { arrayOf, obj, str, type ObjectSchema } from '../api/schema.js';
import { isDNS1123Label } from '../api/validation.js';
import type { KubeObject } from '../apis/objects.js';
import { invalid, notSupported, required, type FieldError } from '../apis/status.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

export interface PolicyRule {
  verbs?: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind?: string;
  apiGroup?: string;
  name?: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup?: string;
  kind?: string;
  name?: string;
}

export interface RoleLike extends KubeObject {
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: unknown[] };
}

export interface BindingLike extends KubeObject {
  subjects?: Subject[];
  roleRef?: RoleRef;
}

const strings = (description?: string) => arrayOf(str(), { listType: 'atomic', ...(description ? { description } : {}) });

export const policyRuleSchema = obj(
  {
    apiGroups: strings('APIGroups is the name of the APIGroup that contains the resources.'),
    nonResourceURLs: strings('NonResourceURLs is a set of partial urls that a user should have access to.'),
    resourceNames: strings('ResourceNames is an optional white list of names that the rule applies to.'),
    resources: strings('Resources is a list of resources this rule applies to.'),
    verbs: strings('Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule.'),
  },
  { name: 'io.k8s.api.rbac.v1.PolicyRule', required: ['verbs'], description: 'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.' },
);

export const subjectSchema = obj(
  {
    apiGroup: str('APIGroup holds the API group of the referenced subject: "" for ServiceAccount subjects, "rbac.authorization.k8s.io" for User and Group subjects.'),
    kind: str('Kind of object being referenced: "User", "Group" or "ServiceAccount".'),
    name: str('Name of the object being referenced.'),
    namespace: str('Namespace of the referenced object (ServiceAccounts only).'),
  },
  { name: 'io.k8s.api.rbac.v1.Subject', required: ['kind', 'name'], description: 'Subject contains a reference to the object or user identities a role binding applies to.' },
);

export const roleRefSchema = obj(
  {
    apiGroup: str('APIGroup is the group for the resource being referenced (rbac.authorization.k8s.io).'),
    kind: str('Kind is the type of resource being referenced: Role or ClusterRole.'),
    name: str('Name is the name of resource being referenced.'),
  },
  { name: 'io.k8s.api.rbac.v1.RoleRef', required: ['apiGroup', 'kind', 'name'], description: 'RoleRef contains information that points to the role being used. It cannot be changed once set.' },
);

export const labelSelectorSchema = obj(
  {
    matchExpressions: arrayOf(
      obj(
        {
          key: str('key is the label key that the selector applies to.'),
          operator: str('operator represents a key\'s relationship to a set of values: In, NotIn, Exists and DoesNotExist.'),
          values: strings('values is an array of string values; non-empty for In and NotIn, empty for Exists and DoesNotExist.'),
        },
        {
          name: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement',
          required: ['key', 'operator'],
          description: 'A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.',
        },
      ),
      { listType: 'atomic', description: 'matchExpressions is a list of label selector requirements. The requirements are ANDed.' },
    ),
    matchLabels: { type: 'map', values: str(), description: 'matchLabels is a map of {key,value} pairs, each equivalent to a matchExpressions element with operator In and that single value.' },
  },
  {
    name: 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
    description: 'A label selector is a label query over a set of resources. An empty label selector matches all objects; a null one matches none.',
  },
);

export function validatePolicyRule(rule: PolicyRule, field: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (!rule.verbs || rule.verbs.length === 0) errs.push(required(`${field}.verbs`, 'verbs must contain at least one value'));
  const nonResource = rule.nonResourceURLs ?? [];
  if (nonResource.length > 0) {
    if (namespaced) errs.push(invalid(`${field}.nonResourceURLs`, nonResource, 'namespaced rules cannot apply to non-resource URLs'));
    if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0 || (rule.resourceNames ?? []).length > 0) {
      errs.push(invalid(`${field}.nonResourceURLs`, nonResource, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if ((rule.apiGroups ?? []).length === 0) errs.push(required(`${field}.apiGroups`, 'resource rules must supply at least one api group'));
  if ((rule.resources ?? []).length === 0) errs.push(required(`${field}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

export function validateRules(role: RoleLike, namespaced: boolean): FieldError[] {
  return (role.rules ?? []).flatMap((r, i) => validatePolicyRule(r, `rules[${i}]`, namespaced));
}

export function validateBinding(b: BindingLike, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = b.roleRef ?? {};
  if (ref.apiGroup !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', ref.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!ref.kind || !kinds.includes(ref.kind)) errs.push(notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(required('roleRef.name'));
  (b.subjects ?? []).forEach((s, i) => {
    const f = `subjects[${i}]`;
    if (!s.name) errs.push(required(`${f}.name`));
    switch (s.kind) {
      case 'ServiceAccount':
        if (s.apiGroup) errs.push(notSupported(`${f}.apiGroup`, s.apiGroup, ['']));
        if (!namespaced && !s.namespace) errs.push(required(`${f}.namespace`));
        if (s.namespace) for (const m of isDNS1123Label(s.namespace)) errs.push(invalid(`${f}.namespace`, s.namespace, m));
        break;
      case 'User':
      case 'Group':
        if (s.apiGroup !== RBAC_GROUP) errs.push(notSupported(`${f}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
        break;
      default:
        errs.push(notSupported(`${f}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
    }
  });
  return errs;
}

export function validateRoleRefUnchanged(n: BindingLike, o: BindingLike): FieldError[] {
  // Compared as values: a client may send roleRef's keys in another order than the stored object has them.
  return isDeepStrictEqual(n.roleRef ?? {}, o.roleRef ?? {}) ? [] : [invalid('roleRef', n.roleRef, 'cannot change roleRef')];
}

/**
 * rbac/v1's defaulting (pkg/apis/rbac/v1/defaults.go): an empty roleRef.apiGroup is rbac.authorization.k8s.io,
 * as is a User or Group subject's, so `subjects: [{kind: User, name: alice}]` is accepted as kube accepts it.
 */
export function defaultBinding(b: BindingLike): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) {
    if (!s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  }
}

/** kubectl's ROLE column: Kind/name. */
export const roleColumn = (b: BindingLike): string => `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`;

/** Subjects of one kind, comma-joined (the wide USERS / GROUPS / SERVICEACCOUNTS columns). */
export function subjectsOf(b: BindingLike, kind: string): string {
  return (b.subjects ?? [])
    .filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? b.metadata.namespace ?? ''}/${s.name}` : s.name))
    .join(', ');
}

/** RoleBinding and ClusterRoleBinding share their shape; only the kind and the allowed roleRef kinds differ. */
export function bindingSchema(kind: 'RoleBinding' | 'ClusterRoleBinding', description: string): ObjectSchema {
  return kindSchema({
    name: `io.k8s.api.rbac.v1.${kind}`,
    group: RBAC_GROUP,
    version: 'v1',
    kind,
    description,
    required: ['roleRef'],
    properties: {
      roleRef: roleRefSchema,
      subjects: arrayOf(subjectSchema, { listType: 'atomic', description: 'Subjects holds references to the objects the role applies to.' }),
    },
  });
}

export function bindingStrategy(namespaced: boolean): ResourceStrategy {
  return {
    defaults: (o) => defaultBinding(o as BindingLike),
    validate: (o) => validateBinding(o as BindingLike, namespaced),
    validateUpdate: (n, o) => [...validateBinding(n as BindingLike, namespaced), ...validateRoleRefUnchanged(n as BindingLike, o as BindingLike)],
  };
}
