// The REST front of the API machinery: routes an authenticated, authorized request to discovery, OpenAPI or
// a resource's store, decodes bodies, negotiates the representation (JSON, YAML, Table, metadata) and turns
// every failure into a Status. Composition (TLS, authentication, authorization, metrics) is src/server's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { Storage } from '../storage/interface.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { decodeObject, DEFAULT_MAX_BODY_BYTES, parseBody, parseFieldValidation, readBody, type FieldValidation } from './body.js';
import { AGGREGATED_CONTENT_TYPE, buildDiscovery, type DiscoveryDocuments } from './discovery.js';
import { negotiateDiscovery, negotiateOutput, contentTypeOf, type OutputKind } from './negotiation.js';
import { buildOpenApi, type OpenApiDocuments } from './openapi.js';
import { PATCH_CONTENT_TYPES } from './patch.js';
import { apiVersionOf, type ResourceDefinition, type ResourceRegistry, type StrategyContext, type Verb } from './registry.js';
import type { RequestInfo } from './request-info.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { methodNotAllowed, methodNotSupported, notFoundPath, unsupportedMediaType } from './status.js';
import { RAW_JSON, ResourceStore, type ListOptions } from './store.js';
import { toTable, type IncludeObject } from './table.js';
import { WatchStream } from './watch.js';
import { ResourceWatchCache, type WatchSubscriber } from './watch-cache.js';
import { isObject } from './validation.js';
import { arrayOf, bool, int64, obj, str } from './schema.js';
import type { KubeList, KubeObject } from '../apis/objects.js';
import { ApiError, badRequest, forbidden, internalError, invalidObject, required, type Status } from '../apis/status.js';
import type { AuthorizationAttributes, AuthorizationResult, UserInfo } from '../apis/authorization.js';
import { formatTime } from '../apis/time.js';
import { GROUP_MASTERS, NAMESPACE_DEFAULT, NAMESPACE_PUBLIC, NAMESPACE_SYSTEM, USER_APISERVER } from '../apis/names.js';

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

