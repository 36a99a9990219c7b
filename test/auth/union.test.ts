import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, bearerTokenAuthenticator, type TokenAuthenticator } from '../../src/auth/authn/bearer-token.js';
import { unionAuthenticator } from '../../src/auth/authn/union.js';
import { AggregateAuthenticationError, AuthenticationError, authenticationFailureLogLine, formatAggregate } from '../../src/auth/authn/errors.js';
import type { Authenticator } from '../../src/auth/types.js';

const fixed = (name: string, outcome: 'null' | 'error' | string, message = `${name} failed`): Authenticator => ({
  name,
  async authenticate() {
    if (outcome === 'null') return null;
    if (outcome === 'error') throw new AuthenticationError(message);
    return { user: { username: outcome, groups: ['g'] } };
  },
});

const tokenAuth = (name: string, table: Record<string, string | Error>): TokenAuthenticator => ({
  name,
  async authenticateToken(token) {
    const v = table[token];
    if (v === undefined) return null;
    if (v instanceof Error) throw v;
    return { user: { username: v, groups: [] } };
  },
});

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization }, peerCertificates: [] });

test('Bearer parsing follows kube: scheme case-insensitive, trimmed, second part is the token, empty is absent', () => {
  assert.equal(bearerToken({ authorization: 'Bearer abc' }), 'abc');
  assert.equal(bearerToken({ authorization: '  bEaReR abc  ' }), 'abc');
  assert.equal(bearerToken({ authorization: 'Bearer abc def' }), 'abc');
  assert.equal(bearerToken({ authorization: 'Bearer  abc' }), undefined, 'a double space leaves the token part empty');
  assert.equal(bearerToken({ authorization: 'Bearer' }), undefined);
  assert.equal(bearerToken({ authorization: 'Basic YWxhZGRpbjpvcGVuc2VzYW1l' }), undefined);
  assert.equal(bearerToken({}), undefined);
});

test('the first authenticator that succeeds wins, later ones are not asked, and system:authenticated is added', async () => {
  let asked = false;
  const late: Authenticator = {
    name: 'late',
    async authenticate() {
      asked = true;
      return null;
    },
  };
  const u = unionAuthenticator({ authenticators: [fixed('a', 'error'), fixed('b', 'bob'), late], anonymous: false });
  assert.deepEqual(await u.authenticate(req()), { user: { username: 'bob', groups: ['g', 'system:authenticated'] } });
  assert.equal(asked, false);
});

test('errors are collected into one aggregate message in order, and a success after errors still wins', async () => {
  const failing = unionAuthenticator({ authenticators: [fixed('rh', 'error', 'x509: subject with cn=kube-front-client is not in the allowed list'), fixed('x509', 'error', 'x509: certificate signed by unknown authority')], anonymous: true });
  await assert.rejects(failing.authenticate(req()), (err: unknown) => {
    assert.ok(err instanceof AggregateAuthenticationError);
    assert.equal(
      authenticationFailureLogLine(err),
      'Unable to authenticate the request due to an error: [x509: subject with cn=kube-front-client is not in the allowed list, x509: certificate signed by unknown authority]',
    );
    return true;
  });
  const single = unionAuthenticator({ authenticators: [fixed('x509', 'error', 'x509: certificate signed by unknown authority')], anonymous: false });
  await assert.rejects(single.authenticate(req()), { message: 'x509: certificate signed by unknown authority' });
});

test('anonymous only when nothing applied and nothing erred; a bad credential is never anonymous', async () => {
  const none = unionAuthenticator({ authenticators: [fixed('a', 'null')], anonymous: true });
  assert.deepEqual(await none.authenticate(req()), { user: { username: 'system:anonymous', groups: ['system:unauthenticated'] } });
  const off = unionAuthenticator({ authenticators: [fixed('a', 'null')], anonymous: false });
  assert.equal(await off.authenticate(req()), null);
  const bad = unionAuthenticator({ authenticators: [fixed('a', 'error')], anonymous: true });
  await assert.rejects(bad.authenticate(req()));
});

test('an unknown bearer token is "invalid bearer token"; token authenticators are tried in order', async () => {
  const bearer = bearerTokenAuthenticator({
    tokenAuthenticators: [tokenAuth('file', { t1: 'file-user' }), tokenAuth('sa', { t1: 'sa-user', t2: 'sa-user' })],
    apiAudiences: [],
  });
  assert.equal((await bearer.authenticate(req('Bearer t1')))?.user.username, 'file-user');
  assert.equal((await bearer.authenticate(req('Bearer t2')))?.user.username, 'sa-user');
  await assert.rejects(bearer.authenticate(req('Bearer nope')), { message: 'invalid bearer token' });
  assert.equal(await bearer.authenticate(req('Basic x')), null);
});

test('token authenticator errors are aggregated and never echo the token', async () => {
  const secret = 'eyJhbGciOiJSUzI1NiJ9.super.secret';
  const bearer = bearerTokenAuthenticator({
    tokenAuthenticators: [tokenAuth('sa', { [secret]: new AuthenticationError('service account token has expired') })],
    apiAudiences: [],
  });
  const u = unionAuthenticator({ authenticators: [fixed('x509', 'null'), bearer], anonymous: true });
  await assert.rejects(u.authenticate(req(`Bearer ${secret}`)), (err: unknown) => {
    assert.equal((err as Error).message, 'service account token has expired');
    assert.doesNotMatch(authenticationFailureLogLine(err as Error), /super\.secret/);
    return true;
  });
});

test('aggregates flatten nested aggregates and drop duplicate messages, as Go\'s does', () => {
  const e = (m: string) => new Error(m);
  assert.equal(formatAggregate([e('a')]), 'a');
  assert.equal(formatAggregate([e('a'), e('a')]), 'a');
  assert.equal(formatAggregate([e('a'), new AggregateAuthenticationError([e('b'), e('a'), e('c')])]), '[a, b, c]');
  assert.equal(formatAggregate([]), '');
});

test('users already in system:authenticated or system:unauthenticated are not given the group twice', async () => {
  const mk = (groups: string[]): Authenticator => ({ name: 'x', authenticate: async () => ({ user: { username: 'u', groups } }) });
  assert.deepEqual((await unionAuthenticator({ authenticators: [mk(['system:authenticated'])], anonymous: false }).authenticate(req()))?.user.groups, ['system:authenticated']);
  assert.deepEqual((await unionAuthenticator({ authenticators: [mk(['system:unauthenticated'])], anonymous: false }).authenticate(req()))?.user.groups, ['system:unauthenticated']);
});
