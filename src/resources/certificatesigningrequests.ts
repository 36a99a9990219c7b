// certificates.k8s.io/v1 CertificateSigningRequest with kube-apiserver's rules
// (pkg/apis/certificates/validation and pkg/registry/certificates/certificates/strategy.go): the request
// must be a PEM PKCS#10 whose self-signature verifies, signerName is required and well formed, usages come
// from the known set, expirationSeconds is at least 600, the requester's identity is the authenticated
// user's, the spec never changes, and conditions change only through /approval (Approved, Denied — never
// both) and /status (status.certificate, only once Approved and only PEM certificates; Failed).
import { isDeepStrictEqual } from 'node:util';
import { decodePem } from '../x509/pem.js';
import { checkCertificateParsesHere, checkCertificateParsesOffThread, verifyCertificateRequestOffThread } from '../x509/signature-workers.js';
import { checkSubjectRestriction } from './csr-subject-restriction.js';
import { kindSchema } from '../api/meta-schema.js';
import { ALL_VERBS, type ResourceDefinition, type StrategyContext, type SubresourceStrategy } from '../api/registry.js';
import { arrayOf, bytes, int32, mapOf, obj, str, time } from '../api/schema.js';
import { age, AGE_COLUMN, humanDuration, NAME_COLUMN } from '../api/table.js';
import { isDNS1123Label, isDNS1123Subdomain, isPathSegmentName } from '../api/validation.js';
import { authorizeSigner, signerForbiddenError } from '../auth/authz/signers.js';
import { formatTime } from '../util/time.js';
import type { KubeObject } from '../apis/objects.js';
import { duplicate, forbiddenField, invalid, notSupported, required, tooLong, type FieldError } from '../apis/status.js';
import { type CertificateSigningRequest, KNOWN_USAGES, type CertificateSigningRequestCondition } from '../apis/csr.js';
import { LEGACY_UNKNOWN_SIGNER } from '../apis/names.js';

const SORTED_USAGES = [...KNOWN_USAGES].sort();

const APPROVAL_TYPES = new Set(['Approved', 'Denied']);
const TRUE_ONLY_TYPES = new Set(['Approved', 'Denied', 'Failed']);

const conditionSchema = obj(
  {
    lastTransitionTime: time('lastTransitionTime is the time the condition last transitioned from one status to another.'),
    lastUpdateTime: time('lastUpdateTime is the time of the last update to this condition'),
    message: str('message contains a human readable message with details about the request state'),
    reason: str('reason indicates a brief reason for the request state'),
    status: str('status of the condition, one of True, False, Unknown.'),
    type: str('type of the condition. Known conditions are "Approved", "Denied", and "Failed".'),
  },
  { name: 'io.k8s.api.certificates.v1.CertificateSigningRequestCondition', required: ['type', 'status'], description: 'CertificateSigningRequestCondition describes a condition of a CertificateSigningRequest object.' },
);

export const csrSchema = kindSchema({
  name: 'io.k8s.api.certificates.v1.CertificateSigningRequest',
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  description: 'CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.',
  required: ['spec'],
  properties: {
    spec: obj(
      {
        expirationSeconds: int32('expirationSeconds is the requested duration of validity of the issued certificate.'),
        extra: mapOf(arrayOf(str()), 'extra contains extra attributes of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.'),
        groups: arrayOf(str(), { listType: 'atomic', description: 'groups contains group membership of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.' }),
        request: bytes('request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block.'),
        signerName: str('signerName indicates the requested signer, and is a qualified name.'),
        uid: str('uid contains the uid of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.'),
        usages: arrayOf(str(undefined, { enum: KNOWN_USAGES }), { listType: 'atomic', description: 'usages specifies a set of key usages requested in the issued certificate.' }),
        username: str('username contains the name of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.'),
      },
      { name: 'io.k8s.api.certificates.v1.CertificateSigningRequestSpec', required: ['request', 'signerName'], description: 'CertificateSigningRequestSpec contains the certificate request.' },
    ),
    status: obj(
      {
        certificate: bytes('certificate is populated with an issued certificate by the signer after an Approved condition is present.'),
        conditions: arrayOf(conditionSchema, { listType: 'map', listMapKeys: ['type'], description: 'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".' }),
      },
      {
        name: 'io.k8s.api.certificates.v1.CertificateSigningRequestStatus',
        description: 'CertificateSigningRequestStatus contains conditions used to indicate approved/denied/failed status of the request, and the issued certificate.',
      },
    ),
  },
});

