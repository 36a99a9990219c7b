// The REST front of the API machinery: routes an authenticated, authorized request to discovery, OpenAPI or
// a resource's store, decodes bodies, negotiates the representation (JSON, YAML, Table, metadata) and turns
// every failure into a Status. Composition (TLS, authentication, authorization, metrics) is src/server's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthorizationAttributes, AuthorizationResult, UserInfo } from '../apis/authorization.js';
import type { Storage } from '../storage/interface.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { CachedStorage } from './cacher.js';
import { AGGREGATED_CONTENT_TYPE, buildDiscovery, type DiscoveryDocuments } from './discovery.js';
import { createResource, createSubresource, createVirtual } from './handlers/create.js';
import { deleteResource } from './handlers/delete.js';
import { deleteCollection } from './handlers/deletecollection.js';
import { getResource } from './handlers/get.js';
import { listResource } from './handlers/list.js';
import { patchResource } from './handlers/patch.js';
import type { HandlerEnv, RequestScope, VerbHandler } from './handlers/scope.js';
import { updateResource } from './handlers/update.js';
import { watchResource } from './handlers/watch.js';
import { negotiateDiscovery, negotiateOpenApiV2 } from './negotiation.js';
import { buildOpenApi, type OpenApiDocuments } from './openapi.js';
import { type ResourceDefinition, type ResourceRegistry, type StrategyContext, type Verb } from './registry.js';
import type { RequestInfo } from './request-info.js';
import { sendJson, writeStatus } from './responses.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { methodNotAllowed, methodNotSupported, notAcceptable, notFoundPath } from './status.js';
import { ApiError, badRequest, internalError } from '../apis/status.js';
import { isPathSegmentName } from './validation.js';
import { ResourceStore } from './store.js';
import type { KubeObject } from '../apis/index.js';
import { cachedEvent, dispatchEvent, type WatchSubscriber } from './watch-event.js';
import type { WatchStream } from './watch.js';
import { GROUP_MASTERS, USER_APISERVER } from '../apis/names.js';

export { sendJson, writeStatus };

export interface ApiHandlerOptions {
  registry: ResourceRegistry;
  storage: Storage;
  clock: Clock;
  logger: Logger;
  /** host:port advertised in /api's serverAddressByClientCIDRs. */
  serverAddress: string;
  /** The server's authorizer, for access reviews. */
  authorize: (attrs: AuthorizationAttributes) => Promise<AuthorizationResult>;
  maxRequestBodyBytes?: number;
  watch?: {
    /** How often watches that asked for bookmarks get one. Default 60 s. */
    bookmarkIntervalMs?: number;
    /** Events each resource's watch cache keeps. Default 1024. */
    cacheCapacity?: number;
    /** Watch duration when the client gives no timeoutSeconds: random in [min, 2·min). Default 1800 s. */
    minRequestTimeoutSeconds?: number;
    /** How long a get/list at a resourceVersion newer than the store waits for it (kube's cacher: 3 s) before its 504. */
    tooLargeResourceVersionWaitMs?: number;
  };
}

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

export interface ObjectObserver {
  replace(objects: KubeObject[]): void;
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void;
}

export interface RequestContext {
  user: UserInfo;
  info: RequestInfo;
  url: URL;
}

/** One handler per verb, as k8s.io/apiserver's endpoints/handlers. */
const VERB_HANDLERS: Record<Verb, VerbHandler> = {
  get: getResource,
  list: listResource,
  watch: watchResource,
  create: createResource,
  update: updateResource,
  patch: patchResource,
  delete: deleteResource,
  deletecollection: deleteCollection,
};

export class ApiHandler {
  readonly stores = new Map<ResourceDefinition, ResourceStore>();
  /** The storage the handlers use: the server's, with the watch cache in front of it. */
  private readonly storage: CachedStorage;
  private readonly watches = new Set<WatchStream>();
  private readonly env: HandlerEnv;
  private readonly discovery: DiscoveryDocuments;
  private readonly openapi: OpenApiDocuments;

  constructor(private readonly o: ApiHandlerOptions) {
    const nsDef = o.registry.lookup('', 'v1', 'namespaces');
    const namespaceExists = nsDef ? async (ns: string) => (await o.storage.get(`/registry/namespaces/${ns}`)) !== null : undefined;
    for (const d of o.registry.all()) {
      if (d.virtualCreate) continue;
      this.stores.set(d, new ResourceStore(d, o.storage, d === nsDef ? undefined : namespaceExists));
    }
    this.storage = new CachedStorage({
      storage: o.storage,
      resources: [...this.stores.values()].map((s) => ({ prefix: s.prefix })),
      logger: o.logger,
      capacity: o.watch?.cacheCapacity ?? 1024,
      progressIntervalMs: o.watch?.bookmarkIntervalMs ?? 60_000,
    });
    this.env = {
      storage: this.storage,
      clock: o.clock,
      maxBody: o.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      stores: this.stores,
      watches: this.watches,
      minRequestTimeoutSeconds: o.watch?.minRequestTimeoutSeconds ?? 1800,
      tooLargeResourceVersionWaitMs: o.watch?.tooLargeResourceVersionWaitMs ?? 3000,
    };
    this.discovery = buildDiscovery(o.registry, o.serverAddress);
    this.openapi = buildOpenApi(o.registry);
  }

