// The authentication and authorization side of `kubepki serve`, wired as kube-apiserver wires it: caches of
// Secrets, ServiceAccounts and RBAC objects fed by the server's in-process informer (handler.observe;
// authenticators and RBAC read them synchronously), the authenticator chain and the authorizer built from
// the flags (src/auth/config.ts), the review resources, the TokenRequest endpoint, and the start-up work:
// the RBAC bootstrap policy reconciled, then the extension-apiserver-authentication ConfigMap
// (authentication-configmap.ts) and the legacy token Secrets (legacy-token-secrets.ts) started.
import type { ApiHandler, ResourceRef } from '../api/handler.js';
import type { ResourceDefinition, StrategyContext } from '../api/registry.js';
import type { ResourceStore } from '../api/store.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { buildAuthenticator, buildAuthorizer, type AuthConfig } from '../auth/config.js';
import { bootstrapPolicy, reconcileRbacObject } from '../auth/authz/bootstrap-policy.js';
import { RbacCache, type RbacResource } from '../auth/authz/rbac-cache.js';
import type { RuleResolver } from '../auth/authz/rbac.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from '../auth/authz/rbac-types.js';
import type { CredentialObjectLookup } from '../auth/objects.js';
import { createTokenRequest, type TokenRequestObject } from '../auth/serviceaccount-token.js';
import type { Authenticator } from '../auth/types.js';
import { selfSubjectRulesReviews } from '../resources/selfsubjectrulesreviews.js';
import { tokenReviews } from '../resources/tokenreviews.js';
import { withTokenSubresource } from '../resources/tokenrequests.js';
import type { Authorizer } from '../apis/authorization.js';
import type { Secret, KubeObject } from '../apis/objects.js';
import { ApiError } from '../apis/status.js';
import { GROUP_MASTERS, USER_APISERVER, NAMESPACE_SYSTEM } from '../apis/names.js';
import { publishAuthenticationConfigMap } from './authentication-configmap.js';
import { LegacyTokenSecretsController } from './legacy-token-secrets.js';
import type { LiveAuthMaterial } from './dynamic-certs.js';

const SYSTEM_USER = { username: USER_APISERVER, groups: [GROUP_MASTERS] };

const RBAC_RESOURCES: Record<RbacResource, ResourceRef> = {
  clusterroles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles' },
  roles: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles' },
  clusterrolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings' },
  rolebindings: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings' },
};
const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets' };
const SERVICE_ACCOUNTS: ResourceRef = { group: '', version: 'v1', plural: 'serviceaccounts' };

/** A keyed copy of one resource, fed by handler.observe (objects are shared: never modified). */
class ObjectIndex {
  private readonly objects = new Map<string, KubeObject>();
  private readonly key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  get(namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  values(): IterableIterator<KubeObject> {
    return this.objects.values();
  }
  replace(objs: KubeObject[]): void {
    this.objects.clear();
    for (const o of objs) this.objects.set(this.key(o), o);
  }
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject): void {
    if (type === 'DELETED') this.objects.delete(this.key(o));
    else this.objects.set(this.key(o), o);
  }
}

export interface ServerAuthOptions {
  config: AuthConfig;
  /** The client-certificate authenticator for config.clientCA. */
  x509?: Authenticator;
  /** PEM of the cluster CA written into legacy token Secrets as ca.crt (kube-controller-manager's --root-ca-file). */
  rootCAPem?: string;
  clock?: Clock;
  logger?: Logger;
  /** Reloaded trust and keys (dynamic-certs.ts), read per request in place of the config's. */
  live?: LiveAuthMaterial;
}