const fromBase64 = (b64: string | undefined): Buffer => Buffer.from(b64 ?? '', 'base64');

/**
 * validateCSR: the first PEM block must be a CERTIFICATE REQUEST that parses as Go's ParseCertificateRequest
 * parses it (DER anywhere in it malformed is refused here, whatever the signer) and whose signature verifies.
 */
async function validateRequest(requestB64: string | undefined): Promise<string | null> {
  const text = fromBase64(requestB64).toString('latin1');
  let der: Uint8Array;
  try {
    const first = decodePem(text, 'spec.request')[0]!;
    if (first.type !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
    der = first.der;
  } catch {
    return 'PEM block type must be CERTIFICATE REQUEST';
  }
  try {
    await verifyCertificateRequestOffThread(der);
  } catch (err) {
    return (err as Error).message.replace(/^spec\.request: /, '');
  }
  return null;
}

/**
 * Up to this many bytes of DER, status.certificate is checked on the event loop: the parse costs ~20 µs a
 * certificate, no more than posting it to a worker thread costs the event loop; a longer list goes to the
 * worker threads, so that no status write holds the event loop for long.
 */
const CHECK_HERE_MAX_BYTES = 16 * 1024;

/**
 * validateCertificate: status.certificate must be PEM CERTIFICATE blocks only, each a parseable certificate
 * (Go's x509.ParseCertificates, by the x509 core's certificate parser).
 */
async function validateCertificate(certB64: string | undefined): Promise<string | null> {
  const text = fromBase64(certB64).toString('latin1');
  if (text.length === 0) return null;
  let blocks;
  try {
    blocks = decodePem(text, 'status.certificate');
  } catch {
    return 'must contain at least one CERTIFICATE PEM block';
  }
  // Block by block, as kube: the first block that is not a plain CERTIFICATE, or does not parse, is the error.
  let shapeError: string | null = null;
  const parses: Promise<string | null>[] = [];
  const check = blocks.reduce((n, b) => n + b.der.length, 0) <= CHECK_HERE_MAX_BYTES ? checkCertificateParsesHere : checkCertificateParsesOffThread;
  for (const b of blocks) {
    if (b.type !== 'CERTIFICATE') shapeError = `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(b.type)}`;
    else if (b.headers && Object.keys(b.headers).length > 0) shapeError = 'no PEM block headers are permitted';
    if (shapeError) break;
    parses.push(check(b.der).then(() => null, (err: Error) => err.message));
  }
  for (const m of await Promise.all(parses)) if (m !== null) return m;
  return shapeError;
}

/** ValidateSignerName (pkg/apis/core/validation). */
export function validateSignerName(field: string, signerName: string | undefined): FieldError[] {
  if (!signerName) return [required(field)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const errs: FieldError[] = [];
  const [domain, path] = segments as [string, string];
  if (domain.length > 253) errs.push(tooLong(field, domain, 253));
  const labels = domain.split('.');
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length > 0) {
      for (const m of e) errs.push(invalid(field, domain, `validating label ${JSON.stringify(l)}: ${m}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  if (path.length > 253) errs.push(tooLong(field, path, 253));
  for (const m of isDNS1123Subdomain(path)) errs.push(invalid(field, path, `validating path ${JSON.stringify(path)}: ${m}`));
  return errs;
}

interface ValidationOptions {
  allowSettingApprovalConditions: boolean;
  allowSettingCertificate: boolean;
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowUnknownUsages: boolean;
  allowDuplicateUsages: boolean;
  /** The request was verified when the object was created and the spec is immutable. */
  requestAlreadyValidated: boolean;
}

const conditionsOf = (c: CertificateSigningRequest): CertificateSigningRequestCondition[] => c.status?.conditions ?? [];
const hasCondition = (c: CertificateSigningRequest, type: string): boolean => conditionsOf(c).some((x) => x.type === type);
const findConditions = (c: CertificateSigningRequest, type: string): CertificateSigningRequestCondition[] => conditionsOf(c).filter((x) => x.type === type);

async function optionsFor(newCsr: CertificateSigningRequest, oldCsr: CertificateSigningRequest | null): Promise<ValidationOptions> {
  const dupTypes = (c: CertificateSigningRequest) => new Set(conditionsOf(c).map((x) => x.type)).size !== conditionsOf(c).length;
  const usages = oldCsr?.spec?.usages ?? [];
  return {
    allowSettingApprovalConditions: false,
    allowSettingCertificate: false,
    allowBothApprovedAndDenied: oldCsr !== null && hasCondition(oldCsr, 'Approved') && hasCondition(oldCsr, 'Denied'),
    allowLegacySignerName: oldCsr !== null && oldCsr.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: oldCsr !== null && dupTypes(oldCsr),
    allowEmptyConditionType: oldCsr !== null && conditionsOf(oldCsr).some((x) => !x.type),
    allowArbitraryCertificate:
      oldCsr !== null && ((newCsr.status?.certificate ?? '') === (oldCsr.status?.certificate ?? '') || (await validateCertificate(oldCsr.status?.certificate)) !== null),
    allowUnknownUsages: usages.some((u) => !KNOWN_USAGES.includes(u)),
    allowDuplicateUsages: new Set(usages).size !== usages.length,
    requestAlreadyValidated: oldCsr !== null && oldCsr.spec?.request === newCsr.spec?.request,
  };
}

async function validateCsr(csr: CertificateSigningRequest, o: ValidationOptions): Promise<FieldError[]> {
  const errs: FieldError[] = [];
  const spec = csr.spec ?? ({} as CertificateSigningRequest['spec']);
  if (!o.requestAlreadyValidated) {
    const err = await validateRequest(spec.request);
    if (err) errs.push(invalid('spec.request', '<certificate request data>', err));
  }
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(required('spec.usages'));
  if (!o.allowUnknownUsages) usages.forEach((u, i) => KNOWN_USAGES.includes(u) || errs.push(notSupported(`spec.usages[${i}]`, u, SORTED_USAGES)));
  if (!o.allowDuplicateUsages) {
    const seen = new Set<string>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  if (!o.allowLegacySignerName && spec.signerName === LEGACY_UNKNOWN_SIGNER) {
    errs.push(invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else errs.push(...validateSignerName('spec.signerName', spec.signerName));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600) {
    errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, o));
  if (!o.allowArbitraryCertificate) {
    const err = await validateCertificate(csr.status?.certificate);
    if (err) errs.push(invalid('status.certificate', '<certificate data>', err));
  }
  return errs;
}

function validateConditions(csr: CertificateSigningRequest, o: ValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(csr).forEach((c, i) => {
    const f = `status.conditions[${i}]`;
    if (!o.allowEmptyConditionType && !c.type) errs.push(required(`${f}.type`));
    const allowed = TRUE_ONLY_TYPES.has(c.type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (!c.status) errs.push(required(`${f}.status`));
    else if (!allowed.includes(c.status)) errs.push(notSupported(`${f}.status`, c.status, allowed));
    if (!o.allowBothApprovedAndDenied) {
      if (c.type === 'Approved') {
        approved = true;
        if (denied) errs.push(invalid(`${f}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === 'Denied') {
        denied = true;
        if (approved) errs.push(invalid(`${f}.type`, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!o.allowDuplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(duplicate(`${f}.type`, c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

async function validateCsrUpdate(newCsr: CertificateSigningRequest, oldCsr: CertificateSigningRequest, o: ValidationOptions): Promise<FieldError[]> {
  const errs = await validateCsr(newCsr, o);
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (findConditions(newCsr, t).length < findConditions(oldCsr, t).length) {
      errs.push(forbiddenField('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
    }
  }
  if (!o.allowSettingApprovalConditions) {
    for (const t of APPROVAL_TYPES) {
      const oldC = findConditions(oldCsr, t);
      const newC = findConditions(newCsr, t);
      if (newC.length < oldC.length) continue;
      if (newC.length > oldC.length) errs.push(forbiddenField('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (!isDeepStrictEqual(oldC, newC)) errs.push(forbiddenField('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
    }
  }
  const newCert = newCsr.status?.certificate ?? '';
  const oldCert = oldCsr.status?.certificate ?? '';
  if (newCert !== oldCert) {
    if (!o.allowSettingCertificate) errs.push(forbiddenField('status.certificate', 'updates may not set certificate content'));
    else if (oldCert.length > 0) errs.push(forbiddenField('status.certificate', 'updates may not modify existing certificate content'));
    else if (!hasCondition(newCsr, 'Approved')) {
      // A signer issues only for an approved request; the API refuses a certificate on any other.
      errs.push(forbiddenField('status.certificate', 'certificate may only be set on a request with an Approved condition'));
    }
  }
  return errs;
}

/** populateConditionTimestamps: server-side timestamps for new or changed conditions. */
function populateConditionTimestamps(newCsr: CertificateSigningRequest, oldCsr: CertificateSigningRequest, now: Date): void {
  const nowStr = formatTime(now);
  for (const c of conditionsOf(newCsr)) {
    if (!c.lastUpdateTime) c.lastUpdateTime = nowStr;
    if (!c.lastTransitionTime) {
      const prev = conditionsOf(oldCsr).find((o) => o.type === c.type);
      c.lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : nowStr;
    }
  }
}

const asCsr = (o: KubeObject) => o as CertificateSigningRequest;

/**
 * kube's certificates approval/signing admission: writing the approval subresource needs `approve`, and
 * setting status.certificate needs `sign`, on `signers` named after the signerName (or `<domain>/*`).
 */
async function requireSigner(ctx: StrategyContext, csr: CertificateSigningRequest, verb: 'approve' | 'sign'): Promise<void> {
  const signerName = csr.spec?.signerName ?? '';
  if (!(await authorizeSigner({ authorize: (a) => ctx.authorize(a) }, ctx.user, verb, signerName))) {
    throw signerForbiddenError(csr.metadata.name ?? '', verb, signerName);
  }
}

const approvalStrategy: SubresourceStrategy = {
  prepareForUpdate(newObj, oldObj, ctx) {
    const n = asCsr(newObj);
    const o = asCsr(oldObj);
    // `o` is this attempt's own decode of the stored object and is only read from here on: its parts are
    // shared, not deep-copied (the status is copied one level: its conditions are replaced below).
    n.spec = o.spec;
    const conditions = n.status?.conditions;
    n.status = { ...(o.status ?? {}) };
    if (conditions !== undefined) n.status.conditions = conditions;
    else delete n.status.conditions;
    populateConditionTimestamps(n, o, ctx.now);
  },
  async validateUpdate(newObj, oldObj, ctx) {
    await requireSigner(ctx, asCsr(newObj), 'approve');
    const o = await optionsFor(asCsr(newObj), asCsr(oldObj));
    o.allowSettingApprovalConditions = true;
    return validateCsrUpdate(asCsr(newObj), asCsr(oldObj), o);
  },
};

const statusStrategy: SubresourceStrategy = {
  prepareForUpdate(newObj, oldObj, ctx) {
    const n = asCsr(newObj);
    const o = asCsr(oldObj);
    n.spec = o.spec; // shared, as in approvalStrategy
    // The status writer (a signer) may set certificate and Failed, never approval conditions.
    const kept = conditionsOf(o).filter((c) => APPROVAL_TYPES.has(c.type));
    const others = conditionsOf(n).filter((c) => !APPROVAL_TYPES.has(c.type));
    n.status = { ...(n.status ?? {}) };
    if (kept.length + others.length > 0) n.status.conditions = [...kept.map((c) => ({ ...c })), ...others]; // conditions hold strings only
    else delete n.status.conditions;
    populateConditionTimestamps(n, o, ctx.now);
  },
  async validateUpdate(newObj, oldObj, ctx) {
    if ((asCsr(newObj).status?.certificate ?? '') !== (asCsr(oldObj).status?.certificate ?? '')) await requireSigner(ctx, asCsr(oldObj), 'sign');
    const o = await optionsFor(asCsr(newObj), asCsr(oldObj));
    o.allowSettingCertificate = true;
    return validateCsrUpdate(asCsr(newObj), asCsr(oldObj), o);
  },
};

/** The CONDITION column (kube's extractCSRStatus). */
export function csrConditionSummary(csr: CertificateSigningRequest): string {
  let approved = false;
  let denied = false;
  let failed = false;
  for (const c of conditionsOf(csr)) {
    if (c.type === 'Approved') approved = true;
    else if (c.type === 'Denied') denied = true;
    else if (c.type === 'Failed') failed = true;
  }
  let s = denied ? 'Denied' : approved ? 'Approved' : 'Pending';
  if (failed) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}

export const certificateSigningRequests: ResourceDefinition = {
  group: 'certificates.k8s.io',
  version: 'v1',
  kind: 'CertificateSigningRequest',
  listKind: 'CertificateSigningRequestList',
  plural: 'certificatesigningrequests',
  singular: 'certificatesigningrequest',
  shortNames: ['csr'],
  namespaced: false,
  verbs: ALL_VERBS,
  schema: csrSchema,
  validateName: isPathSegmentName,
  strategy: {
    prepareForCreate(obj, ctx: StrategyContext) {
      const csr = asCsr(obj);
      csr.spec = csr.spec ?? ({} as CertificateSigningRequest['spec']);
      // Never the client's word for who is asking.
      delete csr.spec.username;
      delete csr.spec.uid;
      delete csr.spec.groups;
      delete csr.spec.extra;
      csr.spec.username = ctx.user.username;
      if (ctx.user.uid) csr.spec.uid = ctx.user.uid;
      if (ctx.user.groups.length > 0) csr.spec.groups = [...ctx.user.groups];
      if (ctx.user.extra && Object.keys(ctx.user.extra).length > 0) csr.spec.extra = structuredClone(ctx.user.extra);
      // A new request is never pre-approved or pre-issued.
      csr.status = {};
    },
    async validate(obj) {
      const errs = await validateCsr(asCsr(obj), await optionsFor(asCsr(obj), null));
      if (errs.length === 0) checkSubjectRestriction(asCsr(obj));
      return errs;
    },
    prepareForUpdate(newObj, oldObj) {
      const n = asCsr(newObj);
      const o = asCsr(oldObj);
      n.spec = structuredClone(o.spec);
      if (o.status !== undefined) n.status = structuredClone(o.status);
      else delete n.status;
    },
    async validateUpdate(newObj, oldObj) {
      return validateCsrUpdate(asCsr(newObj), asCsr(oldObj), await optionsFor(asCsr(newObj), asCsr(oldObj)));
    },
  },
  subresources: [
    { name: 'approval', verbs: ['get', 'patch', 'update'], strategy: approvalStrategy },
    { name: 'status', verbs: ['get', 'patch', 'update'], strategy: statusStrategy },
  ],
  printer: {
    columns: [
      NAME_COLUMN,
      AGE_COLUMN,
      { name: 'SignerName', type: 'string', description: 'Name of the signer that should issue the certificate.' },
      { name: 'Requestor', type: 'string', description: 'Name of the user that created the request.' },
      { name: 'RequestedDuration', type: 'string', description: 'Requested validity duration of the issued certificate.' },
      { name: 'Condition', type: 'string', description: 'Conditions applied to the request.' },
    ],
    cells(obj, now) {
      const csr = asCsr(obj);
      const exp = csr.spec?.expirationSeconds;
      return [
        csr.metadata.name ?? '',
        age(csr.metadata.creationTimestamp, now),
        csr.spec?.signerName || '<none>',
        csr.spec?.username ?? '',
        exp === undefined ? '<none>' : humanDuration(exp * 1000),
        csrConditionSummary(csr),
      ];
    },
  },
  fieldSelectors: {
    'spec.signerName': (obj) => asCsr(obj).spec?.signerName,
  },
};