const DELETE_OPTIONS_SCHEMA = obj(
  {
    apiVersion: str(),
    kind: str(),
    dryRun: arrayOf(str()),
    gracePeriodSeconds: int64(),
    orphanDependents: bool(),
    preconditions: obj({ resourceVersion: str(), uid: str() }, { name: 'io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions' }),
    propagationPolicy: str(),
  },
  { name: 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions' },
);

const PROTECTED_NAMESPACES = new Set([NAMESPACE_DEFAULT, NAMESPACE_SYSTEM, NAMESPACE_PUBLIC]);

export class ApiHandler {
  readonly stores = new Map<ResourceDefinition, ResourceStore>();
  private readonly caches = new Map<ResourceDefinition, ResourceWatchCache>();
  private readonly watches = new Set<WatchStream>();
  private readonly discovery: DiscoveryDocuments;
  private readonly openapi: OpenApiDocuments;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly maxBody: number;

  constructor(private readonly o: ApiHandlerOptions) {
    this.maxBody = o.maxRequestBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const nsDef = o.registry.lookup('', 'v1', 'namespaces');
    const namespaceExists = nsDef ? async (ns: string) => (await o.storage.get(`/registry/namespaces/${ns}`)) !== null : undefined;
    for (const d of o.registry.all()) {
      if (d.virtualCreate) continue;
      const store = new ResourceStore(d, o.storage, d === nsDef ? undefined : namespaceExists);
      this.stores.set(d, store);
      this.caches.set(
        d,
        new ResourceWatchCache({ storage: o.storage, prefix: store.prefix, namespaced: d.namespaced, decode: store.decode, logger: o.logger, capacity: o.watch?.cacheCapacity ?? 1024 }),
      );
    }
    this.discovery = buildDiscovery(o.registry, o.serverAddress);
    this.openapi = buildOpenApi(o.registry);
  }

  /** Starts every resource's watch cache and the bookmark ticker. */
  async start(): Promise<void> {
    await Promise.all([...this.caches.values()].map((c) => c.start()));
    const every = this.o.watch?.bookmarkIntervalMs ?? 60_000;
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), every);
    this.bookmarkTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const w of [...this.watches]) w.close();
    for (const c of this.caches.values()) c.stop();
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
    const cache = this.caches.get(store.def)!;
    let closed = false;
    let current: WatchSubscriber | undefined;
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
        terminate: () => schedule(),
      };
      current = sub;
      if (!(await cache.subscribe(sub))) schedule();
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
        if (current) cache.unsubscribe(current);
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

  private sendBookmarks(): void {
    for (const cache of this.caches.values()) {
      const rev = cache.knownRevision;
      for (const s of cache.subscribers()) {
        if (s instanceof WatchStream && s.wantsBookmarks) s.bookmark(rev);
      }
    }
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
      if (!(err instanceof ApiError)) this.o.logger.error({ err: (err as Error)?.stack ?? String(err), path: rc.url.pathname }, 'internal error serving request');
      writeStatus(res, apiErr.status);
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, rc: RequestContext): Promise<void> {
    const { info, url } = rc;
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path.startsWith('/openapi/')) return this.serveOpenApi(req, res, path);
    if (!info.isResourceRequest) return this.serveDiscovery(req, res, path);
    const def = this.o.registry.lookup(info.apiGroup, info.apiVersion, info.resource);
    if (!def) throw notFoundPath();
    const parts = info.parts;
    const urlName = parts.length >= 2 ? parts[1]! : '';
    // Shape checks: a cluster-scoped kind has no namespace segment; a namespaced item needs one.
    if (!def.namespaced && info.namespace && !(def.plural === 'namespaces')) throw notFoundPath();
    if (def.namespaced && urlName && !info.namespace) throw notFoundPath();
    if (parts.length > 3) throw notFoundPath();
    const sub = info.subresource ? def.subresources.find((s) => s.name === info.subresource) : undefined;
    if (info.subresource && !sub) throw notFoundPath();
    const verb = info.verb as Verb;
    const allowed = sub ? sub.verbs : def.verbs;
    if (!allowed.includes(verb)) {
      if (sub || ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].includes(verb)) {
        throw methodNotSupported({ group: def.group, resource: def.plural }, verb);
      }
      throw methodNotAllowed();
    }
    const ns = def.namespaced ? info.namespace : '';
    const ctx = this.strategyContext(rc.user);
    const q = url.searchParams;
    if (sub?.create && verb === 'create') {
      const c = sub.create;
      const raw = await readBody(req, this.maxBody);
      if (raw.length === 0) throw badRequest('the body of the request was empty');
      const { object, warnings } = decodeObject<KubeObject>(parseBody(raw, req.headers['content-type'], c.schema), c.schema, c.kind, c.version, parseFieldValidation(q.get('fieldValidation')));
      if (!isObject(object.metadata)) object.metadata = {};
      setWarnings(res, warnings);
      return sendJson(res, 201, JSON.stringify(await c.handle(ns, urlName, object, ctx)));
    }
    if (def.virtualCreate) {
      const { object, warnings } = await this.readObject(req, def, q);
      setWarnings(res, warnings);
      const out = await def.virtualCreate(object, ctx);
      return sendObject(res, 201, out, negotiateOutput(req.headers.accept), def, this.o.clock.now());
    }
    const store = this.stores.get(def)!;
    const dryRun = parseDryRun(q);
    switch (verb) {
      case 'get': {
        const output = negotiateOutput(req.headers.accept);
        if (output.kind === 'json') return sendJson(res, 200, await store.getJson(ns, urlName));
        const obj = await store.get(ns, urlName);
        return sendObject(res, 200, obj, output, def, this.o.clock.now(), includeObject(q));
      }
      case 'list': {
        const output = negotiateOutput(req.headers.accept);
        const list = await store.list(def.namespaced ? info.namespace || undefined : undefined, this.listOptions(store, q));
        return sendList(res, list, output, def, this.o.clock.now(), includeObject(q));
      }
      case 'watch':
        return this.serveWatch(req, res, def, store, info.namespace || undefined, urlName || undefined, q);
      case 'create': {
        const { object, warnings } = await this.readObject(req, def, q);
        setWarnings(res, warnings);
        const created = await store.create(ns, object, ctx, { dryRun });
        return sendObject(res, 201, created, negotiateOutput(req.headers.accept), def, this.o.clock.now());
      }
      case 'update': {
        const { object, warnings } = await this.readObject(req, def, q);
        setWarnings(res, warnings);
        const updated = await store.update(ns, urlName, object, ctx, { dryRun, ...(sub ? { subresource: sub } : {}) });
        return sendObject(res, 200, updated, negotiateOutput(req.headers.accept), def, this.o.clock.now());
      }
      case 'patch': {
        const ct = contentTypeOf(req.headers['content-type']);
        const patchType = PATCH_CONTENT_TYPES[ct];
        if (!patchType) throw unsupportedMediaType(Object.keys(PATCH_CONTENT_TYPES).slice(0, 4));
        const validation = parseFieldValidation(q.get('fieldValidation'));
        const raw = await readBody(req, this.maxBody);
        const patch = parseBody(raw, patchType === 'apply' ? 'application/yaml' : 'application/json');
        if (patchType === 'apply' && !q.get('fieldManager')) {
          throw invalidObject({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [required('fieldManager', 'is required for apply patch')]);
        }
        const warnings: string[] = [];
        const decode = (value: unknown) => {
          const d = decodeObject<KubeObject>(value, def.schema, def.kind, def.version, validation);
          warnings.splice(0, warnings.length, ...d.warnings);
          return d.object;
        };
        try {
          const updated = await store.patch(ns, urlName, patchType, patch, ctx, { dryRun, ...(sub ? { subresource: sub } : {}), decode });
          setWarnings(res, warnings);
          return sendObject(res, 200, updated, negotiateOutput(req.headers.accept), def, this.o.clock.now());
        } catch (err) {
          // Server-side apply creates what does not exist yet (without managedFields, the rest is a merge).
          if (!(patchType === 'apply' && !sub && err instanceof ApiError && err.code === 404 && def.verbs.includes('create'))) throw err;
          const obj = decode(patch);
          if (!isObject(obj.metadata)) obj.metadata = {};
          obj.metadata.name = obj.metadata.name || urlName;
          const created = await store.create(ns, obj, ctx, { dryRun });
          setWarnings(res, warnings);
          return sendObject(res, 201, created, negotiateOutput(req.headers.accept), def, this.o.clock.now());
        }
      }
      case 'delete': {
        const opts = await this.readDeleteOptions(req, q);
        if (def.group === '' && def.plural === 'namespaces') await this.deleteNamespaceContents(urlName, ctx, dryRun || opts.dryRun);
        const { object, deleted } = await store.delete(ns, urlName, ctx, { dryRun: dryRun || opts.dryRun, ...(opts.preconditions ? { preconditions: opts.preconditions } : {}) });
        if (!deleted || def.plural === 'namespaces') {
          if (def.plural === 'namespaces' && deleted) {
            object.metadata.deletionTimestamp = object.metadata.deletionTimestamp ?? formatTime(new Date(this.o.clock.now()));
            object['status'] = { phase: 'Terminating' };
          }
          return sendObject(res, 200, object, negotiateOutput(req.headers.accept), def, this.o.clock.now());
        }
        const status = {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name: urlName, group: def.group, kind: def.plural, uid: object.metadata.uid },
        };
        return sendJson(res, 200, JSON.stringify(status));
      }
      case 'deletecollection': {
        const opts = await this.readDeleteOptions(req, q);
        const list = await store.deleteCollection(def.namespaced ? info.namespace || undefined : undefined, this.listOptions(store, q), ctx, { dryRun: dryRun || opts.dryRun });
        return sendList(res, list, { kind: 'json' }, def, this.o.clock.now(), 'Object');
      }
    }
    throw methodNotAllowed();
  }

  private strategyContext(user: UserInfo): StrategyContext {
    return {
      user,
      now: this.o.clock.now(),
      authorize: (attrs) => this.o.authorize({ ...attrs, user: attrs.user ?? user }),
    };
  }

  private listOptions(store: ResourceStore, q: URLSearchParams): ListOptions {
    const limitStr = q.get('limit');
    let limit: number | undefined;
    if (limitStr) {
      if (!/^-?\d+$/.test(limitStr)) throw badRequest(`invalid limit: ${limitStr}`);
      limit = Math.max(0, Number(limitStr));
    }
    const opts: ListOptions = {
      labelSelector: parseLabelSelector(q.get('labelSelector')),
      fieldSelector: parseFieldSelector(q.get('fieldSelector'), store.supportedFieldSelectors()),
    };
    if (limit !== undefined) opts.limit = limit;
    const cont = q.get('continue');
    if (cont) opts.continue = cont;
    const rv = q.get('resourceVersion');
    if (rv) opts.resourceVersion = rv;
    const rvm = q.get('resourceVersionMatch');
    if (rvm) opts.resourceVersionMatch = rvm;
    return opts;
  }

  private async readObject(req: IncomingMessage, def: ResourceDefinition, q: URLSearchParams): Promise<{ object: KubeObject; warnings: string[] }> {
    const validation: FieldValidation = parseFieldValidation(q.get('fieldValidation'));
    const raw = await readBody(req, this.maxBody);
    if (raw.length === 0) throw badRequest('the body of the request was empty');
    const value = parseBody(raw, req.headers['content-type'], def.schema);
    const { object, warnings } = decodeObject<KubeObject>(value, def.schema, def.kind, def.version, validation);
    if (!isObject(object.metadata)) object.metadata = {};
    return { object, warnings };
  }

  private async readDeleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<{ dryRun: boolean; preconditions?: { uid?: string; resourceVersion?: string } }> {
    const raw = await readBody(req, this.maxBody);
    const out: { dryRun: boolean; preconditions?: { uid?: string; resourceVersion?: string } } = { dryRun: false };
    if (raw.length > 0) {
      const v = parseBody(raw, req.headers['content-type'], DELETE_OPTIONS_SCHEMA);
      if (isObject(v)) {
        if (Array.isArray(v['dryRun']) && v['dryRun'].includes('All')) out.dryRun = true;
        const pre = v['preconditions'];
        if (isObject(pre)) {
          out.preconditions = {};
          if (typeof pre['uid'] === 'string') out.preconditions.uid = pre['uid'];
          if (typeof pre['resourceVersion'] === 'string') out.preconditions.resourceVersion = pre['resourceVersion'];
        }
      }
    }
    if (q.get('dryRun') === 'All') out.dryRun = true;
    return out;
  }

  /** Namespace deletion: everything in it goes first (kube's namespace controller, done synchronously). */
  private async deleteNamespaceContents(ns: string, ctx: StrategyContext, dryRun: boolean): Promise<void> {
    if (PROTECTED_NAMESPACES.has(ns)) throw forbidden({ group: '', resource: 'namespaces' }, ns, 'this namespace may not be deleted');
    const nsStore = this.stores.get(this.o.registry.lookup('', 'v1', 'namespaces')!)!;
    await nsStore.get('', ns); // 404 first
    if (dryRun) return;
    for (const [d, store] of this.stores) {
      if (!d.namespaced) continue;
      const list = await store.list(ns, { labelSelector: parseLabelSelector(''), fieldSelector: parseFieldSelector('') });
      for (const item of list.items) {
        try {
          if (item.metadata.finalizers?.length) {
            await store.update(ns, item.metadata.name!, { ...item, metadata: { ...item.metadata, finalizers: [] } }, ctx, { dryRun: false });
          }
          await store.delete(ns, item.metadata.name!, ctx, { dryRun: false });
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) throw err;
        }
      }
    }
  }

  // ---- watch ---------------------------------------------------------------------------------------------

  private async serveWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDefinition, store: ResourceStore, namespace: string | undefined, urlName: string | undefined, q: URLSearchParams): Promise<void> {
    const output = negotiateOutput(req.headers.accept);
    const label = parseLabelSelector(q.get('labelSelector'));
    const field = parseFieldSelector(q.get('fieldSelector'), store.supportedFieldSelectors());
    const name = urlName ?? field.exactValue('metadata.name');
    const rvParam = q.get('resourceVersion') ?? '';
    if (rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`invalid resource version: ${rvParam}`);
    const sendInitialEvents = q.get('sendInitialEvents') === 'true';
    const timeoutParam = q.get('timeoutSeconds');
    const minTimeout = this.o.watch?.minRequestTimeoutSeconds ?? 1800;
    const timeoutMs = timeoutParam && /^\d+$/.test(timeoutParam) && Number(timeoutParam) > 0 ? Number(timeoutParam) * 1000 : (minTimeout + Math.random() * minTimeout) * 1000;
    const now = () => this.o.clock.now();
    const transform = transformFor(output, def, now);
    const stream: WatchStream = new WatchStream({
      res,
      namespace: def.namespaced ? namespace : undefined,
      name,
      afterRevision: 0,
      matches: (obj) => (urlName === undefined || obj.metadata.name === urlName) && store.matches(obj, label, field),
      // A name-only (or empty) selection is fully done by the cache's key/namespace index.
      matchesEverything: label.empty && (field.empty || (field.requirements.length === 1 && name !== undefined && field.exactValue('metadata.name') === name)),
      ...(transform ? { transform } : {}),
      apiVersion: apiVersionOf(def),
      kind: def.kind,
      bookmarks: q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1',
      timeoutMs,
      onClose: () => {
        this.watches.delete(stream);
        this.caches.get(def)!.unsubscribe(stream);
      },
    });
    // Initial state: "" (most recent) and "0" (any) start with ADDED for every matching object, as does an
    // explicit sendInitialEvents; a given resourceVersion starts right after it.
    let initial: KubeObject[] = [];
    if (rvParam === '' || rvParam === '0' || sendInitialEvents) {
      const list = await store.list(def.namespaced ? namespace : undefined, {
        labelSelector: label,
        fieldSelector: urlName !== undefined ? parseFieldSelector(`metadata.name=${urlName}`) : field,
        ...(sendInitialEvents && rvParam !== '' && rvParam !== '0' ? { resourceVersion: rvParam, resourceVersionMatch: 'NotOlderThan' } : {}),
      });
      initial = list.items;
      stream.afterRevision = Number(list.metadata.resourceVersion ?? 0);
    } else {
      stream.afterRevision = Number(rvParam);
    }
    this.watches.add(stream);
    stream.open();
    for (const obj of initial) stream.send('ADDED', null, obj);
    if (sendInitialEvents && stream.wantsBookmarks) {
      stream.lastRevision = Math.min(stream.lastRevision, stream.afterRevision - 1);
      stream.bookmark(stream.afterRevision, { 'k8s.io/initial-events-end': 'true' });
    }
    if (stream.isClosed) return;
    const cached = await this.caches.get(def)!.subscribe(stream);
    if (!cached && !stream.isClosed) {
      stream.watchStorage(this.o.storage, {
        prefix: store.listPrefix(def.namespaced ? namespace : undefined),
        resourcePrefix: store.prefix,
        namespaced: def.namespaced,
        decode: store.decode,
      });
    }
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
    if (path === '/openapi/v3') return sendJson(res, 200, this.openapi.index, { 'Cache-Control': 'no-cache, private' });
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.documents.get(path.slice('/openapi/v3/'.length));
      if (doc) return sendJson(res, 200, doc.json, { 'Cache-Control': 'public, immutable', Etag: `"${doc.hash}"` });
    }
    throw notFoundPath();
  }
}

