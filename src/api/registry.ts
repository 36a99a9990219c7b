// The resource registry: what each served resource is (group/version/kind, names, scope, verbs, printer
// columns, schema) and how it behaves (its strategy: defaults, validation, what create/update may change).
// Resource modules in src/resources/ describe themselves with a ResourceDefinition; the API machinery does
// the rest generically, as kube-apiserver's generic registry store does.
import type { UserInfo, AuthorizationAttributes, AuthorizationResult } from '../apis/authorization.js';
import type { ObjectSchema } from './schema.js';
import type { FieldError } from '../apis/status.js';
import type { ResourceStore } from './store.js';
import type { KubeObject } from '../apis/index.js';
import type { NameValidator } from './validation.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** What a strategy may know about the request it runs for. */
export interface StrategyContext {
  user: UserInfo;
  now: Date;
  /** Asks the server's authorizer (access reviews). */
  authorize(attrs: Omit<AuthorizationAttributes, 'user'> & { user?: UserInfo }): Promise<AuthorizationResult>;
}

export interface ResourceStrategy {
  /** Fills defaults (kube's defaulting functions), after decoding, before everything else. */
  defaults?(obj: KubeObject): void;
  /** Clears or sets what a client may not choose on create (PrepareForCreate). */
  prepareForCreate?(obj: KubeObject, ctx: StrategyContext): void;
  /** Validates a new object (ValidateObjectMeta is run generically). May cache parse results on `scratch`. */
  validate?(obj: KubeObject, ctx: StrategyContext): FieldError[] | Promise<FieldError[]>;
  /** Keeps what an update of the main resource may not change (e.g. status), from the old object. */
  prepareForUpdate?(newObj: KubeObject, oldObj: KubeObject, ctx: StrategyContext): void;
  validateUpdate?(newObj: KubeObject, oldObj: KubeObject, ctx: StrategyContext): FieldError[] | Promise<FieldError[]>;
  /** Normalizes after validation (Canonicalize), e.g. Secret stringData → data. */
  canonicalize?(obj: KubeObject): void;
  /** Whether PUT without metadata.resourceVersion is accepted (AllowUnconditionalUpdate). Default true. */
  allowUnconditionalUpdate?: boolean;
}

export interface SubresourceStrategy {
  prepareForUpdate(newObj: KubeObject, oldObj: KubeObject, ctx: StrategyContext): void;
  validateUpdate(newObj: KubeObject, oldObj: KubeObject, ctx: StrategyContext): FieldError[] | Promise<FieldError[]>;
}

export interface SubresourceDefinition {
  name: string;
  verbs: Verb[];
  strategy: SubresourceStrategy;
  /**
   * A create-only subresource with its own kind that is never stored (serviceaccounts/token → TokenRequest):
   * the body is decoded with `schema` and `handle` returns the response object.
   */
  create?: {
    group: string;
    version: string;
    kind: string;
    schema: ObjectSchema;
    handle(namespace: string, name: string, body: KubeObject, ctx: StrategyContext): Promise<KubeObject>;
  };
}

/** What a delete hook may use: the request's context and every served resource's store. */
export interface DeleteHookContext {
  strategy: StrategyContext;
  dryRun: boolean;
  stores: ReadonlyMap<ResourceDefinition, ResourceStore>;
}

/** A resource's own delete behaviour around the generic one (kube's BeforeDelete / AfterDelete). */
export interface DeleteHooks {
  /** Runs before the object is deleted (may refuse with an ApiError, or remove what depends on it). */
  beforeDelete?(name: string, ctx: DeleteHookContext): Promise<void>;
  /** The object a completed delete answers with instead of a Status (undefined: Status Success). */
  deletedObject?(obj: KubeObject, ctx: StrategyContext): KubeObject | undefined;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  priority?: number;
}

export interface Printer {
  columns: PrinterColumn[];
  /** One row's cells, in column order. */
  cells(obj: KubeObject, now: Date): unknown[];
}

export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** The URL path segment and storage key segment. */
  plural: string;
  singular: string;
  shortNames: string[];
  categories?: string[];
  namespaced: boolean;
  verbs: Verb[];
  schema: ObjectSchema;
  /** Name rules (DNS-1123 subdomain for most kinds). */
  validateName: NameValidator;
  strategy: ResourceStrategy;
  subresources: SubresourceDefinition[];
  printer?: Printer;
  /** Field selector labels besides metadata.name / metadata.namespace, and how to read them. */
  fieldSelectors?: Record<string, (obj: KubeObject) => string | undefined>;
  /**
   * Create-only resources that are never stored (SelfSubjectReview, access reviews): the create handler
   * returns the response object.
   */
  virtualCreate?: (obj: KubeObject, ctx: StrategyContext) => Promise<KubeObject>;
  deleteHooks?: DeleteHooks;
}

export const apiVersionOf = (d: { group: string; version: string }): string => (d.group ? `${d.group}/${d.version}` : d.version);

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDefinition>();
  private readonly list: ResourceDefinition[] = [];

  constructor(definitions: ResourceDefinition[] = []) {
    for (const d of definitions) this.add(d);
  }

  add(d: ResourceDefinition): void {
    const k = `${d.group}/${d.version}/${d.plural}`;
    if (this.byPath.has(k)) throw new Error(`resource ${k} registered twice`);
    this.byPath.set(k, d);
    this.list.push(d);
  }

  lookup(group: string, version: string, plural: string): ResourceDefinition | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  all(): readonly ResourceDefinition[] {
    return this.list;
  }

  /** Groups in registration order, with their versions (each group here has one served version). */
  groups(): { group: string; versions: string[] }[] {
    const out: { group: string; versions: string[] }[] = [];
    for (const d of this.list) {
      let g = out.find((x) => x.group === d.group);
      if (!g) {
        g = { group: d.group, versions: [] };
        out.push(g);
      }
      if (!g.versions.includes(d.version)) g.versions.push(d.version);
    }
    return out;
  }

  resourcesOf(group: string, version: string): ResourceDefinition[] {
    return this.list.filter((d) => d.group === group && d.version === version);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.list.some((d) => d.group === group && d.version === version);
  }
}
