// metav1.Status and the one Status error builder (k8s.io/apimachinery/pkg/api/errors): every failure the API
// reports is an ApiError carrying the Status that kube-apiserver would send (code, reason, message, details),
// built by the helpers below; API clients turn a Status they receive back into the same ApiError.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;
  constructor(code: number, reason: StatusReason | undefined, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'ApiError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code };
    if (reason !== undefined) this.status.reason = reason;
    if (details !== undefined) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | undefined {
    return this.status.reason;
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** A group-qualified resource as kube prints it in messages: `certificatesigningrequests.certificates.k8s.io`. */
export interface GroupResource {
  group: string;
  resource: string;
}

export const qualifiedResource = (gr: GroupResource): string => (gr.group ? `${gr.resource}.${gr.group}` : gr.resource);

/** Go's %q for the strings we quote in messages. */
export const q = (s: string): string => JSON.stringify(s);

export function notFound(gr: GroupResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(gr)} ${q(name)} not found`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(gr)} ${q(name)} already exists`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

/** The optimistic-concurrency conflict: resourceVersion precondition failed. */
export function conflict(gr: GroupResource, name: string, detail = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} ${q(name)}: ${detail}`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): ApiError {
  return new ApiError(401, 'Unauthorized', message);
}

export function forbidden(gr: GroupResource, name: string, message: string): ApiError {
  const what = name ? `${qualifiedResource(gr)} ${q(name)}` : qualifiedResource(gr);
  return new ApiError(403, 'Forbidden', `${what} is forbidden: ${message}`, { name: name || undefined, group: gr.group, kind: gr.resource });
}

/** 410 for a resourceVersion older than the retained history (kube's NewResourceExpired). */
export function resourceExpired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function internalError(err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

// ---- Field errors (k8s.io/apimachinery/pkg/util/validation/field) --------------------------------------

export type FieldErrorType = 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueNotSupported' | 'FieldValueForbidden' | 'FieldValueDuplicate' | 'FieldValueTooLong' | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The offending value; omitted from the message for Required/Forbidden. */
  value?: unknown;
  detail?: string;
  /** For NotSupported. */
  supported?: string[];
}

/** Go's %v-ish rendering of a bad value, as field.Error.ErrorBody prints it. */
function formatValue(v: unknown): string {
  if (typeof v === 'string') return q(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** field.Error.ErrorBody(): the message without the field path. */
export function fieldErrorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case 'FieldValueRequired':
      s = 'Required value';
      break;
    case 'FieldValueForbidden':
      s = 'Forbidden';
      break;
    case 'FieldValueInvalid':
      s = `Invalid value: ${formatValue(e.value)}`;
      break;
    case 'FieldValueNotSupported':
      s = `Unsupported value: ${formatValue(e.value)}`;
      break;
    case 'FieldValueDuplicate':
      s = `Duplicate value: ${formatValue(e.value)}`;
      break;
    case 'FieldValueTooLong':
      s = 'Too long';
      break;
    case 'FieldValueTypeInvalid':
      s = `Invalid value: ${formatValue(e.value)}`;
      break;
  }
  if (e.type === 'FieldValueNotSupported' && e.supported && e.supported.length > 0) {
    s += `: supported values: ${e.supported.map((x) => q(x)).join(', ')}`;
  } else if (e.detail) {
    s += `: ${e.detail}`;
  }
  return s;
}

export const fieldErrorString = (e: FieldError): string => `${e.field}: ${fieldErrorBody(e)}`;

export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, value, detail });
export const notSupported = (field: string, value: unknown, supported: string[]): FieldError => ({
  type: 'FieldValueNotSupported',
  field,
  value,
  supported,
});
export const forbiddenField = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value });
export const tooLong = (field: string, value: unknown, max: number): FieldError => ({
  type: 'FieldValueTooLong',
  field,
  value,
  detail: `may not be more than ${max} bytes`,
});

/** 422 Invalid, exactly as kube's NewInvalid renders an ErrorList. */
export function invalidObject(kind: { group: string; kind: string }, name: string, errs: FieldError[]): ApiError {
  const qualifiedKind = kind.group ? `${kind.kind}.${kind.group}` : kind.kind;
  const strs = errs.map(fieldErrorString);
  const agg = strs.length === 1 ? strs[0]! : `[${strs.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualifiedKind} ${q(name)} is invalid: ${agg}`, {
    name,
    group: kind.group,
    kind: kind.kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

// ---- Reading a Status back (client side, k8s.io/apimachinery/pkg/api/errors' Is* helpers) ---------------

export const isNotFound = (e: unknown): boolean => isApiError(e) && e.code === 404;
export const isConflict = (e: unknown): boolean => isApiError(e) && e.code === 409 && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown): boolean => isApiError(e) && e.reason === 'AlreadyExists';
/** 410 Gone / Expired: the resourceVersion is too old, relist. */
export const isGone = (e: unknown): boolean => isApiError(e) && (e.code === 410 || e.reason === 'Expired' || e.reason === 'Gone');

/** Builds an ApiError from a Status body (or a bare HTTP status when the body is not one). */
export function apiErrorFromResponse(code: number, body: unknown, fallbackMessage: string): ApiError {
  const s = body as { kind?: string; reason?: string; message?: string; details?: Record<string, unknown>; code?: number } | undefined;
  if (s && s.kind === 'Status') {
    return new ApiError(s.code ?? code, s.reason as ApiError['reason'], s.message ?? fallbackMessage, s.details as never);
  }
  const reason = code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : code === 410 ? 'Gone' : code === 403 ? 'Forbidden' : code === 401 ? 'Unauthorized' : undefined;
  return new ApiError(code, reason, fallbackMessage);
}
