import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { RbacAuthorizer } from '../../src/auth/authz/rbac.js';
import { policyCache } from './policy.js';
import { privilegedGroupsAuthorizer, unionAuthorizer } from '../../src/auth/authz/union.js';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview, tokenReview } from '../../src/auth/reviews.js';
import { bearerTokenAuthenticator } from '../../src/auth/authn/bearer-token.js';
import { unionAuthenticator } from '../../src/auth/authn/union.js';
import { tokenFileAuthenticator, parseTokenFile } from '../../src/auth/authn/tokenfile.js';
import { serviceAccountAuthenticator } from '../../src/auth/authn/serviceaccount.js';
import { ServiceAccountTokenSigner } from '../../src/auth/serviceaccount-token.js';
import { isApiError } from '../../src/apis/status.js';

const cache = policyCache();
const rbac = new RbacAuthorizer(cache);
const authorizer = unionAuthorizer([privilegedGroupsAuthorizer(), rbac]);

test('SubjectAccessReview answers for the user and groups in the spec, with the RBAC reason', async () => {
  const out = await subjectAccessReview(authorizer, {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    metadata: {},
    spec: {
      user: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers:kubeadm:default-node-token'],
      resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'nodeclient', verb: 'create' },
    },
  });
  assert.deepEqual(out.status, {
    allowed: true,
    reason:
      'RBAC: allowed by ClusterRoleBinding "kubeadm:node-autoapprove-bootstrap" of ClusterRole "system:certificates.k8s.io:certificatesigningrequests:nodeclient" to Group "system:bootstrappers:kubeadm:default-node-token"',
  });
  const no = await subjectAccessReview(authorizer, { metadata: {}, spec: { user: 'eve', nonResourceAttributes: { path: '/metrics', verb: 'get' } } });
  assert.deepEqual(no.status, { allowed: false });
});

test('SubjectAccessReview validation: exactly one kind of attributes, and a user or a group', async () => {
  const check = async (spec: object, msg: string) =>
    assert.rejects(subjectAccessReview(authorizer, { metadata: {}, spec }), (err: unknown) => {
      assert.ok(isApiError(err));
      assert.equal(err.status.code, 422);
      assert.equal(err.message, msg);
      return true;
    });
  await check({ user: 'u' }, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified');
  await check(
    { resourceAttributes: { verb: 'get', resource: 'pods' } },
    'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
  );
});

test('LocalSubjectAccessReview answers within its namespace and refuses another namespace or non-resource attributes', async () => {
  const review = (spec: object) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: 'kube-system' }, spec });
  const out = await localSubjectAccessReview(authorizer, review({ user: 'eve', resourceAttributes: { namespace: 'kube-system', verb: 'get', resource: 'secrets' } }));
  assert.deepEqual([out.kind, out.metadata.namespace, out.status], ['LocalSubjectAccessReview', 'kube-system', { allowed: false }]);
  const masters = await localSubjectAccessReview(authorizer, review({ user: 'root', groups: ['system:masters'], resourceAttributes: { namespace: 'kube-system', verb: 'get', resource: 'secrets' } }));
  assert.equal(masters.status?.allowed, true);
  const refused = async (spec: object, msg: string | RegExp) =>
    assert.rejects(localSubjectAccessReview(authorizer, review(spec)), (err: unknown) => {
      assert.ok(isApiError(err));
      assert.equal(err.status.code, 422);
      if (typeof msg === 'string') assert.equal(err.message, msg);
      else assert.match(err.message, msg);
      return true;
    });
  await refused(
    { user: 'eve', resourceAttributes: { verb: 'get', resource: 'secrets' } },
    'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: Invalid value: "": must match metadata.namespace',
  );
  await refused({ user: 'eve', nonResourceAttributes: { path: '/metrics', verb: 'get' } }, /^LocalSubjectAccessReview\.authorization\.k8s\.io "" is invalid: spec\.nonResourceAttributes: Invalid value: .*: disallowed on this kind of request$/);
});

