// Request bodies in Kubernetes' protobuf encoding (application/vnd.kubernetes.protobuf), which kubectl's
// typed clients send for built-in kinds (`certificate approve`, `create secret`, `auth can-i`...). The
// envelope is "k8s\0" + runtime.Unknown{typeMeta, raw}; `raw` is the kind's generated.proto message. It is
// decoded into the same JSON shape a JSON body has, guided by the kind's schema and the field numbers of
// kube's generated.proto files below, then goes through the same decoding and validation. Responses stay
// JSON (clients that accept protobuf also accept JSON).
import type { ObjectSchema, Schema } from './schema.js';
import { badRequest } from '../apis/status.js';

/** Field numbers per schema component (k8s.io/api and apimachinery generated.proto). */
const FIELDS: Record<string, Record<string, number>> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    name: 1, generateName: 2, namespace: 3, selfLink: 4, uid: 5, resourceVersion: 6, generation: 7, creationTimestamp: 8,
    deletionTimestamp: 9, deletionGracePeriodSeconds: 10, labels: 11, annotations: 12, ownerReferences: 13, finalizers: 14, managedFields: 17,
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference': { kind: 1, name: 3, uid: 4, apiVersion: 5, controller: 6, blockOwnerDeletion: 7 },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry': { manager: 1, operation: 2, apiVersion: 3, time: 4, fieldsType: 6, fieldsV1: 7, subresource: 8 },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': { matchLabels: 1, matchExpressions: 2 },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': { key: 1, operator: 2, values: 3 },
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': { gracePeriodSeconds: 1, preconditions: 2, orphanDependents: 3, propagationPolicy: 4, dryRun: 5 },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Preconditions': { uid: 1, resourceVersion: 2 },
  // certificates.k8s.io/v1
  'io.k8s.api.certificates.v1.CertificateSigningRequest': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': { request: 1, username: 2, uid: 3, groups: 4, usages: 5, extra: 6, signerName: 7, expirationSeconds: 8 },
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': { conditions: 1, certificate: 2 },
  'io.k8s.api.certificates.v1.CertificateSigningRequestCondition': { type: 1, reason: 2, message: 3, lastUpdateTime: 4, lastTransitionTime: 5, status: 6 },
  // certificates.k8s.io/v1beta1 (a typed client, such as a kubelet's, sends protobuf)
  'io.k8s.api.certificates.v1beta1.ClusterTrustBundle': { metadata: 1, spec: 2 },
  'io.k8s.api.certificates.v1beta1.ClusterTrustBundleSpec': { signerName: 1, trustBundle: 2 },
  // core/v1
  'io.k8s.api.core.v1.Secret': { metadata: 1, data: 2, type: 3, stringData: 4, immutable: 5 },
  'io.k8s.api.core.v1.ConfigMap': { metadata: 1, data: 2, binaryData: 3, immutable: 4 },
  'io.k8s.api.core.v1.Namespace': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.core.v1.NamespaceSpec': { finalizers: 1 },
  'io.k8s.api.core.v1.NamespaceStatus': { phase: 1, conditions: 2 },
  'io.k8s.api.core.v1.NamespaceCondition': { type: 1, status: 2, lastTransitionTime: 4, reason: 5, message: 6 },
  'io.k8s.api.core.v1.ServiceAccount': { metadata: 1, secrets: 2, imagePullSecrets: 3, automountServiceAccountToken: 4 },
  'io.k8s.api.core.v1.ObjectReference': { kind: 1, namespace: 2, name: 3, uid: 4, apiVersion: 5, resourceVersion: 6, fieldPath: 7 },
  'io.k8s.api.core.v1.LocalObjectReference': { name: 1 },
  'io.k8s.api.core.v1.Event': {
    metadata: 1, involvedObject: 2, reason: 3, message: 4, source: 5, firstTimestamp: 6, lastTimestamp: 7, count: 8, type: 9, eventTime: 10,
    series: 11, action: 12, related: 13, reportingComponent: 14, reportingInstance: 15,
  },
  'io.k8s.api.core.v1.EventSource': { component: 1, host: 2 },
  'io.k8s.api.core.v1.EventSeries': { count: 1, lastObservedTime: 2 },
  // rbac.authorization.k8s.io/v1
  'io.k8s.api.rbac.v1.Role': { metadata: 1, rules: 2 },
  'io.k8s.api.rbac.v1.ClusterRole': { metadata: 1, rules: 2, aggregationRule: 3 },
  'io.k8s.api.rbac.v1.AggregationRule': { clusterRoleSelectors: 1 },
  'io.k8s.api.rbac.v1.PolicyRule': { verbs: 1, apiGroups: 2, resources: 3, resourceNames: 4, nonResourceURLs: 5 },
  'io.k8s.api.rbac.v1.RoleBinding': { metadata: 1, subjects: 2, roleRef: 3 },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': { metadata: 1, subjects: 2, roleRef: 3 },
  'io.k8s.api.rbac.v1.Subject': { kind: 1, apiGroup: 2, name: 3, namespace: 4 },
  'io.k8s.api.rbac.v1.RoleRef': { apiGroup: 1, kind: 2, name: 3 },
  // coordination.k8s.io/v1
  'io.k8s.api.coordination.v1.Lease': { metadata: 1, spec: 2 },
  'io.k8s.api.coordination.v1.LeaseSpec': { holderIdentity: 1, leaseDurationSeconds: 2, acquireTime: 3, renewTime: 4, leaseTransitions: 5, strategy: 6, preferredHolder: 7 },
  // authentication.k8s.io/v1
  'io.k8s.api.authentication.v1.SelfSubjectReview': { metadata: 1, status: 2 },
  'io.k8s.api.authentication.v1.SelfSubjectReviewStatus': { userInfo: 1 },
  'io.k8s.api.authentication.v1.UserInfo': { username: 1, uid: 2, groups: 3, extra: 4 },
  'io.k8s.api.authentication.v1.TokenReview': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.authentication.v1.TokenReviewSpec': { token: 1, audiences: 2 },
  'io.k8s.api.authentication.v1.TokenReviewStatus': { authenticated: 1, user: 2, error: 3, audiences: 4 },
  'io.k8s.api.authentication.v1.TokenRequest': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.authentication.v1.TokenRequestSpec': { audiences: 1, expirationSeconds: 4, boundObjectRef: 3 },
  'io.k8s.api.authentication.v1.BoundObjectReference': { kind: 1, apiVersion: 2, name: 3, uid: 4 },
  // authorization.k8s.io/v1
  'io.k8s.api.authorization.v1.SelfSubjectAccessReview': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.authorization.v1.SelfSubjectAccessReviewSpec': { resourceAttributes: 1, nonResourceAttributes: 2 },
  'io.k8s.api.authorization.v1.SubjectAccessReview': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.authorization.v1.SubjectAccessReviewSpec': { resourceAttributes: 1, nonResourceAttributes: 2, user: 3, groups: 4, extra: 5, uid: 6 },
  'io.k8s.api.authorization.v1.ResourceAttributes': { namespace: 1, verb: 2, group: 3, version: 4, resource: 5, subresource: 6, name: 7, fieldSelector: 8, labelSelector: 9 },
  'io.k8s.api.authorization.v1.NonResourceAttributes': { path: 1, verb: 2 },
  'io.k8s.api.authorization.v1.SelfSubjectRulesReview': { metadata: 1, spec: 2, status: 3 },
  'io.k8s.api.authorization.v1.SelfSubjectRulesReviewSpec': { namespace: 1 },
  'io.k8s.api.authorization.v1.SubjectAccessReviewStatus': { allowed: 1, reason: 2, evaluationError: 3, denied: 4 },
};

