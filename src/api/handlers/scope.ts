// What every verb handler gets (kube's handlers.RequestScope): the resource, its store, the request's
// namespace and name, the strategy context, and the server-wide settings; plus the request decoding the
// handlers share (bodies, list options, dryRun, DeleteOptions).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Storage } from '../../storage/interface.js';
import type { Clock } from '../../util/clock.js';
import { decodeObject, parseBody, parseFieldValidation, readBody, type FieldValidation } from '../body.js';
import type { ResourceDefinition, StrategyContext, SubresourceDefinition } from '../registry.js';
import { arrayOf, bool, int64, obj, str } from '../schema.js';
import { fieldManagerOf } from '../managed-fields.js';
import { queryInt64 } from '../query.js';
import { validateDeleteOptions } from './write-options.js';
import { badRequest } from '../../apis/status.js';
import type { ResourceStore } from '../store.js';
import type { IncludeObject } from '../table.js';
import type { KubeObject } from '../../apis/index.js';
import { isObject } from '../validation.js';
import type { WatchStream } from '../watch.js';

/** Server-wide settings and state the handlers share. */
export interface HandlerEnv {
  /** Storage as handlers see it (watches go through the watch cache without their knowing). */
  storage: Storage;
  clock: Clock;
  maxBody: number;
  /** Every served resource's store (cascades, e.g. a namespace's contents). */
  stores: ReadonlyMap<ResourceDefinition, ResourceStore>;
  /** Open watch streams (for /metrics and shutdown). */
  watches: Set<WatchStream>;
  /** Watch duration when the client gives no timeoutSeconds: random in [min, 2·min). */
  minRequestTimeoutSeconds: number;
  /** How long a read at a resourceVersion newer than the store waits for it before its 504. */
  tooLargeResourceVersionWaitMs: number;
}

export interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
  env: HandlerEnv;
  def: ResourceDefinition;
  store: ResourceStore;
  /** The subresource addressed, if any. */
  sub: SubresourceDefinition | undefined;
  /** The object's namespace ('' for cluster-scoped kinds). */
  namespace: string;
  /** The namespace a collection request is limited to (undefined: all namespaces). */
  listNamespace: string | undefined;
  /** The object name from the URL ('' for collection requests). */
  name: string;
  ctx: StrategyContext;
  query: URLSearchParams;
}

export type VerbHandler = (scope: RequestScope) => Promise<void>;

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

/** The request body decoded as the resource's kind (create, update). */
export async function readObject(s: RequestScope): Promise<{ object: KubeObject; warnings: string[] }> {
  const validation: FieldValidation = parseFieldValidation(s.query.get('fieldValidation'));
  const raw = await readBody(s.req, s.env.maxBody);
  if (raw.length === 0) throw badRequest('the body of the request was empty');
  const value = parseBody(raw, s.req.headers['content-type'], s.def.schema);
  const { object, warnings } = decodeObject<KubeObject>(value, s.def.schema, s.def.kind, s.def.version, validation);
  if (!isObject(object.metadata)) object.metadata = {};
  return { object, warnings };
}

export interface DeleteRequest {
  dryRun: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** DeleteOptions from the body and the query. */
export async function readDeleteOptions(s: RequestScope): Promise<DeleteRequest> {
  queryInt64(s.query, 'gracePeriodSeconds');
  const raw = await readBody(s.req, s.env.maxBody);
  const q = s.query;
  const fromQuery = { propagationPolicy: q.get('propagationPolicy') ?? undefined, orphanDependents: q.get('orphanDependents') ?? undefined, dryRun: q.getAll('dryRun') };
  const body = raw.length > 0 ? parseBody(raw, s.req.headers['content-type'], DELETE_OPTIONS_SCHEMA) : undefined;
  // kube reads the body when there is one, else the query; both are checked here, before anything is deleted.
  validateDeleteOptions(fromQuery);
  if (isObject(body)) validateDeleteOptions({ propagationPolicy: body['propagationPolicy'], orphanDependents: body['orphanDependents'], dryRun: Array.isArray(body['dryRun']) ? body['dryRun'] : [] });
  const out: DeleteRequest = { dryRun: fromQuery.dryRun.length > 0 };
  if (body !== undefined) {
    const v = body;
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
  return out;
}

/** The field manager of a write: ?fieldManager=, else the User-Agent's product (kube's default). */
export function managerOf(s: RequestScope): string {
  return fieldManagerOf(s.query.get('fieldManager'), s.req.headers['user-agent']);
}


export function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}: supported values: "None", "Metadata", "Object"`);
}
