import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT, decodeProtectedHeader, decodeJwt } from 'jose';
import { serviceAccountAuthenticator } from '../../src/auth/authn/serviceaccount.js';
import {
  ServiceAccountTokenSigner,
  createTokenRequest,
  parseServiceAccountPublicKeys,
  serviceAccountKeyId,
} from '../../src/auth/serviceaccount-token.js';
import type { CredentialObjectLookup } from '../../src/auth/objects.js';
import { FakeClock } from '../../src/util/clock.js';
import { privateKeyToPem, publicKeyToPem } from '../../src/x509/index.js';
import { makeCA } from './pki.js';
import { isApiError } from '../../src/apis/status.js';
import type { KubeObject, Secret, ServiceAccount } from '../../src/apis/objects.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

class Objects implements CredentialObjectLookup {
  sas = new Map<string, ServiceAccount>();
  secrets = new Map<string, Secret>();
  pods = new Map<string, KubeObject>();
  getServiceAccount(ns: string, name: string) {
    return this.sas.get(`${ns}/${name}`) ?? null;
  }
  getSecret(ns: string, name: string) {
    return this.secrets.get(`${ns}/${name}`) ?? null;
  }
  getPod(ns: string, name: string) {
    return this.pods.get(`${ns}/${name}`) ?? null;
  }
  addSA(ns: string, name: string, uid: string) {
    this.sas.set(`${ns}/${name}`, { metadata: { namespace: ns, name, uid } });
  }
}

function setup(options: { keys?: KeyObject[]; signingKey?: KeyObject; issuers?: string[]; apiAudiences?: string[] } = {}) {
  const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));
  const objects = new Objects();
  objects.addSA('default', 'builder', 'uid-1');
  const signer = new ServiceAccountTokenSigner({ privateKey: options.signingKey ?? rsa.privateKey, issuer: ISSUER });
  const auth = serviceAccountAuthenticator({
    keys: options.keys ?? [rsa.publicKey],
    issuers: options.issuers ?? [ISSUER],
    apiAudiences: options.apiAudiences ?? [ISSUER],
    lookup: objects,
    clock,
  });
  return { clock, objects, signer, auth };
}

const issue = (signer: ServiceAccountTokenSigner, clock: FakeClock, extra: Partial<Parameters<ServiceAccountTokenSigner['issueBoundToken']>[0]> = {}) =>
  signer.issueBoundToken({
    serviceAccount: { namespace: 'default', name: 'builder', uid: 'uid-1' },
    audiences: [ISSUER],
    expirationSeconds: 3600,
    now: clock.now(),
    jti: 'jti-1',
    ...extra,
  });

test('a bound token authenticates as system:serviceaccount:<ns>:<name> with kube\'s groups, uid and credential id', async () => {
  const { clock, signer, auth } = setup();
  const { token, expirationTimestamp } = await issue(signer, clock);
  assert.equal(expirationTimestamp.toISOString(), '2026-01-01T01:00:00.000Z');
  const res = await auth.authenticateToken(token, undefined);
  assert.deepEqual(res, {
    user: {
      username: 'system:serviceaccount:default:builder',
      uid: 'uid-1',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default'],
      extra: { 'authentication.kubernetes.io/credential-id': ['JTI=jti-1'] },
    },
    audiences: [ISSUER],
  });
});

test('tokens carry kube\'s header (alg, kid from the SHA-256 of the DER public key) and claims', async () => {
  const { clock, signer } = setup();
  const { token } = await issue(signer, clock);
  const header = decodeProtectedHeader(token);
  assert.equal(header.alg, 'RS256');
  assert.equal(header.kid, serviceAccountKeyId(rsa.publicKey));
  assert.match(header.kid!, /^[A-Za-z0-9_-]{43}$/);
  const claims = decodeJwt(token);
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.sub, 'system:serviceaccount:default:builder');
  assert.deepEqual(claims.aud, [ISSUER]);
  assert.equal(claims.exp! - claims.iat!, 3600);
  assert.equal(claims.nbf, claims.iat);
  assert.deepEqual(claims['kubernetes.io'], { namespace: 'default', serviceaccount: { name: 'builder', uid: 'uid-1' } });
});

test('a token for a deleted, or deleted and re-created, service account fails', async () => {
  const { clock, signer, auth, objects } = setup();
  const { token } = await issue(signer, clock);
  objects.sas.delete('default/builder');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'serviceaccounts "builder" not found' });
  objects.addSA('default', 'builder', 'uid-2');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'service account UID (uid-2) does not match claim (uid-1)' });
});

test('a service account being deleted for more than the leeway invalidates its tokens', async () => {
  const { clock, signer, auth, objects } = setup();
  const { token } = await issue(signer, clock);
  objects.sas.get('default/builder')!.metadata.deletionTimestamp = '2025-12-31T23:58:00Z';
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'service account default/builder has been deleted' });
});