const byNumber = new Map<string, Map<number, string>>();
function fieldName(schemaName: string, n: number): string | undefined {
  let m = byNumber.get(schemaName);
  if (!m) {
    m = new Map(Object.entries(FIELDS[schemaName] ?? {}).map(([k, v]) => [v, k]));
    byNumber.set(schemaName, m);
  }
  return m.get(n);
}

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
/** metav1.Time{} on the wire (0001-01-01T00:00:00Z): an unset time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end = buf.length) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** Iterates a message's fields. */
function* fields(buf: Buffer): Generator<{ n: number; wire: number; r: Reader }> {
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = Number(r.varint());
    yield { n: tag >>> 3, wire: tag & 7, r };
  }
}

function decodeTime(buf: Buffer, micro: boolean): string {
  // An unset metav1.Time marshals to no bytes at all (Time.Marshal); unmarshalled, that is the zero time.
  if (buf.length === 0) return ZERO_TIME;
  let seconds = 0n;
  let nanos = 0;
  for (const { n, wire, r } of fields(buf)) {
    if (n === 1 && wire === 0) seconds = BigInt.asIntN(64, r.varint());
    else if (n === 2 && wire === 0) nanos = Number(BigInt.asIntN(32, r.varint()));
    else r.skip(wire);
  }
  if (seconds === -62135596800n && nanos === 0) return ZERO_TIME;
  const d = new Date(Number(seconds) * 1000);
  const base = d.toISOString().slice(0, 19);
  // A MicroTime always has six digits, as RFC3339Micro formats it; a Time's fraction is dropped when decoded.
  return nanos || micro ? `${base}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z` : `${base}Z`;
}