  /** Starts the watch cache (every resource's storage watch and the bookmark ticker). */
  async start(): Promise<void> {
    await this.storage.start();
  }

  async stop(): Promise<void> {
    for (const w of [...this.watches]) w.close();
    this.storage.stop();
  }

  /** Open watches (for /metrics). */
  get watchCount(): number {
    return this.watches.size;
  }

  storeFor(group: string, version: string, plural: string): ResourceStore | undefined {
    const d = this.o.registry.lookup(group, version, plural);
    return d ? this.stores.get(d) : undefined;
  }

  /** One object as stored, or null (in-process reads for server components, e.g. credential lookups). */
  async getObject(resource: ResourceRef, namespace: string, name: string): Promise<KubeObject | null> {
    const store = this.requireStore(resource);
    try {
      return await store.get(namespace, name);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return null;
      throw err;
    }
  }

  /**
   * An in-process informer: `replace` gets every object (at start and after any break in the watch), then
   * `event` gets each change in order. Objects are shared with other watchers: read them, never change them.
   */
  observe(resource: ResourceRef, handler: ObjectObserver): { synced: Promise<void>; close(): void } {
    const store = this.requireStore(resource);
    let closed = false;
    let current: { close(): void } | undefined;
    let retry: NodeJS.Timeout | undefined;
    const everything = { labelSelector: parseLabelSelector(''), fieldSelector: parseFieldSelector('') };
    const run = async (): Promise<void> => {
      const list = await store.list(undefined, everything);
      if (closed) return;
      handler.replace(list.items);
      const sub: WatchSubscriber = {
        namespace: undefined,
        name: undefined,
        afterRevision: Number(list.metadata.resourceVersion ?? 0),
        matches: () => true,
        send: (type, ev, obj) => handler.event(type, ev ? ev.object : obj!),
      };
      current = this.storage.watch(store.prefix, {
        afterRevision: sub.afterRevision,
        onEvent: (raw) => dispatchEvent(sub, cachedEvent(raw, store)),
        onError: () => schedule(),
      });
    };
    const schedule = () => {
      if (closed || retry) return;
      retry = setTimeout(() => {
        retry = undefined;
        run().catch((err: unknown) => {
          this.o.logger.warn({ resource: store.prefix, err: String(err) }, 'informer relist failed; retrying');
          schedule();
        });
      }, 200);
      retry.unref();
    };
    const synced = run();
    synced.catch(() => schedule());
    return {
      synced,
      close: () => {
        closed = true;
        if (retry) clearTimeout(retry);
        current?.close();
      },
    };
  }

  /** The context server components write with (system:apiserver, system:masters). */
  systemContext(): StrategyContext {
    return this.strategyContext({ username: USER_APISERVER, groups: [GROUP_MASTERS] });
  }

  private requireStore(resource: ResourceRef): ResourceStore {
    const store = this.storeFor(resource.group, resource.version, resource.plural);
    if (!store) throw new Error(`resource ${resource.group}/${resource.version}/${resource.plural} is not served`);
    return store;
  }

  /** True for the paths this handler serves (/api, /apis, /openapi). */
  static serves(pathname: string): boolean {
    return pathname === '/api' || pathname.startsWith('/api/') || pathname === '/apis' || pathname.startsWith('/apis/') || pathname.startsWith('/openapi/');
  }