test('expiry honours go-jose\'s one-minute leeway', async () => {
  const { clock, signer, auth } = setup();
  const { token } = await issue(signer, clock, { expirationSeconds: 600 });
  clock.advance(600_000 + 59_000);
  assert.ok(await auth.authenticateToken(token, undefined));
  clock.advance(2_000);
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'service account token has expired' });
});

test('a token not yet valid is refused', async () => {
  const { clock, signer, auth } = setup();
  const { token } = await issue(signer, clock, { now: new Date(clock.now().getTime() + 10 * 60_000) });
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'service account token is not valid yet' });
});

test('a JWT signed by another key is refused', async () => {
  const { clock, auth } = setup();
  const foreign = new ServiceAccountTokenSigner({ privateKey: other.privateKey, issuer: ISSUER });
  const { token } = await issue(foreign, clock);
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'go-jose/go-jose: error in cryptographic primitive' });
});

test('alg "none" is refused', async () => {
  const { auth } = setup();
  const token = new UnsecuredJWT({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'builder', uid: 'uid-1' } } })
    .setIssuer(ISSUER)
    .setAudience(ISSUER)
    .setSubject('system:serviceaccount:default:builder')
    .encode();
  await assert.rejects(auth.authenticateToken(token, undefined), /error in cryptographic primitive/);
});

test('HS256 signed with the public key as the HMAC secret is refused', async () => {
  const { auth } = setup();
  for (const secret of [publicKeyToPem(rsa.publicKey), rsa.publicKey.export({ type: 'spki', format: 'der' })]) {
    const token = await new SignJWT({ 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'builder', uid: 'uid-1' } } })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setExpirationTime('1h')
      .sign(new Uint8Array(Buffer.from(secret)));
    await assert.rejects(auth.authenticateToken(token, undefined), /error in cryptographic primitive/);
  }
});

test('a token of a foreign issuer, or not a JWT at all, is not applicable', async () => {
  const { clock, auth } = setup();
  const foreign = new ServiceAccountTokenSigner({ privateKey: rsa.privateKey, issuer: 'https://elsewhere' });
  assert.equal(await auth.authenticateToken((await issue(foreign, clock)).token, undefined), null);
  assert.equal(await auth.authenticateToken('abcdef.0123456789abcdef', undefined), null);
  assert.equal(await auth.authenticateToken('not-a-jwt', undefined), null);
});

test('audiences: a token for another audience is refused, a TokenReview audience it carries is accepted', async () => {
  const { clock, signer, auth } = setup();
  const { token: vault } = await issue(signer, clock, { audiences: ['vault'] });
  await assert.rejects(auth.authenticateToken(vault, undefined), {
    message: `token audiences ["vault"] is invalid for the target audiences ["${ISSUER}"]`,
  });
  assert.deepEqual((await auth.authenticateToken(vault, ['vault', 'other']))?.audiences, ['vault']);
});

test('key rotation: tokens of the old and the new key verify while both are listed', async () => {
  const { clock } = setup();
  const objects = new Objects();
  objects.addSA('default', 'builder', 'uid-1');
  const auth = serviceAccountAuthenticator({ keys: [rsa.publicKey, ec.publicKey], issuers: [ISSUER, 'https://old-issuer'], apiAudiences: [ISSUER], lookup: objects, clock });
  const oldSigner = new ServiceAccountTokenSigner({ privateKey: rsa.privateKey, issuer: 'https://old-issuer' });
  const newSigner = new ServiceAccountTokenSigner({ privateKey: ec.privateKey, issuer: ISSUER });
  assert.equal(newSigner.algorithm, 'ES256');
  assert.ok(await auth.authenticateToken((await issue(oldSigner, clock)).token, undefined));
  assert.ok(await auth.authenticateToken((await issue(newSigner, clock)).token, undefined));
});

test('secret-bound and pod-bound tokens follow the live object', async () => {
  const { clock, signer, auth, objects } = setup();
  objects.secrets.set('default/s1', { metadata: { namespace: 'default', name: 's1', uid: 'sec-uid' } });
  const { token } = await issue(signer, clock, { boundObject: { kind: 'Secret', name: 's1', uid: 'sec-uid' } });
  assert.ok(await auth.authenticateToken(token, undefined));
  objects.secrets.delete('default/s1');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'service account token has been invalidated' });

  objects.pods.set('default/p1', { metadata: { namespace: 'default', name: 'p1', uid: 'pod-uid' } });
  const { token: podToken } = await issue(signer, clock, { boundObject: { kind: 'Pod', name: 'p1', uid: 'pod-uid' } });
  const res = await auth.authenticateToken(podToken, undefined);
  assert.deepEqual(res?.user.extra?.['authentication.kubernetes.io/pod-name'], ['p1']);
  assert.deepEqual(res?.user.extra?.['authentication.kubernetes.io/pod-uid'], ['pod-uid']);
  objects.pods.set('default/p1', { metadata: { namespace: 'default', name: 'p1', uid: 'pod-uid-2' } });
  await assert.rejects(auth.authenticateToken(podToken, undefined), { message: 'pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid)' });
});

