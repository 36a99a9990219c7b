// The generic registry store (kube's genericregistry.Store): turns REST verbs on one resource into
// storage operations — identity and timestamps on create, resourceVersion compare-and-swap on update,
// strategies and validation, finalizers on delete, consistent paged lists, watches through the cache.
// Objects are stored as JSON without metadata.resourceVersion; it is the key's modRevision on every read.
import { randomUUID, randomInt } from 'node:crypto';
import type { Storage, StoredValue } from '../storage/interface.js';
import { StorageError } from '../storage/errors.js';
import { decodeContinue, encodeContinue } from './continue.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, type PatchType } from './patch.js';
import { apiVersionOf, type ResourceDefinition, type StrategyContext, type SubresourceDefinition } from './registry.js';
import type { FieldSelector, LabelSelector } from './selectors.js';
import { alreadyExists, ApiError, badRequest, conflict, invalidObject, internalError, notFound, resourceExpired, invalid, type FieldError, type GroupResource } from '../apis/status.js';
import type { KubeList, KubeObject, ObjectMeta } from '../apis/index.js';
import { validateObjectMeta, validateObjectMetaUpdate, isObject } from './validation.js';
import { applyConfiguration, recordUpdate, type WriteIdentity } from './managed-fields.js';
import { formatTime } from '../util/time.js';