// ---- responses -------------------------------------------------------------------------------------------

export function sendJson(res: ServerResponse, code: number, body: string, headers: Record<string, string> = {}): void {
  const buf = Buffer.from(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': buf.length, ...headers });
  res.end(buf);
}

export function writeStatus(res: ServerResponse, status: Status): void {
  const headers: Record<string, string> = {};
  if (status.details?.retryAfterSeconds) headers['Retry-After'] = String(status.details.retryAfterSeconds);
  sendJson(res, status.code, JSON.stringify(status), headers);
}

function setWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader(
    'Warning',
    warnings.map((w) => `299 - ${JSON.stringify(w)}`),
  );
}

function parseDryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  for (const x of v) if (x !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(x)}: supported values: "All"`);
  return v.length > 0;
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}: supported values: "None", "Metadata", "Object"`);
}

function partialMetadata(obj: KubeObject, version: string): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: obj.metadata };
}

function transformFor(output: OutputKind, def: ResourceDefinition, now: () => Date): ((obj: KubeObject, first: boolean) => unknown) | undefined {
  if (output.kind === 'table') return (obj, first) => toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion ?? '' }, { includeObject: 'Metadata', now: now(), noHeaders: !first });
  if (output.kind === 'partialMetadata') return (obj) => partialMetadata(obj, output.version);
  return undefined;
}

