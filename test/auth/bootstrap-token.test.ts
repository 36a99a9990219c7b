import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapTokenAuthenticator } from '../../src/auth/authn/bootstrap-token.js';
import {
  bootstrapTokenFromSecret,
  bootstrapTokenToSecret,
  generateBootstrapToken,
  parseBootstrapToken,
  validateUsages,
  validateBootstrapGroupName,
} from '../../src/auth/bootstrap-token-secret.js';
import { FakeClock } from '../../src/util/clock.js';
import type { Secret } from '../../src/apis/objects.js';

const TOKEN = 'abcdef.0123456789abcdef';
const clock = new FakeClock(new Date('2026-01-01T00:00:00Z'));

function secretFor(spec: Partial<Parameters<typeof bootstrapTokenToSecret>[0]> = {}): Secret {
  return bootstrapTokenToSecret(
    { token: TOKEN, usages: ['signing', 'authentication'], groups: ['system:bootstrappers:kubeadm:default-node-token'], ttlMs: 3_600_000, ...spec },
    clock.now(),
  );
}

function authWith(secret: Secret | null, c = clock) {
  const store = new Map<string, Secret>();
  if (secret) store.set(`${secret.metadata.namespace}/${secret.metadata.name}`, secret);
  return bootstrapTokenAuthenticator({ getSecret: (ns, name) => store.get(`${ns}/${name}`) ?? null, apiAudiences: [], clock: c });
}

const withData = (s: Secret, key: string, value: string | undefined): Secret => {
  const copy = structuredClone(s);
  if (value === undefined) delete copy.data![key];
  else copy.data![key] = Buffer.from(value).toString('base64');
  return copy;
};

test('a valid bootstrap token authenticates as system:bootstrap:<id> with system:bootstrappers and its extra groups', async () => {
  const res = await authWith(secretFor()).authenticateToken(TOKEN, undefined);
  assert.deepEqual(res, {
    user: { username: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'] },
  });
});

test('the Secret kubeadm writes has kubeadm\'s name, type and data', () => {
  const s = secretFor({ description: 'for node-1' });
  assert.equal(s.metadata.name, 'bootstrap-token-abcdef');
  assert.equal(s.metadata.namespace, 'kube-system');
  assert.equal(s.type, 'bootstrap.kubernetes.io/token');
  const data = Object.fromEntries(Object.entries(s.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  assert.deepEqual(data, {
    'token-id': 'abcdef',
    'token-secret': '0123456789abcdef',
    description: 'for node-1',
    expiration: '2026-01-01T01:00:00Z',
    'usage-bootstrap-signing': 'true',
    'usage-bootstrap-authentication': 'true',
    'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
  });
  assert.deepEqual(bootstrapTokenFromSecret(s), {
    token: TOKEN,
    description: 'for node-1',
    expires: new Date('2026-01-01T01:00:00Z'),
    usages: ['authentication', 'signing'],
    groups: ['system:bootstrappers:kubeadm:default-node-token'],
  });
});

test('a wrong secret, a deleted Secret, or no Secret at all is not applicable', async () => {
  assert.equal(await authWith(secretFor()).authenticateToken('abcdef.0123456789abcdeX', undefined), null);
  assert.equal(await authWith(null).authenticateToken(TOKEN, undefined), null);
  const deleting = secretFor();
  deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(await authWith(deleting).authenticateToken(TOKEN, undefined), null);
});

test('an expired token fails, a token without expiration never expires, an unparseable expiration counts as expired', async () => {
  const later = new FakeClock(new Date('2026-01-01T01:00:00Z'));
  assert.equal(await authWith(secretFor(), later).authenticateToken(TOKEN, undefined), null, 'expired exactly at expiration');
  const justBefore = new FakeClock(new Date('2026-01-01T00:59:59Z'));
  assert.ok(await authWith(secretFor(), justBefore).authenticateToken(TOKEN, undefined));
  const forever = secretFor({ ttlMs: 0 });
  assert.ok(await authWith(forever, new FakeClock(new Date('2099-01-01T00:00:00Z'))).authenticateToken(TOKEN, undefined));
  assert.equal(await authWith(withData(secretFor(), 'expiration', 'tomorrow')).authenticateToken(TOKEN, undefined), null);
});

test('a token not marked usage-bootstrap-authentication=true cannot authenticate', async () => {
  assert.equal(await authWith(secretFor({ usages: ['signing'] })).authenticateToken(TOKEN, undefined), null);
  assert.equal(await authWith(withData(secretFor(), 'usage-bootstrap-authentication', 'yes')).authenticateToken(TOKEN, undefined), null);
});

test('a Secret of another type, with a mismatched token-id, or with an invalid extra group is refused', async () => {
  const opaque = secretFor();
  opaque.type = 'Opaque';
  assert.equal(await authWith(opaque).authenticateToken(TOKEN, undefined), null);
  assert.equal(await authWith(withData(secretFor(), 'token-id', 'zzzzzz')).authenticateToken(TOKEN, undefined), null);
  assert.equal(await authWith(withData(secretFor(), 'auth-extra-groups', 'system:masters')).authenticateToken(TOKEN, undefined), null);
});

test('strings that are not bootstrap tokens are never looked up', async () => {
  let lookups = 0;
  const a = bootstrapTokenAuthenticator({
    getSecret: () => {
      lookups++;
      return null;
    },
    apiAudiences: [],
  });
  for (const t of ['abcdef', 'ABCDEF.0123456789abcdef', 'abcdef.0123456789abcde', 'abcdef:0123456789abcdef', 'eyJhbGciOi.x.y']) {
    assert.equal(await a.authenticateToken(t, undefined), null);
  }
  assert.equal(lookups, 0);
});

test('token format, generation, usages and group validation follow kubeadm', () => {
  for (let i = 0; i < 50; i++) assert.match(generateBootstrapToken(), /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  assert.deepEqual(parseBootstrapToken(TOKEN), { id: 'abcdef', secret: '0123456789abcdef' });
  assert.throws(() => validateUsages(['signing', 'bogus', 'authentication', 'alsobad']), {
    message: 'invalid bootstrap token usage string: alsobad,bogus, valid usage options: signing,authentication',
  });
  assert.throws(() => validateBootstrapGroupName('system:masters'), { message: /bootstrap group "system:masters" is invalid \(must match/ });
  validateBootstrapGroupName('system:bootstrappers:worker-pool:a1');
  assert.throws(() => bootstrapTokenToSecret({ token: 'short.token', usages: [], groups: [] }, clock.now()), /was not of the form/);
});