test('legacy Secret tokens verify while the Secret holds exactly that token and the account is the same', async () => {
  const { auth, signer, objects } = setup();
  const token = await signer.issueLegacyToken({ serviceAccount: { namespace: 'default', name: 'builder', uid: 'uid-1' }, secretName: 'builder-token' });
  assert.equal(decodeJwt(token).iss, 'kubernetes/serviceaccount');
  const secret: Secret = {
    metadata: { namespace: 'default', name: 'builder-token', uid: 's' },
    type: 'kubernetes.io/service-account-token',
    data: { token: Buffer.from(token).toString('base64') },
  };
  objects.secrets.set('default/builder-token', secret);
  const res = await auth.authenticateToken(token, undefined);
  assert.deepEqual(res?.user, { username: 'system:serviceaccount:default:builder', uid: 'uid-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:default'] });
  secret.data!['token'] = Buffer.from(token.slice(0, -2) + 'xx').toString('base64');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: "token does not match server's copy" });
  objects.secrets.delete('default/builder-token');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'token has been invalidated' });
  objects.secrets.set('default/builder-token', { ...secret, data: { token: Buffer.from(token).toString('base64') } });
  objects.addSA('default', 'builder', 'uid-9');
  await assert.rejects(auth.authenticateToken(token, undefined), { message: 'ServiceAccount UID (uid-9) does not match claim (uid-1)' });
});

test('legacy tokens are not valid for a foreign audience', async () => {
  const { auth, signer, objects } = setup();
  const token = await signer.issueLegacyToken({ serviceAccount: { namespace: 'default', name: 'builder', uid: 'uid-1' }, secretName: 't' });
  objects.secrets.set('default/t', { metadata: { name: 't', namespace: 'default' }, data: { token: Buffer.from(token).toString('base64') } });
  await assert.rejects(auth.authenticateToken(token, ['vault']), /token audiences .* is invalid for the target audiences \["vault"\]/);
});

test('key files: public keys, private keys and certificates count; a file without keys is refused', async () => {
  const ca = await makeCA('sa-cert');
  const bundle = publicKeyToPem(rsa.publicKey) + privateKeyToPem(ec.privateKey) + ca.certificate.pem + '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
  const keys = parseServiceAccountPublicKeys(bundle, 'sa.pub');
  assert.equal(keys.length, 3);
  assert.equal(serviceAccountKeyId(keys[1]!), serviceAccountKeyId(createPublicKey(ec.privateKey)));
  assert.throws(() => parseServiceAccountPublicKeys('-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n', 'x.pem'), {
    message: 'x.pem: data does not contain any valid RSA or ECDSA public keys',
  });
});

test('TokenRequest: defaults to one hour and the API audiences, enforces 10 minutes minimum, binds to a Secret by uid', async () => {
  const { clock, signer, objects, auth } = setup();
  const base = { signer, lookup: objects, namespace: 'default', name: 'builder', apiAudiences: [ISSUER], now: clock.now() };
  const tr = await createTokenRequest({ ...base, request: { metadata: {} } });
  assert.equal(tr.spec?.expirationSeconds, 3600);
  assert.deepEqual(tr.spec?.audiences, [ISSUER]);
  assert.equal(tr.status?.expirationTimestamp, '2026-01-01T01:00:00Z');
  assert.ok(await auth.authenticateToken(tr.status!.token, undefined));

  await assert.rejects(createTokenRequest({ ...base, request: { metadata: {}, spec: { expirationSeconds: 60 } } }), (err: unknown) => {
    assert.ok(isApiError(err));
    assert.equal(err.status.code, 422);
    assert.equal(err.message, 'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes');
    return true;
  });
  await assert.rejects(createTokenRequest({ ...base, name: 'ghost', request: { metadata: {} } }), { message: 'serviceaccounts "ghost" not found' });
  await assert.rejects(createTokenRequest({ ...base, request: { metadata: { name: 'other' } } }), /must match the service account name if specified/);

  objects.secrets.set('default/s1', { metadata: { namespace: 'default', name: 's1', uid: 'sec-uid' } });
  const bound = await createTokenRequest({ ...base, request: { metadata: {}, spec: { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's1' } } } });
  assert.deepEqual((decodeJwt(bound.status!.token)['kubernetes.io'] as { secret: unknown }).secret, { name: 's1', uid: 'sec-uid' });
  await assert.rejects(
    createTokenRequest({ ...base, request: { metadata: {}, spec: { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 's1', uid: 'stale' } } } }),
    (err: unknown) => isApiError(err) && err.status.code === 409 && /The object might have been deleted and then recreated/.test(err.message),
  );
  await assert.rejects(
    createTokenRequest({ ...base, request: { metadata: {}, spec: { boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'c' } } } }),
    (err: unknown) => isApiError(err) && err.status.code === 400 && err.message === 'cannot bind token for serviceaccount "builder" to object of type /v1, Kind=ConfigMap',
  );
});
