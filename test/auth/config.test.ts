import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, chmod } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { buildAuthenticator, buildAuthorizer, validateAuthConfig } from '../../src/auth/config.js';
import { RbacCache } from '../../src/auth/authz/rbac-cache.js';
import { bootstrapTokenToSecret } from '../../src/auth/bootstrap-token-secret.js';
import { privateKeyToPem, publicKeyToPem } from '../../src/x509/index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCA, makeClientCert } from './pki.js';

const clientCA = await makeCA('kubernetes');
const frontProxyCA = await makeCA('front-proxy-ca');
const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherSa = generateKeyPairSync('rsa', { modulusLength: 2048 });

async function files(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t);
  const f = (name: string) => path.join(dir, name);
  await writeFile(f('ca.crt'), clientCA.certificate.pem);
  await writeFile(f('front-proxy-ca.crt'), frontProxyCA.certificate.pem);
  await writeFile(f('bundle.crt'), clientCA.certificate.pem + frontProxyCA.certificate.pem);
  await writeFile(f('sa.key'), privateKeyToPem(sa.privateKey));
  await writeFile(f('sa.pub'), publicKeyToPem(sa.publicKey));
  await writeFile(f('other.pub'), publicKeyToPem(otherSa.publicKey));
  await writeFile(f('tokens.csv'), 'tok1,alice,1,"dev,ops"\n');
  await writeFile(f('bad-tokens.csv'), 'tok1,alice,1\ntok2,bob\n');
  return f;
}

test('a request-header CA equal to the client CA with no allowed names is refused with an explanation', async (t) => {
  const f = await files(t);
  await assert.rejects(validateAuthConfig({ clientCAFile: f('ca.crt'), requestHeaderClientCAFile: f('ca.crt') }), {
    message: /--requestheader-client-ca-file and --client-ca-file both trust the CA "CN=kubernetes" and --requestheader-allowed-names is empty: every client certificate from that CA could then send X-Remote-User/,
  });
  await assert.rejects(validateAuthConfig({ clientCAFile: f('bundle.crt'), requestHeaderClientCAFile: f('front-proxy-ca.crt') }), /both trust the CA "CN=front-proxy-ca"/);
  const ok = await validateAuthConfig({ clientCAFile: f('ca.crt'), requestHeaderClientCAFile: f('ca.crt'), requestHeaderAllowedNames: ['front-proxy-client'] });
  assert.deepEqual(ok.requestHeader?.allowedNames, ['front-proxy-client']);
  assert.deepEqual(ok.requestHeader?.usernameHeaders, ['X-Remote-User']);
});

test('an unreadable or non-CA --client-ca-file is refused', async (t) => {
  const f = await files(t);
  await assert.rejects(validateAuthConfig({ clientCAFile: f('missing.crt') }), { message: `--client-ca-file: cannot read '${f('missing.crt')}': no such file` });
  await assert.rejects(validateAuthConfig({ clientCAFile: f('tokens.csv') }), /--client-ca-file: .* is not a PEM certificate bundle/);
  const leaf = await makeClientCert(clientCA, 'alice');
  await writeFile(f('leaf.crt'), leaf.certificate.pem);
  await assert.rejects(validateAuthConfig({ clientCAFile: f('leaf.crt') }), /holds "CN=alice", which is not a CA certificate/);
  if (process.getuid?.() !== 0) {
    await chmod(f('ca.crt'), 0o000);
    await assert.rejects(validateAuthConfig({ clientCAFile: f('ca.crt') }), /permission denied/);
  }
});

test('a token file with malformed lines is refused naming the line', async (t) => {
  const f = await files(t);
  await assert.rejects(validateAuthConfig({ tokenAuthFile: f('bad-tokens.csv') }), { message: /line 2: must have at least 3 columns/ });
});