export interface ListOptions {
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface WriteOptions {
  dryRun: boolean;
  /** The field manager of the write (metadata.managedFields); none for the server's own bookkeeping writes. */
  manager?: string;
}

export interface ApplyOptions {
  /** The apply configuration as the client sent it (decoded). */
  config: KubeObject;
  /** Take over fields other managers own (--force-conflicts). */
  force: boolean;
}

export interface DeleteOptions extends WriteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

/**
 * The JSON a write produced, with its resourceVersion, attached to the returned object so the response is
 * the stored bytes and not a second serialization (symbol keys are invisible to JSON and structuredClone).
 */
export const RAW_JSON = Symbol('kubepki.rawJson');

/**
 * Stored JSON (written by ResourceStore.encode: apiVersion, kind, metadata first, no resourceVersion) with
 * metadata.resourceVersion inserted — the wire form of an object without parsing it. Null if `json` is not
 * in that shape (then the caller parses).
 */
export function withResourceVersion(json: string, revision: number): string | null {
  if (!json.startsWith('{"apiVersion":')) return null;
  const at = json.indexOf('"metadata":{');
  if (at < 0) return null;
  const p = at + 12;
  return `${json.slice(0, p)}"resourceVersion":"${revision}"${json[p] === '}' ? '' : ','}${json.slice(p)}`;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
const generateSuffix = (): string => Array.from({ length: 5 }, () => NAME_CHARS[randomInt(NAME_CHARS.length)]).join('');

const MAX_NAME_GENERATION_ATTEMPTS = 8;
const MAX_UPDATE_RETRIES = 16;

/**
 * A namespaced object posted to a namespace takes the request's namespace; a different one is kube's
 * BadRequest (EnsureObjectNamespaceMatchesRequestNamespace).
 */
export function claimRequestNamespace(meta: ObjectMeta, namespace: string): void {
  if (meta.namespace && namespace && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  meta.namespace = namespace || meta.namespace;
}

export class ResourceStore {
  readonly gr: GroupResource;
  readonly prefix: string;
  private readonly apiVersion: string;

  constructor(
    readonly def: ResourceDefinition,
    private readonly storage: Storage,
    /** Checks that a namespace exists (namespaced resources cannot be created in a missing one). */
    private readonly namespaceExists?: (ns: string) => Promise<boolean>,
  ) {
    this.gr = { group: def.group, resource: def.plural };
    this.prefix = `/registry/${def.plural}/`;
    this.apiVersion = apiVersionOf(def);
  }

  get namespaced(): boolean {
    return this.def.namespaced;
  }

  keyFor(namespace: string, name: string): string {
    return this.def.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  listPrefix(namespace: string | undefined): string {
    return this.def.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  /** Stored JSON → object with resourceVersion (and apiVersion/kind, in case an old record lacks them). */
  decode = (value: string, revision: number): KubeObject => {
    const obj = JSON.parse(value) as KubeObject;
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
    if (!isObject(obj.metadata)) obj.metadata = {};
    obj.metadata.resourceVersion = String(revision);
    return obj;
  };

  private encode(obj: KubeObject): string {
    const { resourceVersion: _rv, selfLink: _sl, ...meta } = obj.metadata;
    const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = obj;
    return JSON.stringify({ apiVersion: this.apiVersion, kind: this.def.kind, metadata: meta, ...rest });
  }

  private fromStored(v: StoredValue): KubeObject {
    return this.decode(v.value, v.modRevision);
  }

  // ---- get / list ------------------------------------------------------------------------------------------

  async get(namespace: string, name: string): Promise<KubeObject> {
    const v = await this.guard(() => this.storage.get(this.keyFor(namespace, name)));
    if (!v) throw notFound(this.gr, name);
    return this.fromStored(v);
  }

  /** The object's JSON as served, without decoding it (the GET fast path). */
  async getJson(namespace: string, name: string): Promise<string> {
    const v = await this.guard(() => this.storage.get(this.keyFor(namespace, name)));
    if (!v) throw notFound(this.gr, name);
    return withResourceVersion(v.value, v.modRevision) ?? JSON.stringify(this.fromStored(v));
  }

  /** Selectable fields of an object: metadata.name, metadata.namespace and the resource's own. */
  fieldsOf(obj: KubeObject): Record<string, string> {
    const f: Record<string, string> = { 'metadata.name': obj.metadata.name ?? '' };
    if (this.def.namespaced) f['metadata.namespace'] = obj.metadata.namespace ?? '';
    for (const [k, fn] of Object.entries(this.def.fieldSelectors ?? {})) f[k] = fn(obj) ?? '';
    return f;
  }

  matches(obj: KubeObject, label: LabelSelector, field: FieldSelector): boolean {
    return (label.empty || label.matches(obj.metadata.labels)) && (field.empty || field.matches(this.fieldsOf(obj)));
  }

  supportedFieldSelectors(): Set<string> {
    const s = new Set(['metadata.name']);
    if (this.def.namespaced) s.add('metadata.namespace');
    for (const k of Object.keys(this.def.fieldSelectors ?? {})) s.add(k);
    return s;
  }

  async list(namespace: string | undefined, options: ListOptions): Promise<KubeList> {
    const prefix = this.listPrefix(namespace);
    let revision: number | undefined;
    let startAfter: string | undefined;
    if (options.continue) {
      if (options.resourceVersion && options.resourceVersion !== '0') throw badRequest('specifying resource version is not allowed when using continue');
      const token = decodeContinue(options.continue);
      revision = token.rv;
      startAfter = prefix + token.start;
    } else if (options.resourceVersionMatch) {
      if (!options.resourceVersion) throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
      if (options.resourceVersionMatch === 'Exact') {
        revision = this.parseRV(options.resourceVersion);
        if (revision === 0) throw badRequest('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
      } else if (options.resourceVersionMatch !== 'NotOlderThan') {
        throw badRequest(`resourceVersionMatch: Unsupported value: "${options.resourceVersionMatch}": supported values: "Exact", "NotOlderThan"`);
      }
    } else if (options.resourceVersion) {
      this.parseRV(options.resourceVersion);
    }
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const filtering = !options.labelSelector.empty || !options.fieldSelector.empty;

    // A name field selector on a single namespace (or a cluster-scoped kind) is one key, not a scan.
    const exactName = options.fieldSelector.exactValue('metadata.name');
    if (exactName !== undefined && !options.continue && (namespace || !this.def.namespaced) && revision === undefined) {
      const [v, rev] = await this.guard(() => Promise.all([this.storage.get(this.keyFor(namespace ?? '', exactName)), this.storage.currentRevision()]));
      const items: KubeObject[] = [];
      if (v) {
        const o = this.fromStored(v);
        if (this.matches(o, options.labelSelector, options.fieldSelector)) items.push(o);
      }
      return this.listObject(items, { resourceVersion: String(Math.max(rev, v?.modRevision ?? 0)) });
    }

    const items: KubeObject[] = [];
    let readRevision = 0;
    let more = false;
    let lastKey: string | undefined;
    let remaining: number | undefined;
    for (;;) {
      const page = await this.guard(
        () => this.storage.list(prefix, { ...(limit ? { limit: filtering ? Math.max(limit, 100) : limit - items.length } : {}), ...(startAfter ? { startAfter } : {}), ...(revision ? { revision } : {}) }),
        options.continue ? 'continue' : 'list',
        revision,
      );
      readRevision = page.revision;
      revision = page.revision;
      let i = 0;
      for (; i < page.items.length; i++) {
        const v = page.items[i]!;
        const o = this.fromStored(v);
        lastKey = v.key;
        if (!filtering || this.matches(o, options.labelSelector, options.fieldSelector)) {
          items.push(o);
          if (limit && items.length >= limit) {
            i++;
            break;
          }
        }
      }
      more = page.more || i < page.items.length;
      remaining = page.remaining !== undefined ? page.remaining + (page.items.length - i) : undefined;
      if (!limit || items.length >= limit || !more) break;
      startAfter = lastKey;
    }
    const meta: KubeList['metadata'] = { resourceVersion: String(readRevision) };
    if (limit && more && lastKey !== undefined) {
      meta.continue = encodeContinue({ rv: readRevision, start: lastKey.slice(prefix.length) });
      if (!filtering && remaining !== undefined && remaining > 0) meta.remainingItemCount = remaining;
    }
    return this.listObject(items, meta);
  }

  private listObject(items: KubeObject[], metadata: KubeList['metadata']): KubeList {
    return { kind: this.def.listKind, apiVersion: this.apiVersion, metadata, items };
  }

  private parseRV(rv: string): number {
    if (!/^\d+$/.test(rv)) throw badRequest(`Invalid value: "${rv}": resourceVersion must be an integer`);
    return Number(rv);
  }

  // ---- create ------------------------------------------------------------------------------------------------

  /** Creates `obj` (taken over: the caller must not use it afterwards). */
  async create(namespace: string, obj: KubeObject, ctx: StrategyContext, options: WriteOptions & { apply?: ApplyOptions }): Promise<KubeObject> {
    this.checkTypeMeta(obj);
    if (!isObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    if (this.def.namespaced) claimRequestNamespace(meta, namespace);
    else if (!meta.namespace) delete meta.namespace;
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    delete meta.uid;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    delete meta.managedFields;
    meta.creationTimestamp = formatTime(ctx.now);
    meta.uid = randomUUID();
    this.def.strategy.defaults?.(obj);
    this.def.strategy.prepareForCreate?.(obj, ctx);
    const generate = !meta.name && !!meta.generateName;
    if (generate) meta.name = meta.generateName + generateSuffix();
    const errs: FieldError[] = validateObjectMeta(meta, { namespaced: this.def.namespaced, validateName: this.def.validateName });
    if (this.def.strategy.validate) errs.push(...(await this.def.strategy.validate(obj, ctx)));
    if (errs.length > 0) throw invalidObject(this.def, meta.name ?? meta.generateName ?? '', errs);
    this.def.strategy.canonicalize?.(obj);
    const id = this.identity(options.manager, ctx);
    if (id && options.apply) obj.metadata.managedFields = applyConfiguration(this.def.schema, null, options.apply.config, id, false).metadata.managedFields;
    else if (id) recordUpdate(this.def.schema, null, obj, id);
    if (this.def.namespaced && this.namespaceExists && !(await this.namespaceExists(meta.namespace!))) {
      throw notFound({ group: '', resource: 'namespaces' }, meta.namespace!);
    }
    if (options.dryRun) {
      const existing = await this.guard(() => this.storage.get(this.keyFor(meta.namespace ?? '', meta.name!)));
      if (existing) throw alreadyExists(this.gr, meta.name!);
      return obj;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const json = this.encode(obj);
        const rev = await this.storage.create(this.keyFor(meta.namespace ?? '', meta.name!), json);
        meta.resourceVersion = String(rev);
        const raw = withResourceVersion(json, rev);
        if (raw) (obj as KubeObject & { [RAW_JSON]?: string })[RAW_JSON] = raw;
        return obj;
      } catch (err) {
        if (err instanceof StorageError && err.code === 'KeyExists') {
          if (generate && attempt + 1 < MAX_NAME_GENERATION_ATTEMPTS) {
            meta.name = meta.generateName + generateSuffix();
            continue;
          }
          throw alreadyExists(this.gr, meta.name!);
        }
        throw this.mapStorageError(err);
      }
    }
  }

  private identity(manager: string | undefined, ctx: StrategyContext, subresource?: SubresourceDefinition): WriteIdentity | undefined {
    if (manager === undefined) return undefined;
    return { manager, apiVersion: this.apiVersion, time: formatTime(ctx.now), ...(subresource ? { subresource: subresource.name } : {}) };
  }

  private checkTypeMeta(obj: KubeObject): void {
    if (obj.apiVersion !== undefined && obj.apiVersion !== this.apiVersion) {
      throw badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${this.apiVersion})`);
    }
    if (obj.kind !== undefined && obj.kind !== this.def.kind) {
      throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${this.def.kind})`);
    }
    obj.apiVersion = this.apiVersion;
    obj.kind = this.def.kind;
  }

  // ---- update / patch ----------------------------------------------------------------------------------------

  /**
   * PUT of the resource or of a subresource. `input` is the decoded body. Retries on a storage conflict
   * only when the client did not ask for a specific resourceVersion.
   */
  async update(namespace: string, name: string, input: KubeObject, ctx: StrategyContext, options: WriteOptions & { subresource?: SubresourceDefinition }): Promise<KubeObject> {
    // The body as JSON once (it came from JSON or protobuf: plain data): every attempt builds from its own
    // decode, so a retry starts from the body as sent, and the caller's object is never written to.
    const text = JSON.stringify(input);
    const body = JSON.parse(text) as KubeObject;
    this.checkTypeMeta(body);
    if (!isObject(body.metadata)) body.metadata = {};
    checkName(body, name);
    if (this.def.namespaced && body.metadata.namespace && body.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const requestedRV = body.metadata.resourceVersion;
    if (!requestedRV && this.def.strategy.allowUnconditionalUpdate === false && !options.subresource) {
      throw invalidObject(this.def, name, [invalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
    }
    let first: KubeObject | undefined = body;
    return this.guaranteedUpdate(namespace, name, ctx, options, requestedRV, () => {
      const b = first ?? (JSON.parse(text) as KubeObject);
      first = undefined;
      if (b !== body) this.checkTypeMeta(b);
      if (!isObject(b.metadata)) b.metadata = {};
      return b;
    });
  }

  async patch(
    namespace: string,
    name: string,
    type: PatchType,
    patch: unknown,
    ctx: StrategyContext,
    options: WriteOptions & { subresource?: SubresourceDefinition; decode: (obj: unknown) => KubeObject; force?: boolean },
  ): Promise<KubeObject> {
    const SENTINEL = '\u0000kubepki-unset';
    let requested: string | undefined;
    if (type === 'apply') {
      // Server-side apply: the configuration merged by field ownership, not a strategic merge.
      const config = options.decode(patch);
      this.checkTypeMeta(config);
      if (!isObject(config.metadata)) config.metadata = {};
      if (config.metadata.name !== undefined && config.metadata.name !== name) {
        throw badRequest(`the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`);
      }
      this.checkPatchedNamespace(config, namespace);
      const id = this.identity(options.manager ?? '', ctx, options.subresource)!;
      const wanted = config.metadata.resourceVersion;
      return this.guaranteedUpdate(namespace, name, ctx, { ...options, applied: true }, wanted, (current) => {
        const merged = applyConfiguration(this.def.schema, current, config, id, options.force === true);
        merged.metadata.resourceVersion = current.metadata.resourceVersion;
        return merged;
      });
    }
    return this.guaranteedUpdate(namespace, name, ctx, options, undefined, (current) => {
      const base = structuredClone(current);
      base.metadata.resourceVersion = SENTINEL;
      let patched: unknown;
      switch (type) {
        case 'json':
          patched = applyJsonPatch(base, patch);
          break;
        case 'merge':
          patched = applyMergePatch(base, patch);
          break;
        case 'strategic':
          patched = applyStrategicMergePatch(base, patch, this.def.schema);
          break;
      }
      const obj = options.decode(patched);
      if (!isObject(obj.metadata)) obj.metadata = {};
      const rv = obj.metadata.resourceVersion;
      if (rv === SENTINEL || rv === undefined) {
        // The patch did not name a resourceVersion: it applies to whatever is current (and is retried).
        obj.metadata.resourceVersion = current.metadata.resourceVersion;
        requested = undefined;
      } else requested = rv;
      checkName(obj, name);
      // A patch that moves the object to another namespace or changes its kind is refused, not silently undone.
      this.checkPatchedNamespace(obj, namespace);
      this.checkTypeMeta(obj);
      return obj;
    }, () => requested);
  }

  /** kube's checkName (endpoints/handlers/rest.go) for a patched object: its namespace, when set, is the URL's. */
  private checkPatchedNamespace(obj: KubeObject, namespace: string): void {
    const ns = obj.metadata.namespace;
    if (this.def.namespaced && namespace && ns && ns !== namespace) {
      throw badRequest(`the namespace of the object (${String(ns)}) does not match the namespace on the URL (${namespace})`);
    }
  }

  /**
   * Read-modify-write with compare-and-swap (kube's GuaranteedUpdate). `build` makes the new object from
   * the current one; a stale resourceVersion the client asked for is a 409, a race with another writer
   * when the client asked for none is retried.
   */
  private async guaranteedUpdate(
    namespace: string,
    name: string,
    ctx: StrategyContext,
    options: WriteOptions & { subresource?: SubresourceDefinition; applied?: boolean },
    requestedRV: string | undefined,
    build: (current: KubeObject) => KubeObject,
    requestedAfterBuild?: () => string | undefined,
  ): Promise<KubeObject> {
    const key = this.keyFor(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const stored = await this.guard(() => this.storage.get(key));
      if (!stored) throw notFound(this.gr, name);
      const current = this.fromStored(stored);
      const next = build(current);
      const wanted = requestedAfterBuild ? requestedAfterBuild() : requestedRV;
      if (wanted !== undefined && wanted !== '' && wanted !== String(stored.modRevision)) {
        if (!/^\d+$/.test(wanted)) throw badRequest(`invalid resource version: ${wanted}`);
        throw conflict(this.gr, name);
      }
      const applied = next.metadata.managedFields;
      const result = await this.prepareUpdate(next, current, ctx, options.subresource);
      const id = this.identity(options.manager, ctx, options.subresource);
      if (options.applied) result.metadata.managedFields = applied;
      else if (id) recordUpdate(this.def.schema, current, result, id);
      else if (current.metadata.managedFields) result.metadata.managedFields = current.metadata.managedFields;
      if (!result.metadata.managedFields) delete result.metadata.managedFields;
      const json = this.encode(result);
      // No-op: nothing written (a write that changes nothing but its record's time is a no-op too, as kube
      // treats it). A record written in another key order is re-encoded only when the sizes match.
      if (json === stored.value || (json.length === stored.value.length && json === this.encode(current))) return current;
      if (json.length === stored.value.length && this.sameButManagedTimes(result, current)) return current;
      if (options.dryRun) return result;
      try {
        if (result.metadata.deletionTimestamp && (!result.metadata.finalizers || result.metadata.finalizers.length === 0)) {
          // The last finalizer is gone from an object being deleted: it goes now.
          await this.storage.delete(key, stored.modRevision);
          result.metadata.resourceVersion = String(stored.modRevision);
          return result;
        }
        const rev = await this.storage.update(key, json, stored.modRevision);
        result.metadata.resourceVersion = String(rev);
        const raw = withResourceVersion(json, rev);
        if (raw) (result as KubeObject & { [RAW_JSON]?: string })[RAW_JSON] = raw;
        return result;
      } catch (err) {
        if (err instanceof StorageError && err.code === 'Conflict') {
          if ((wanted !== undefined && wanted !== '') || attempt >= MAX_UPDATE_RETRIES) throw conflict(this.gr, name);
          continue;
        }
        if (err instanceof StorageError && err.code === 'NotFound') throw notFound(this.gr, name);
        throw this.mapStorageError(err);
      }
    }
  }

  /** Equal but for the times of managedFields entries (a no-op write only restamped its manager's entry). */
  private sameButManagedTimes(a: KubeObject, b: KubeObject): boolean {
    const untimed = (o: KubeObject) => this.encode({ ...o, metadata: { ...o.metadata, managedFields: (o.metadata.managedFields ?? []).map((m) => ({ ...(m as object), time: '' })) } });
    return untimed(a) === untimed(b);
  }

  private async prepareUpdate(next: KubeObject, current: KubeObject, ctx: StrategyContext, sub: SubresourceDefinition | undefined): Promise<KubeObject> {
    const meta = next.metadata;
    const old = current.metadata;
    if (meta.uid && meta.uid !== old.uid) {
      throw conflict(this.gr, old.name ?? '', `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.uid ?? ''}`);
    }
    meta.name = old.name;
    if (this.def.namespaced) meta.namespace = old.namespace;
    else delete meta.namespace;
    meta.uid = old.uid;
    meta.creationTimestamp = old.creationTimestamp;
    if (old.generateName !== undefined) meta.generateName = old.generateName;
    else delete meta.generateName;
    if (old.deletionTimestamp) {
      meta.deletionTimestamp = old.deletionTimestamp;
      if (old.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.managedFields;
    delete meta.selfLink;
    if (old.generation !== undefined) meta.generation = old.generation;
    else delete meta.generation;
    let errs: FieldError[];
    if (sub) {
      // ResetObjectMetaForStatus: a subresource write changes nothing in metadata.
      meta.labels = old.labels;
      meta.annotations = old.annotations;
      meta.finalizers = old.finalizers;
      meta.ownerReferences = old.ownerReferences;
      for (const k of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) if (meta[k] === undefined) delete meta[k];
      sub.strategy.prepareForUpdate(next, current, ctx);
      errs = validateObjectMeta(meta, { namespaced: this.def.namespaced, validateName: this.def.validateName });
      errs.push(...validateObjectMetaUpdate(meta, old));
      errs.push(...(await sub.strategy.validateUpdate(next, current, ctx)));
    } else {
      this.def.strategy.defaults?.(next);
      this.def.strategy.prepareForUpdate?.(next, current, ctx);
      errs = validateObjectMeta(meta, { namespaced: this.def.namespaced, validateName: this.def.validateName });
      errs.push(...validateObjectMetaUpdate(meta, old));
      if (this.def.strategy.validateUpdate) errs.push(...(await this.def.strategy.validateUpdate(next, current, ctx)));
    }
    if (errs.length > 0) throw invalidObject(this.def, old.name ?? '', errs);
    if (!sub) this.def.strategy.canonicalize?.(next);
    return next;
  }

  // ---- delete --------------------------------------------------------------------------------------------

  /**
   * Deletes an object; with finalizers it is only marked (deletionTimestamp) and goes when the last
   * finalizer is removed. Returns the object as last stored and whether it is gone.
   */
  async delete(namespace: string, name: string, ctx: StrategyContext, options: DeleteOptions): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.keyFor(namespace, name);
    for (let attempt = 0; ; attempt++) {
      const stored = await this.guard(() => this.storage.get(key));
      if (!stored) throw notFound(this.gr, name);
      const current = this.fromStored(stored);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw conflict(this.gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(this.gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
      }
      const finalizers = current.metadata.finalizers ?? [];
      try {
        if (finalizers.length > 0) {
          if (current.metadata.deletionTimestamp) return { object: current, deleted: false };
          const marked = structuredClone(current);
          marked.metadata.deletionTimestamp = formatTime(ctx.now);
          marked.metadata.deletionGracePeriodSeconds = 0;
          if (options.dryRun) return { object: marked, deleted: false };
          const rev = await this.storage.update(key, this.encode(marked), stored.modRevision);
          marked.metadata.resourceVersion = String(rev);
          return { object: marked, deleted: false };
        }
        if (options.dryRun) return { object: current, deleted: true };
        const { revision } = await this.storage.delete(key, stored.modRevision);
        current.metadata.resourceVersion = String(revision);
        return { object: current, deleted: true };
      } catch (err) {
        if (err instanceof StorageError && (err.code === 'Conflict' || err.code === 'NotFound') && attempt < MAX_UPDATE_RETRIES) continue;
        throw this.mapStorageError(err);
      }
    }
  }

  async deleteCollection(namespace: string | undefined, listOptions: ListOptions, ctx: StrategyContext, options: DeleteOptions): Promise<KubeList> {
    const list = await this.list(namespace, { ...listOptions, limit: 0, continue: undefined });
    const deleted: KubeObject[] = [];
    for (const item of list.items) {
      try {
        const r = await this.delete(item.metadata.namespace ?? '', item.metadata.name!, ctx, { dryRun: options.dryRun });
        deleted.push(r.object);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        throw err;
      }
    }
    return this.listObject(deleted, { resourceVersion: list.metadata.resourceVersion ?? '' });
  }

  // ---- errors ----------------------------------------------------------------------------------------------

  private async guard<T>(fn: () => Promise<T>, what: 'list' | 'continue' | 'get' = 'get', revision?: number): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StorageError && err.code === 'Compacted') {
        if (what === 'continue') {
          throw resourceExpired(
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          );
        }
        const oldest = await this.storage.compactedRevision().catch(() => 0);
        throw resourceExpired(`too old resource version: ${revision ?? 0} (${oldest})`);
      }
      throw this.mapStorageError(err);
    }
  }

  mapStorageError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof StorageError) {
      if (err.code === 'Unavailable') return new ApiError(503, 'ServiceUnavailable', `storage is unavailable: ${err.message}`);
    }
    return internalError(err);
  }
}

/**
 * kube's checkName (endpoints/handlers/rest.go) for an updated or patched object: a name is required
 * (ContextBasedNaming's errEmptyName, e.g. after a patch that removed it) and must be the URL's.
 */
function checkName(obj: KubeObject, name: string): void {
  const objName = obj.metadata.name;
  if (objName === undefined || objName === '') throw badRequest('name must be provided');
  if (objName !== name) throw badRequest(`the name of the object (${String(objName)}) does not match the name on the URL (${name})`);
}