test('SelfSubjectAccessReview answers for the caller', async () => {
  const out = await selfSubjectAccessReview(authorizer, { username: 'alice', groups: ['system:authenticated'] }, {
    metadata: {},
    spec: { resourceAttributes: { verb: 'list', resource: 'secrets', namespace: 'kube-system' } },
  });
  assert.equal(out.kind, 'SelfSubjectAccessReview');
  assert.deepEqual(out.status, { allowed: false });
  const root = await selfSubjectAccessReview(authorizer, { username: 'root', groups: ['system:masters'] }, { metadata: {}, spec: { resourceAttributes: { verb: '*', resource: '*', group: '*' } } });
  assert.equal(root.status?.allowed, true);
});

test('SelfSubjectRulesReview lists the caller\'s rules and needs a namespace', () => {
  const out = selfSubjectRulesReview([rbac], { username: 'alice', groups: ['system:authenticated'] }, { metadata: {}, spec: { namespace: 'default' } });
  assert.equal(out.kind, 'SelfSubjectRulesReview');
  assert.ok(out.status!.resourceRules.some((r) => r.resources.includes('selfsubjectrulesreviews')));
  assert.ok(out.status!.nonResourceRules.some((r) => r.nonResourceURLs.includes('/version')));
  assert.equal(out.status!.incomplete, false);
  assert.throws(() => selfSubjectRulesReview([rbac], { username: 'alice', groups: [] }, { metadata: {}, spec: {} }), { message: 'no namespace on request' });
});

test('TokenReview runs the token through the chain; errors go to status.error; audiences are checked', async () => {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const issuer = 'https://kubernetes.default.svc';
  const signer = new ServiceAccountTokenSigner({ privateKey: key.privateKey, issuer });
  const sa = { metadata: { namespace: 'ns', name: 'bot', uid: 'u1' } };
  const sas = serviceAccountAuthenticator({
    keys: [key.publicKey],
    issuers: [issuer],
    apiAudiences: [issuer],
    lookup: { getServiceAccount: () => sa, getSecret: () => null },
  });
  const chain = unionAuthenticator({
    authenticators: [bearerTokenAuthenticator({ tokenAuthenticators: [tokenFileAuthenticator(parseTokenFile('static,carol,9,g1', 't'), [issuer]), sas], apiAudiences: [issuer] })],
    anonymous: true,
  });
  const { token } = await signer.issueBoundToken({ serviceAccount: { namespace: 'ns', name: 'bot', uid: 'u1' }, audiences: [issuer, 'vault'], expirationSeconds: 3600, now: new Date(), jti: 'j' });

  const ok = await tokenReview({ authenticator: chain, apiAudiences: [issuer], review: { metadata: {}, spec: { token } } });
  assert.equal(ok.kind, 'TokenReview');
  assert.equal(ok.status?.authenticated, true);
  assert.deepEqual(ok.status?.user, {
    username: 'system:serviceaccount:ns:bot',
    uid: 'u1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/credential-id': ['JTI=j'] },
  });
  assert.deepEqual(ok.status?.audiences, [issuer]);

  const vault = await tokenReview({ authenticator: chain, apiAudiences: [issuer], review: { metadata: {}, spec: { token, audiences: ['vault'] } } });
  assert.deepEqual(vault.status?.audiences, ['vault']);
  const staticForVault = await tokenReview({ authenticator: chain, apiAudiences: [issuer], review: { metadata: {}, spec: { token: 'static', audiences: ['vault'] } } });
  assert.equal(staticForVault.status?.authenticated, undefined, 'audience-less tokens are not valid for other audiences');

  const bad = await tokenReview({ authenticator: chain, apiAudiences: [issuer], review: { metadata: {}, spec: { token: 'garbage' } } });
  assert.deepEqual(bad.status, { user: {}, error: 'invalid bearer token' });
  await assert.rejects(tokenReview({ authenticator: chain, apiAudiences: [issuer], review: { metadata: {}, spec: {} } }), { message: 'token is required for TokenReview in authentication' });
});