test('service-account settings: signing needs an issuer and a verification key that matches', async (t) => {
  const f = await files(t);
  await assert.rejects(validateAuthConfig({ serviceAccountSigningKeyFile: f('sa.key'), serviceAccountKeyFiles: [f('sa.pub')] }), /--service-account-issuer: required/);
  await assert.rejects(validateAuthConfig({ serviceAccountSigningKeyFile: f('sa.key'), serviceAccountIssuers: ['https://k'] }), /--service-account-key-file: required/);
  await assert.rejects(
    validateAuthConfig({ serviceAccountSigningKeyFile: f('sa.key'), serviceAccountIssuers: ['https://k'], serviceAccountKeyFiles: [f('other.pub')] }),
    /none of the keys .* matches --service-account-signing-key-file/,
  );
  await assert.rejects(validateAuthConfig({ serviceAccountKeyFiles: [f('tokens.csv')], serviceAccountIssuers: ['https://k'] }), /--service-account-key-file: .*no PEM data/);
  const ok = await validateAuthConfig({ serviceAccountSigningKeyFile: f('sa.key'), serviceAccountIssuers: ['https://k'], serviceAccountKeyFiles: [f('other.pub'), f('sa.pub')] });
  assert.equal(ok.serviceAccount?.keys.length, 2);
  assert.deepEqual(ok.apiAudiences, ['https://k'], '--api-audiences defaults to the issuer');
  assert.equal(ok.serviceAccount?.signer?.issuer, 'https://k');
});

test('authorization modes: RBAC by default, unknown modes refused', async () => {
  assert.deepEqual((await validateAuthConfig({})).authorizationModes, ['RBAC']);
  await assert.rejects(validateAuthConfig({ authorizationModes: ['Webhook', 'RBAC'] }), /authorization mode "Webhook" is not supported/);
  assert.deepEqual((await validateAuthConfig({ authorizationModes: ['Node', 'RBAC'] })).authorizationModes, ['Node', 'RBAC']);
});

test('the built chain authenticates token-file and bootstrap tokens, and is anonymous only when allowed', async (t) => {
  const f = await files(t);
  const config = await validateAuthConfig({
    tokenAuthFile: f('tokens.csv'),
    enableBootstrapTokenAuth: true,
    anonymousAuth: false,
    serviceAccountKeyFiles: [f('sa.pub')],
    serviceAccountIssuers: ['https://k'],
  });
  const secret = bootstrapTokenToSecret({ token: 'abcdef.0123456789abcdef', usages: ['authentication'], groups: [] }, new Date());
  const chain = buildAuthenticator({
    config,
    lookup: { getSecret: (ns, n) => (ns === 'kube-system' && n === 'bootstrap-token-abcdef' ? secret : null), getServiceAccount: () => null },
  });
  const req = (auth?: string) => ({ headers: auth ? { authorization: auth } : {}, peerCertificates: [] });
  assert.deepEqual((await chain.authenticate(req('Bearer tok1')))?.user, { username: 'alice', uid: '1', groups: ['dev', 'ops', 'system:authenticated'] });
  assert.deepEqual((await chain.authenticate(req('Bearer abcdef.0123456789abcdef')))?.user, {
    username: 'system:bootstrap:abcdef',
    groups: ['system:bootstrappers', 'system:authenticated'],
  });
  assert.equal(await chain.authenticate(req()), null);
  await assert.rejects(chain.authenticate(req('Bearer nope')), { message: 'invalid bearer token' });
  const anon = buildAuthenticator({ config: { ...config, anonymousAuth: true }, lookup: { getSecret: () => null, getServiceAccount: () => null } });
  assert.equal((await anon.authenticate(req()))?.user.username, 'system:anonymous');

  const { authorizer, rbac } = buildAuthorizer(config, new RbacCache());
  assert.ok(rbac);
  const attrs = { verb: 'get', resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: '/x' };
  assert.equal((await authorizer.authorize({ ...attrs, user: { username: 'u', groups: ['system:masters'] } })).decision, 'allow');
  assert.equal((await authorizer.authorize({ ...attrs, user: { username: 'u', groups: [] } })).decision, 'noOpinion');
});