  async handle(req: IncomingMessage, res: ServerResponse, rc: RequestContext): Promise<void> {
    try {
      await this.route(req, res, rc);
    } catch (err) {
      if (res.headersSent) {
        if (!res.writableEnded) res.end();
        return;
      }
      const apiErr = err instanceof ApiError ? err : internalError(err);
      if (!(err instanceof ApiError)) this.o.logger.error({ err: (err as Error)?.stack ?? String(err), path: rc.info.path }, 'internal error serving request');
      writeStatus(res, apiErr.status);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, rc: RequestContext): Promise<void> {
    const { info, url } = rc;
    const path = info.path.replace(/\/+$/, '') || '/';
    if (path.startsWith('/openapi/')) return this.serveOpenApi(req, res, path);
    if (!info.isResourceRequest) return this.serveDiscovery(req, res, path);
    const def = this.o.registry.lookup(info.apiGroup, info.apiVersion, info.resource);
    if (!def) throw notFoundPath();
    const parts = info.parts;
    const urlName = parts.length >= 2 ? parts[1]! : '';
    // A name from the path is a key: ".", "..", "%" are refused as kube's NamespaceKeyFunc does, before any lookup.
    const nameProblems = urlName ? isPathSegmentName(urlName) : [];
    if (nameProblems.length > 0) throw badRequest(`Name parameter invalid: ${JSON.stringify(urlName)}: ${nameProblems.join(';')}`);
    // Shape checks: a cluster-scoped kind has no namespace segment; a namespaced item needs one.
    if (!def.namespaced && info.namespace && !(def.plural === 'namespaces')) throw notFoundPath();
    if (def.namespaced && urlName && !info.namespace) throw notFoundPath();
    if (parts.length > 3) throw notFoundPath();
    const sub = info.subresource ? def.subresources.find((s) => s.name === info.subresource) : undefined;
    if (info.subresource && !sub) throw notFoundPath();
    const verb = info.verb as Verb;
    // kube registers POST on the collection only and PUT/PATCH on an item only: any other pairing of method and
    // path has no route, which go-restful answers 405 (a POST naming an object must not create it).
    if ((verb === 'create' && urlName && !sub) || ((verb === 'update' || verb === 'patch') && !urlName)) throw methodNotAllowed();
    // The /watch/ prefix has GET routes only.
    if (verb === 'watch' && req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    const allowed = sub ? sub.verbs : def.verbs;
    if (!allowed.includes(verb)) {
      if (sub || ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb)) {
        throw methodNotSupported({ group: def.group, resource: def.plural }, verb);
      }
      throw methodNotAllowed();
    }
    const store = this.stores.get(def);
    const scope: RequestScope = {
      req,
      res,
      env: this.env,
      def,
      store: store!,
      sub,
      namespace: def.namespaced ? info.namespace : '',
      listNamespace: def.namespaced ? info.namespace || undefined : undefined,
      name: urlName,
      ctx: this.strategyContext(rc.user),
      query: url.searchParams,
    };
    if (sub?.create && verb === 'create') return createSubresource(scope, sub.create);
    if (def.virtualCreate) return createVirtual(scope, def.virtualCreate);
    return VERB_HANDLERS[verb](scope);
  }

  private strategyContext(user: UserInfo): StrategyContext {
    return {
      user,
      now: this.o.clock.now(),
      authorize: (attrs) => this.o.authorize({ ...attrs, user: attrs.user ?? user }),
    };
  }

  // ---- discovery & openapi ----------------------------------------------------------------------------------

  private serveDiscovery(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    const d = this.discovery;
    if (path === '/api' || path === '/apis') {
      const kind = negotiateDiscovery(req.headers.accept);
      if (kind !== 'legacy') {
        const docs = path === '/api' ? d.aggregatedCore : d.aggregatedApis;
        return sendJson(res, 200, docs[kind], { 'Content-Type': AGGREGATED_CONTENT_TYPE[kind], Vary: 'Accept' });
      }
      return sendJson(res, 200, path === '/api' ? d.apiVersions : d.apiGroupList, { Vary: 'Accept' });
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) {
      const doc = d.resourceList.get(`/${parts[1]}`);
      if (doc) return sendJson(res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 2) {
      const doc = d.apiGroup.get(parts[1]!);
      if (doc) return sendJson(res, 200, doc);
    }
    if (parts[0] === 'apis' && parts.length === 3) {
      const doc = d.resourceList.get(`${parts[1]}/${parts[2]}`);
      if (doc) return sendJson(res, 200, doc);
    }
    throw notFoundPath();
  }

  private serveOpenApi(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw methodNotAllowed();
    if (path === '/openapi/v2') {
      // JSON only: a client that accepts nothing but kube's protobuf form (client-go's OpenAPISchema) gets 406.
      if (negotiateOpenApiV2(req.headers.accept) === undefined) throw notAcceptable(['application/json']);
      return sendJson(res, 200, this.openapi.v2.json, { 'Cache-Control': 'no-cache, private', Etag: `"${this.openapi.v2.hash}"`, Vary: 'Accept' });
    }
    if (path === '/openapi/v3') return sendJson(res, 200, this.openapi.index, { 'Cache-Control': 'no-cache, private' });
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.documents.get(path.slice('/openapi/v3/'.length));
      if (doc) return sendJson(res, 200, doc.json, { 'Cache-Control': 'public, immutable', Etag: `"${doc.hash}"` });
    }
    throw notFoundPath();
  }
}
