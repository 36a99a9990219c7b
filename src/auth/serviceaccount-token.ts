// Service-account tokens as kube signs them (pkg/serviceaccount/jwt.go, claims.go, legacy.go): the key
// files (several public keys for rotation; private keys and certificates count by their public key), the
// key id kube derives, bound tokens for the TokenRequest API and legacy Secret tokens.
import { createHash, createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { KubepkiError } from '../util/errors.js';
import { decodePem, parseCertificateDer } from '../x509/index.js';
import type { CredentialObjectLookup } from './objects.js';
import type { KubeObject } from '../apis/objects.js';
import { badRequest, conflict, invalid, invalidObject, notFound, type FieldError } from '../apis/status.js';
import { SERVICE_ACCOUNT_USERNAME_PREFIX, GROUP_SERVICE_ACCOUNTS } from '../apis/names.js';
import { formatTime } from '../util/time.js';

export const LEGACY_ISSUER = 'kubernetes/serviceaccount';
/** TokenRequest bounds (kube's ValidateTokenRequest and API defaults). */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
export const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32 - 1;

export const serviceAccountUsername = (namespace: string, name: string): string => `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
export const serviceAccountGroups = (namespace: string): string[] => [GROUP_SERVICE_ACCOUNTS, `${GROUP_SERVICE_ACCOUNTS}:${namespace}`];

/** `system:serviceaccount:<ns>:<name>` → its parts, or null. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | null {
  if (!username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX)) return null;
  const parts = username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return null;
  return { namespace: parts[0]!, name: parts[1]! };
}

const PRIVATE_TYPES = new Set(['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'PRIVATE KEY']);

/**
 * Public keys of a --service-account-key-file (keyutil.ParsePublicKeysPEM): PKIX/PKCS#1 public keys,
 * private keys (their public half) and certificates; other blocks are tolerated; none at all is an error.
 */
export function parseServiceAccountPublicKeys(pem: string, source: string): KeyObject[] {
  const keys: KeyObject[] = [];
  for (const block of decodePem(pem, source)) {
    const der = Buffer.from(block.der);
    try {
      if (PRIVATE_TYPES.has(block.type)) {
        const type = block.type === 'RSA PRIVATE KEY' ? 'pkcs1' : block.type === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs8';
        keys.push(createPublicKey(createPrivateKey({ key: der, format: 'der', type })));
      } else if (block.type === 'PUBLIC KEY') {
        keys.push(createPublicKey({ key: der, format: 'der', type: 'spki' }));
      } else if (block.type === 'RSA PUBLIC KEY') {
        keys.push(createPublicKey({ key: der, format: 'der', type: 'pkcs1' }));
      } else if (block.type === 'CERTIFICATE') {
        keys.push(parseCertificateDer(block.der, source).publicKey);
      }
    } catch (err) {
      throw new KubepkiError('InvalidKey', `${source}: unreadable ${block.type} block: ${(err as Error).message}`, { cause: err });
    }
  }
  const usable = keys.filter((k) => k.asymmetricKeyType === 'rsa' || k.asymmetricKeyType === 'ec');
  if (usable.length === 0) throw new KubepkiError('InvalidKey', `${source}: data does not contain any valid RSA or ECDSA public keys`);
  return usable;
}

/** kube's keyIDFromPublicKey: base64url (no padding) of SHA-256 over the PKIX DER public key. */
export function serviceAccountKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

/** The JWS algorithm kube signs with for a key: RS256 for RSA, ES256/384/512 by curve. */
export function signingAlgorithmForKey(key: KeyObject): 'RS256' | 'ES256' | 'ES384' | 'ES512' {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ES256';
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
  }
  throw new KubepkiError('InvalidKey', `service-account signing key must be RSA or ECDSA (P-256, P-384, P-521), got ${key.asymmetricKeyType}`);
}

/** Algorithms a verification key may accept: only its own family, never "none" or HMAC. */
export function verificationAlgorithmsForKey(key: KeyObject): string[] {
  if (key.asymmetricKeyType === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  return [signingAlgorithmForKey(key)];
}

export interface ServiceAccountRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface BoundObjectRef {
  kind: 'Pod' | 'Secret' | 'Node';
  name: string;
  uid: string;
}

/** Signs service-account tokens with --service-account-signing-key-file for --service-account-issuer. */
export class ServiceAccountTokenSigner {
  readonly issuer: string;
  readonly keyId: string;
  readonly algorithm: string;
  private readonly privateKey: KeyObject;

  constructor(options: { privateKey: KeyObject; issuer: string }) {
    if (options.privateKey.type !== 'private') throw new KubepkiError('InvalidKey', 'the service-account signing key must be a private key');
    this.privateKey = options.privateKey;
    this.issuer = options.issuer;
    this.algorithm = signingAlgorithmForKey(options.privateKey);
    this.keyId = serviceAccountKeyId(createPublicKey(options.privateKey));
  }

  /** A bound token (claims.go): audience, iat/nbf/exp, jti, and the kubernetes.io claims. */
  async issueBoundToken(options: {
    serviceAccount: ServiceAccountRef;
    audiences: string[];
    expirationSeconds: number;
    now: Date;
    boundObject?: BoundObjectRef;
    jti?: string;
  }): Promise<{ token: string; expirationTimestamp: Date }> {
    const { serviceAccount: sa, now } = options;
    const iat = Math.floor(now.getTime() / 1000);
    const exp = iat + options.expirationSeconds;
    const k8s: Record<string, unknown> = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
    if (options.boundObject) {
      const ref = { name: options.boundObject.name, uid: options.boundObject.uid };
      k8s[options.boundObject.kind.toLowerCase()] = ref;
    }
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg: this.algorithm, kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(serviceAccountUsername(sa.namespace, sa.name))
      .setAudience(options.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(options.jti ?? randomUUID())
      .sign(this.privateKey);
    return { token, expirationTimestamp: new Date(exp * 1000) };
  }

  /** A legacy Secret token (legacy.go): issuer kubernetes/serviceaccount, no audience, no expiry. */
  async issueLegacyToken(options: { serviceAccount: ServiceAccountRef; secretName: string }): Promise<string> {
    const sa = options.serviceAccount;
    return new SignJWT({
      'kubernetes.io/serviceaccount/namespace': sa.namespace,
      'kubernetes.io/serviceaccount/secret.name': options.secretName,
      'kubernetes.io/serviceaccount/service-account.name': sa.name,
      'kubernetes.io/serviceaccount/service-account.uid': sa.uid,
    })
      .setProtectedHeader({ alg: this.algorithm, kid: this.keyId })
      .setIssuer(LEGACY_ISSUER)
      .setSubject(serviceAccountUsername(sa.namespace, sa.name))
      .sign(this.privateKey);
  }
}

// ---- TokenRequest (pkg/registry/core/serviceaccount/storage/token.go) -----------------------------------

export interface TokenRequestObject extends KubeObject {
  spec?: {
    audiences?: string[] | null;
    expirationSeconds?: number | null;
    boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
  };
  status?: { token: string; expirationTimestamp: string };
}

const TOKEN_REQUEST_KIND = { group: 'authentication.k8s.io', kind: 'TokenRequest' };

/**
 * Serves POST .../serviceaccounts/<name>/token: checks the request, looks up the account (and the bound
 * object), and returns the TokenRequest with status.token. Errors are the API errors kube answers with.
 */
export async function createTokenRequest(options: {
  signer: ServiceAccountTokenSigner;
  lookup: CredentialObjectLookup;
  namespace: string;
  name: string;
  request: TokenRequestObject;
  /** --api-audiences (default: the issuer). */
  apiAudiences: string[];
  now: Date;
  /** --service-account-max-token-expiration in seconds; 0 = none. */
  maxExpirationSeconds?: number;
}): Promise<TokenRequestObject> {
  const { namespace, name, request, now } = options;
  const meta = request.metadata ?? {};
  if (meta.name && meta.name !== name) {
    throw invalidObject(TOKEN_REQUEST_KIND, name, [invalid('metadata.name', meta.name, 'must match the service account name if specified')]);
  }
  if (meta.namespace && meta.namespace !== namespace) {
    throw invalidObject(TOKEN_REQUEST_KIND, name, [invalid('metadata.namespace', meta.namespace, 'must match the service account namespace if specified')]);
  }
  const sa = await options.lookup.getServiceAccount(namespace, name);
  if (!sa) throw notFound({ group: '', resource: 'serviceaccounts' }, name);
  const spec = request.spec ?? {};
  const audiences = spec.audiences && spec.audiences.length > 0 ? [...spec.audiences] : [...options.apiAudiences];
  let expirationSeconds = spec.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  const errs: FieldError[] = [];
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_TOKEN_EXPIRATION_SECONDS) {
    errs.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  } else if (expirationSeconds > MAX_TOKEN_EXPIRATION_SECONDS) {
    errs.push(invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  }
  if (errs.length > 0) throw invalidObject(TOKEN_REQUEST_KIND, '', errs);
  if (options.maxExpirationSeconds && expirationSeconds > options.maxExpirationSeconds) expirationSeconds = options.maxExpirationSeconds;

  let boundObject: BoundObjectRef | undefined;
  const ref = spec.boundObjectRef;
  if (ref) {
    const apiVersion = ref.apiVersion ?? '';
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
    const refName = ref.name ?? '';
    let obj: KubeObject | null = null;
    if (group === '' && ref.kind === 'Secret') {
      obj = await options.lookup.getSecret(namespace, refName);
      if (!obj) throw notFound({ group: '', resource: 'secrets' }, refName);
    } else if (group === '' && ref.kind === 'Pod' && options.lookup.getPod) {
      obj = await options.lookup.getPod(namespace, refName);
      if (!obj) throw notFound({ group: '', resource: 'pods' }, refName);
      const podSa = (obj['spec'] as { serviceAccountName?: string } | undefined)?.serviceAccountName;
      if (podSa !== name) throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
    } else if (group === '' && ref.kind === 'Node' && options.lookup.getNode) {
      obj = await options.lookup.getNode(refName);
      if (!obj) throw notFound({ group: '', resource: 'nodes' }, refName);
    } else {
      // schema.GroupVersionKind.String(): "<group>/<version>, Kind=<kind>"
      const version = apiVersion.includes('/') ? apiVersion.split('/')[1]! : apiVersion;
      const gvk = `${group}/${version}, Kind=${ref.kind ?? ''}`;
      throw badRequest(`cannot bind token for serviceaccount "${name}" to object of type ${gvk}`);
    }
    const uid = obj.metadata.uid ?? '';
    if (ref.uid && ref.uid !== uid) {
      throw conflict(
        { group, resource: ref.kind! },
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    boundObject = { kind: ref.kind as BoundObjectRef['kind'], name: refName, uid };
  }

  const { token, expirationTimestamp } = await options.signer.issueBoundToken({
    serviceAccount: { namespace, name, uid: sa.metadata.uid ?? '' },
    audiences,
    expirationSeconds,
    now,
    ...(boundObject ? { boundObject } : {}),
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: formatTime(now) },
    spec: { audiences, expirationSeconds, boundObjectRef: spec.boundObjectRef ?? null },
    status: { token, expirationTimestamp: formatTime(expirationTimestamp) },
  };
}