export class ServerAuth {
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly ruleResolvers: RuleResolver[];
  readonly lookup: CredentialObjectLookup;
  readonly rbac = new RbacCache();
  private readonly secrets = new ObjectIndex();
  private readonly serviceAccounts = new ObjectIndex();
  private readonly observers: { close(): void }[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private handler: ApiHandler | undefined;
  /** Fills legacy token Secrets once the bootstrap ran, when tokens can be signed. */
  private tokens: LegacyTokenSecretsController | undefined;

  constructor(private readonly o: ServerAuthOptions) {
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    // Authenticators read the caches; a miss on a ServiceAccount or bound Secret falls back to a live read (as
    // kube's getter falls back to the client), so a token issued a moment after its account was created is
    // not refused while the watch catches up. Bootstrap tokens read the cache only: an unknown token id must
    // not cost a storage read.
    const live = async (ref: ResourceRef, namespace: string, name: string): Promise<KubeObject | null> =>
      this.handler ? this.handler.getObject(ref, namespace, name) : null;
    this.lookup = {
      getServiceAccount: async (ns, name) => this.serviceAccounts.get(ns, name) ?? (await live(SERVICE_ACCOUNTS, ns, name)),
      getSecret: async (ns, name) => (this.secrets.get(ns, name) as Secret | undefined) ?? ((await live(SECRETS, ns, name)) as Secret | null),
    };
    const bootstrapSecret = (ns: string, name: string) => (this.secrets.get(ns, name) as Secret | undefined) ?? null;
    this.authenticator = buildAuthenticator({
      config: o.config,
      x509: o.x509,
      lookup: {
        ...this.lookup,
        getSecret: (ns, name) => (ns === NAMESPACE_SYSTEM && name.startsWith('bootstrap-token-') ? bootstrapSecret(ns, name) : this.lookup.getSecret(ns, name)),
      },
      clock: this.clock,
      logger: this.logger,
      ...(o.live ? { live: liveAuthenticatorMaterial(o.live) } : {}),
    });
    const { authorizer, resolvers } = buildAuthorizer(o.config, this.rbac);
    this.authorizer = authorizer;
    this.ruleResolvers = resolvers;
  }

  /**
   * The server's resources with this configuration's additions: TokenReview and SelfSubjectRulesReview, and
   * the serviceaccounts/token subresource when tokens can be signed.
   */
  withResources(defs: ResourceDefinition[]): ResourceDefinition[] {
    const out = defs.map((d) =>
      d.group === '' && d.plural === 'serviceaccounts' && this.o.config.serviceAccount?.signer
        ? withTokenSubresource(d, (ns, name, body) => this.tokenRequest(ns, name, body as TokenRequestObject))
        : d,
    );
    const has = (group: string, plural: string) => out.some((d) => d.group === group && d.plural === plural);
    if (!has('authentication.k8s.io', 'tokenreviews')) out.push(tokenReviews({ authenticator: this.authenticator, apiAudiences: this.o.config.apiAudiences }));
    if (!has('authorization.k8s.io', 'selfsubjectrulesreviews')) out.push(selfSubjectRulesReviews({ resolvers: this.ruleResolvers }));
    return out;
  }

  /** Starts the informers on the server's objects and waits for their first lists (RBAC must not start empty). */
  private async observe(handler: ApiHandler): Promise<void> {
    const synced: Promise<void>[] = [];
    const add = (ref: ResourceRef, observer: Parameters<ApiHandler['observe']>[1]) => {
      const o = handler.observe(ref, observer);
      this.observers.push(o);
      synced.push(o.synced);
    };
    add(SECRETS, {
      replace: (objs) => {
        this.secrets.replace(objs);
        for (const s of objs) this.tokens?.secretChanged(s as Secret);
      },
      event: (type, obj) => {
        this.secrets.apply(type, obj);
        if (type !== 'DELETED') this.tokens?.secretChanged(obj as Secret);
      },
    });
    add(SERVICE_ACCOUNTS, {
      replace: (objs) => this.serviceAccounts.replace(objs),
      event: (type, sa) => {
        this.serviceAccounts.apply(type, sa);
        if (type !== 'DELETED') this.tokens?.serviceAccountChanged(sa);
      },
    });
    for (const [resource, ref] of Object.entries(RBAC_RESOURCES) as [RbacResource, ResourceRef][]) {
      add(ref, {
        replace: (objs) => this.rbac.replace(resource, objs as (ClusterRole | Role | ClusterRoleBinding | RoleBinding)[]),
        event: (type, obj) => this.rbac.apply(resource, type === 'DELETED' ? 'delete' : 'put', obj as ClusterRole),
      });
    }
    await Promise.all(synced);
  }

  private ctx(): StrategyContext {
    return { user: SYSTEM_USER, now: this.clock.now(), authorize: async () => ({ decision: 'allow', reason: '' }) };
  }

  private store(group: string, plural: string): ResourceStore {
    const s = this.handler?.storeFor(group, 'v1', plural);
    if (!s) throw new Error(`resource ${plural}.${group} is not served`);
    return s;
  }

  /**
   * kube-apiserver's post-start work: reconcile the bootstrap RBAC policy (create what is missing, add what
   * a user removed from an auto-updated object, leave objects marked autoupdate=false alone), publish the
   * extension-apiserver-authentication ConfigMap, and start filling legacy token Secrets.
   */
  async bootstrap(handler: ApiHandler): Promise<void> {
    this.handler = handler;
    await this.observe(handler);
    const policy = bootstrapPolicy();
    const rbacGroup = 'rbac.authorization.k8s.io';
    const apply = async (plural: string, objs: KubeObject[]) => {
      const store = this.store(rbacGroup, plural);
      for (const expected of objs) await this.reconcile(store, expected);
    };
    await apply('clusterroles', policy.clusterRoles);
    await apply('clusterrolebindings', policy.clusterRoleBindings);
    await apply('roles', policy.roles);
    await apply('rolebindings', policy.roleBindings);
    await publishAuthenticationConfigMap({ config: this.o.config, configMaps: this.store('', 'configmaps'), ctx: () => this.ctx() });
    if (this.signer()) {
      const secrets = this.store('', 'secrets');
      this.tokens = new LegacyTokenSecretsController({
        signer: () => this.signer(),
        caPem: () => this.o.live?.clientCA()?.pem ?? this.o.rootCAPem ?? this.o.config.clientCA?.pem ?? '',
        getServiceAccount: (ns, name) => this.serviceAccounts.get(ns, name),
        secrets: () => this.secrets.values(),
        updateSecret: async (secret) => {
          await secrets.update(secret.metadata.namespace ?? '', secret.metadata.name ?? '', secret, this.ctx(), { dryRun: false });
        },
        logger: this.logger,
      });
      for (const s of this.secrets.values()) this.tokens.secretChanged(s as Secret);
    }
  }

  /**
   * The cluster CA bundle changed (a CA rotation): every legacy token Secret's ca.crt is brought up to date.
   * kube-controller-manager's tokens controller fixes a stale ca.crt whenever it syncs a Secret, and the
   * restart a root-CA change needs there syncs them all; serve changes its bundle without a restart, so it
   * syncs them here.
   */
  resyncLegacyTokenSecrets(): void {
    for (const s of this.secrets.values()) this.tokens?.secretChanged(s as Secret);
  }

  private async reconcile(store: ResourceStore, expected: KubeObject, attempt = 0): Promise<void> {
    const ns = expected.metadata.namespace ?? '';
    const name = expected.metadata.name!;
    let existing: KubeObject | null = null;
    try {
      existing = await store.get(ns, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    const r = reconcileRbacObject(expected as ClusterRole, existing as ClusterRole | null);
    try {
      if (r.action === 'create') await store.create(ns, r.object, this.ctx(), { dryRun: false });
      else if (r.action === 'update') await store.update(ns, name, r.object, this.ctx(), { dryRun: false });
      else if (r.action === 'recreate') {
        await store.delete(ns, name, this.ctx(), { dryRun: false });
        await store.create(ns, r.object, this.ctx(), { dryRun: false });
      }
    } catch (err) {
      // Another replica wrote it first: look again (bounded).
      if (err instanceof ApiError && (err.code === 409 || err.code === 404) && attempt < 3) return this.reconcile(store, expected, attempt + 1);
      throw err;
    }
  }

  /** POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token (TokenRequest). */
  async tokenRequest(namespace: string, name: string, body: TokenRequestObject): Promise<TokenRequestObject> {
    const signer = this.signer();
    if (!signer) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    // The account is read live, not from the cache: `kubectl create sa x && kubectl create token x`.
    const handler = this.handler;
    if (!handler) throw new ApiError(503, 'ServiceUnavailable', 'the server is starting');
    return createTokenRequest({
      signer,
      lookup: {
        getServiceAccount: (ns, n) => handler.getObject(SERVICE_ACCOUNTS, ns, n),
        getSecret: (ns, n) => handler.getObject(SECRETS, ns, n) as Promise<Secret | null>,
      },
      namespace,
      name,
      request: body,
      apiAudiences: this.o.config.apiAudiences,
      now: this.clock.now(),
    });
  }

  stop(): void {
    for (const o of this.observers.splice(0)) o.close();
  }

  /** The service-account token signer in force (a reloaded sa.key signs from the moment it is read). */
  private signer() {
    return this.o.live?.serviceAccount()?.signer ?? this.o.config.serviceAccount?.signer;
  }
}

/** The live material in the shape the authenticator chain reads (stable arrays: the caches key on them). */
function liveAuthenticatorMaterial(live: LiveAuthMaterial) {
  const none: never[] = [];
  return {
    requestHeaderCA: () => live.requestHeaderCA()?.certificates ?? none,
    serviceAccountKeys: () => live.serviceAccount()?.keys ?? none,
  };
}
