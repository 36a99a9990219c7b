// The RBAC rule source the authorizer reads: an in-memory, synchronous view of Roles, ClusterRoles and
// their bindings, fed by the server's watch (put/delete events and relists), and indexed by subject so a
// request costs O(bindings that name the user or one of its groups), never a scan or a storage read.
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding, Subject } from './rbac-types.js';
import { splitServiceAccountUsername } from '../serviceaccount-token.js';
import type { UserInfo } from '../../apis/authorization.js';

/** What the authorizer needs; RbacCache is the implementation the server feeds. */
export interface RbacSnapshot {
  getClusterRole(name: string): ClusterRole | undefined;
  getRole(namespace: string, name: string): Role | undefined;
  /** ClusterRoleBindings with a subject matching one of the keys, each once, in name order. */
  clusterRoleBindingsFor(keys: readonly string[]): ClusterRoleBinding[];
  /** RoleBindings of the namespace with a subject matching one of the keys, each once, in name order. */
  roleBindingsFor(namespace: string, keys: readonly string[]): RoleBinding[];
}

export type RbacResource = 'clusterroles' | 'roles' | 'clusterrolebindings' | 'rolebindings';

/**
 * Index keys of a binding subject. A ServiceAccount subject without a namespace (allowed in RoleBindings)
 * belongs to the binding's namespace, as kube's appliesTo reads it.
 */
export function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case 'User':
      return `u:${s.name}`;
    case 'Group':
      return `g:${s.name}`;
    case 'ServiceAccount':
      return `sa:${s.namespace || bindingNamespace}/${s.name}`;
    default:
      return undefined;
  }
}

/** The keys a user can be named by: its name, each group, and its service account if it is one. */
export function userKeys(user: UserInfo): string[] {
  const keys = [`u:${user.username}`, ...user.groups.map((g) => `g:${g}`)];
  const sa = splitServiceAccountUsername(user.username);
  if (sa) keys.push(`sa:${sa.namespace}/${sa.name}`);
  return keys;
}

class BindingIndex<B extends ClusterRoleBinding | RoleBinding> {
  private readonly byName = new Map<string, B>();
  private readonly byKey = new Map<string, Set<string>>();

  constructor(private readonly namespace: string) {}

  get size(): number {
    return this.byName.size;
  }

  private keysOf(b: B): string[] {
    const keys = new Set<string>();
    for (const s of b.subjects ?? []) {
      const k = subjectKey(s, this.namespace);
      if (k) keys.add(k);
    }
    return [...keys];
  }

  upsert(b: B): void {
    const name = b.metadata.name ?? '';
    this.remove(name);
    this.byName.set(name, b);
    for (const k of this.keysOf(b)) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(name);
    }
  }

  remove(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.byName.delete(name);
    for (const k of this.keysOf(old)) {
      const set = this.byKey.get(k);
      set?.delete(name);
      if (set && set.size === 0) this.byKey.delete(k);
    }
  }

  lookupAllNames(): string[] {
    return [...this.byName.keys()];
  }

  lookup(keys: readonly string[]): B[] {
    const names = new Set<string>();
    for (const k of keys) for (const n of this.byKey.get(k) ?? []) names.add(n);
    return [...names].sort().map((n) => this.byName.get(n)!);
  }
}

export class RbacCache implements RbacSnapshot {
  private readonly clusterRoles = new Map<string, ClusterRole>();
  private readonly roles = new Map<string, Map<string, Role>>();
  private readonly clusterRoleBindings = new BindingIndex<ClusterRoleBinding>('');
  private readonly roleBindings = new Map<string, BindingIndex<RoleBinding>>();

  getClusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(name);
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.roles.get(namespace)?.get(name);
  }

  clusterRoleBindingsFor(keys: readonly string[]): ClusterRoleBinding[] {
    return this.clusterRoleBindings.lookup(keys);
  }

  roleBindingsFor(namespace: string, keys: readonly string[]): RoleBinding[] {
    return this.roleBindings.get(namespace)?.lookup(keys) ?? [];
  }

  /** Applies one watch event (a put carries the new object, a delete the old one). */
  apply(resource: RbacResource, type: 'put' | 'delete', obj: ClusterRole | Role | ClusterRoleBinding | RoleBinding): void {
    const name = obj.metadata.name ?? '';
    const ns = obj.metadata.namespace ?? '';
    switch (resource) {
      case 'clusterroles':
        if (type === 'put') this.clusterRoles.set(name, obj as ClusterRole);
        else this.clusterRoles.delete(name);
        return;
      case 'roles': {
        let m = this.roles.get(ns);
        if (type === 'put') {
          if (!m) this.roles.set(ns, (m = new Map()));
          m.set(name, obj as Role);
        } else {
          m?.delete(name);
          if (m && m.size === 0) this.roles.delete(ns);
        }
        return;
      }
      case 'clusterrolebindings':
        if (type === 'put') this.clusterRoleBindings.upsert(obj as ClusterRoleBinding);
        else this.clusterRoleBindings.remove(name);
        return;
      case 'rolebindings': {
        let idx = this.roleBindings.get(ns);
        if (type === 'put') {
          if (!idx) this.roleBindings.set(ns, (idx = new BindingIndex<RoleBinding>(ns)));
          idx.upsert(obj as RoleBinding);
        } else {
          idx?.remove(name);
          if (idx && idx.size === 0) this.roleBindings.delete(ns);
        }
        return;
      }
    }
  }

  /** Replaces everything of one resource (after a relist). */
  replace(resource: RbacResource, objs: (ClusterRole | Role | ClusterRoleBinding | RoleBinding)[]): void {
    switch (resource) {
      case 'clusterroles':
        this.clusterRoles.clear();
        break;
      case 'roles':
        this.roles.clear();
        break;
      case 'clusterrolebindings':
        for (const b of this.clusterRoleBindings.lookupAllNames()) this.clusterRoleBindings.remove(b);
        break;
      case 'rolebindings':
        this.roleBindings.clear();
        break;
    }
    for (const o of objs) this.apply(resource, 'put', o);
  }
}