function scalar(s: Schema, wire: number, r: Reader): unknown {
  switch (s.type) {
    case 'string': {
      if (wire !== 2) throw new Error('expected a length-delimited string');
      const b = r.bytes();
      if (s.format === 'byte') return b.toString('base64');
      if (s.format === 'date-time' || s.format === 'micro-time') return decodeTime(b, s.format === 'micro-time');
      return b.toString('utf8');
    }
    case 'integer':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'number':
      if (wire === 1) {
        const v = r.buf.readDoubleLE(r.pos);
        r.pos += 8;
        return v;
      }
      return Number(r.varint());
    case 'boolean':
      return r.varint() !== 0n;
    case 'object':
      return decodeMessage(r.bytes(), s);
    case 'any': {
      // RawExtension / FieldsV1: message { bytes raw = 1 } holding JSON.
      let raw: Buffer | undefined;
      for (const f of fields(r.bytes())) {
        if (f.n === 1 && f.wire === 2) raw = f.r.bytes();
        else f.r.skip(f.wire);
      }
      if (!raw) return {};
      try {
        return JSON.parse(raw.toString('utf8'));
      } catch {
        return raw.toString('base64');
      }
    }
    default:
      throw new Error(`cannot decode ${s.type} as a scalar`);
  }
}

function decodeMessage(buf: Buffer, schema: ObjectSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const name = schema.name ?? '';
  for (const { n, wire, r } of fields(buf)) {
    const key = fieldName(name, n);
    const s = key === undefined ? undefined : schema.properties[key];
    if (!key || !s) {
      r.skip(wire);
      continue;
    }
    if (s.type === 'array') {
      const list = (out[key] as unknown[] | undefined) ?? [];
      out[key] = list;
      if (wire === 2 && (s.items.type === 'integer' || s.items.type === 'boolean')) {
        const packed = new Reader(r.bytes());
        while (packed.pos < packed.end) list.push(scalar(s.items, 0, packed));
      } else list.push(scalar(s.items, wire, r));
      continue;
    }
    if (s.type === 'map') {
      const map = (out[key] as Record<string, unknown> | undefined) ?? {};
      out[key] = map;
      let k = '';
      let v: unknown;
      for (const e of fields(r.bytes())) {
        if (e.n === 1 && e.wire === 2) k = e.r.bytes().toString('utf8');
        else if (e.n === 2) {
          if (s.values.type === 'array') {
            // map<string, ExtraValue>: ExtraValue { repeated string items = 1 }
            const items: unknown[] = [];
            for (const x of fields(e.r.bytes())) {
              if (x.n === 1) items.push(scalar(s.values.items, x.wire, x.r));
              else x.r.skip(x.wire);
            }
            v = items;
          } else v = scalar(s.values, e.wire, e.r);
        } else e.r.skip(e.wire);
      }
      map[k] = v ?? (s.values.type === 'string' ? '' : null);
      continue;
    }
    const v = scalar(s, wire, r);
    // gogo-protobuf writes non-pointer fields even when zero; JSON (omitempty) would not have them.
    if (v === '' || v === 0 || v === ZERO_TIME) continue;
    out[key] = v;
  }
  return out;
}

/** Decodes a protobuf request body for `schema`'s kind into a JSON-shaped object. */
export function decodeProtobufBody(body: Buffer, schema: ObjectSchema): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body does not start with the k8s\\0 envelope');
  try {
    let apiVersion = '';
    let kind = '';
    let raw: Buffer | undefined;
    for (const { n, wire, r } of fields(body.subarray(4))) {
      if (n === 1 && wire === 2) {
        for (const t of fields(r.bytes())) {
          if (t.n === 1) apiVersion = t.r.bytes().toString('utf8');
          else if (t.n === 2) kind = t.r.bytes().toString('utf8');
          else t.r.skip(t.wire);
        }
      } else if (n === 2 && wire === 2) raw = r.bytes();
      else r.skip(wire);
    }
    const obj = decodeMessage(raw ?? Buffer.alloc(0), schema);
    if (apiVersion) obj['apiVersion'] = apiVersion;
    if (kind) obj['kind'] = kind;
    return obj;
  } catch (err) {
    throw badRequest(`unable to decode protobuf body: ${(err as Error).message}`);
  }
}