function encode(output: OutputKind, value: unknown): { body: string; type: string } {
  if (output.kind === 'yaml') return { body: toYaml(value), type: 'application/yaml' };
  return { body: JSON.stringify(value), type: 'application/json' };
}

function sendObject(res: ServerResponse, code: number, obj: KubeObject, output: OutputKind, def: ResourceDefinition, now: Date, include: IncludeObject = 'Metadata'): void {
  const raw = (obj as KubeObject & { [RAW_JSON]?: string })[RAW_JSON];
  if (raw !== undefined && output.kind === 'json') return sendJson(res, code, raw);
  let value: unknown = obj;
  if (output.kind === 'table') value = toTable(def, [obj], {}, { includeObject: include, now });
  else if (output.kind === 'partialMetadata') value = partialMetadata(obj, output.version);
  const { body, type } = encode(output, value);
  sendJson(res, code, body, { 'Content-Type': type });
}

function sendList(res: ServerResponse, list: KubeList, output: OutputKind, def: ResourceDefinition, now: Date, include: IncludeObject): void {
  let value: unknown = list;
  if (output.kind === 'table') value = toTable(def, list.items, list.metadata, { includeObject: include, now });
  else if (output.kind === 'partialMetadata') {
    value = { kind: 'PartialObjectMetadataList', apiVersion: `meta.k8s.io/${output.version}`, metadata: list.metadata, items: list.items.map((i) => partialMetadata(i, output.version)) };
  }
  const { body, type } = encode(output, value);
  sendJson(res, 200, body, { 'Content-Type': type });
}
