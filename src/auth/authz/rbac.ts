// The RBAC authorizer (kube's plugin/pkg/auth/authorizer/rbac and rbac/validation): a request is allowed
// when a rule of a role bound to the user (by name, group or service account) matches it. RBAC never
// denies: no match is "no opinion", and the reason only carries errors such as a binding whose role is
// missing. Rules come from an RbacSnapshot, so one decision touches only the user's own bindings.
import { userKeys, type RbacSnapshot } from './rbac-cache.js';
import type { ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject } from './rbac-types.js';
import type { AuthorizationAttributes, AuthorizationResult, Authorizer, UserInfo } from '../../apis/authorization.js';

const q = (s: string): string => JSON.stringify(s);

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === '*' || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === '*' || g === group);
}

/** `resource`, `resource/subresource`, `*`, or `*​/subresource` (kube's ResourceMatches). */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combinedResource) return true;
    if (subresource !== '' && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

/** `*`, an exact path, or a prefix ending in `*` (kube's NonResourceURLMatches). */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.replace(/\*+$/, ''))) return true;
  }
  return false;
}

export function ruleAllows(attrs: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (attrs.resourceRequest) {
    const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
    return (
      verbMatches(rule, attrs.verb) &&
      apiGroupMatches(rule, attrs.apiGroup) &&
      resourceMatches(rule, combined, attrs.subresource) &&
      resourceNameMatches(rule, attrs.name)
    );
  }
  return verbMatches(rule, attrs.verb) && nonResourceURLMatches(rule, attrs.path);
}

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} ${q(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  return `${s.kind} ${q(s.name)}`;
}

function appliesTo(user: UserInfo, s: Subject, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return user.username === s.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.username === `system:serviceaccount:${s.namespace || bindingNamespace}:${s.name}`;
    default:
      return false;
  }
}

type Visitor = (source: string | undefined, rule: PolicyRule | undefined, err: Error | undefined) => boolean;

/** kube's VisitRulesFor: cluster role bindings, then the namespace's role bindings; stops when told. */
export function visitRulesFor(snapshot: RbacSnapshot, user: UserInfo, namespace: string, visit: Visitor): void {
  const keys = userKeys(user);
  const rulesOf = (ref: RoleRef, bindingNamespace: string): PolicyRule[] | Error => {
    if (ref.kind === 'ClusterRole') {
      const role = snapshot.getClusterRole(ref.name);
      return role ? (role.rules ?? []) : new Error(`clusterrole.rbac.authorization.k8s.io ${q(ref.name)} not found`);
    }
    if (ref.kind === 'Role' && bindingNamespace !== '') {
      const role = snapshot.getRole(bindingNamespace, ref.name);
      return role ? (role.rules ?? []) : new Error(`role.rbac.authorization.k8s.io ${q(ref.name)} not found`);
    }
    return new Error(`unsupported role reference kind: ${q(ref.kind)}`);
  };
  const walk = (binding: ClusterRoleBinding | RoleBinding, bindingNamespace: string): boolean => {
    const subject = (binding.subjects ?? []).find((s) => appliesTo(user, s, bindingNamespace));
    if (!subject) return true;
    const rules = rulesOf(binding.roleRef, bindingNamespace);
    if (rules instanceof Error) return visit(undefined, undefined, rules);
    const name = binding.metadata.name ?? '';
    const source =
      bindingNamespace === ''
        ? `ClusterRoleBinding ${q(name)} of ${binding.roleRef.kind} ${q(binding.roleRef.name)} to ${describeSubject(subject, '')}`
        : `RoleBinding ${q(`${name}/${bindingNamespace}`)} of ${binding.roleRef.kind} ${q(binding.roleRef.name)} to ${describeSubject(subject, bindingNamespace)}`;
    for (const rule of rules) if (!visit(source, rule, undefined)) return false;
    return true;
  };
  for (const b of snapshot.clusterRoleBindingsFor(keys)) if (!walk(b, '')) return;
  if (namespace !== '') for (const b of snapshot.roleBindingsFor(namespace, keys)) if (!walk(b, namespace)) return;
}

/** Go's aggregate of errors as the reason prints them. */
function aggregate(errors: Error[]): string {
  const msgs = [...new Set(errors.map((e) => e.message))];
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
}

export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface RulesForResult {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  incomplete: boolean;
  evaluationError?: string;
}

/** Enumerates a user's rules in a namespace (SelfSubjectRulesReview); kube's RuleResolver. */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RulesForResult;
}

export class RbacAuthorizer implements Authorizer, RuleResolver {
  constructor(private readonly snapshot: RbacSnapshot) {}

  async authorize(attrs: AuthorizationAttributes): Promise<AuthorizationResult> {
    return this.authorizeSync(attrs);
  }

  authorizeSync(attrs: AuthorizationAttributes): AuthorizationResult {
    let allowedBy: string | undefined;
    const errors: Error[] = [];
    visitRulesFor(this.snapshot, attrs.user, attrs.namespace, (source, rule, err) => {
      if (err) {
        errors.push(err);
        return true;
      }
      if (rule && ruleAllows(attrs, rule)) {
        allowedBy = source;
        return false;
      }
      return true;
    });
    if (allowedBy !== undefined) return { decision: 'allow', reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: 'noOpinion', reason: errors.length > 0 ? `RBAC: ${aggregate(errors)}` : '' };
  }

  rulesFor(user: UserInfo, namespace: string): RulesForResult {
    const resourceRules: ResourceRuleInfo[] = [];
    const nonResourceRules: NonResourceRuleInfo[] = [];
    const errors: Error[] = [];
    visitRulesFor(this.snapshot, user, namespace, (_source, rule, err) => {
      if (err) errors.push(err);
      if (rule) {
        if ((rule.resources ?? []).length > 0) {
          resourceRules.push({
            verbs: [...rule.verbs],
            apiGroups: [...(rule.apiGroups ?? [])],
            resources: [...(rule.resources ?? [])],
            resourceNames: [...(rule.resourceNames ?? [])],
          });
        }
        if ((rule.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: [...rule.verbs], nonResourceURLs: [...rule.nonResourceURLs!] });
      }
      return true;
    });
    const out: RulesForResult = { resourceRules, nonResourceRules, incomplete: false };
    if (errors.length > 0) out.evaluationError = aggregate(errors);
    return out;
  }
}
