import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestHeaderAuthenticator, unescapeExtraKey } from '../../src/auth/authn/requestheader.js';
import { makeCA, makeClientCert } from './pki.js';

const frontProxyCA = await makeCA('front-proxy-ca');
const clientCA = await makeCA('kubernetes');
const proxy = await makeClientCert(frontProxyCA, 'front-proxy-client');
const wrongCN = await makeClientCert(frontProxyCA, 'kube-front-client');
const plainClient = await makeClientCert(clientCA, 'alice', { organization: ['dev'] });
const allowedNameWrongCA = await makeClientCert(clientCA, 'front-proxy-client');
const serverOnly = await makeClientCert(frontProxyCA, 'front-proxy-client', { usages: ['digital signature', 'server auth'] });

const headers = {
  'x-remote-user': ['bob'],
  'x-remote-group': ['system:masters', 'ops'],
  'x-remote-extra-scopes': ['a', 'b'],
  'x-remote-extra-acme.com%2fproject': ['p1'],
};

const auth = requestHeaderAuthenticator({ clientCA: [frontProxyCA.certificate], allowedNames: ['front-proxy-client'] });

test('a proxy certificate from the request-header CA with an allowed CN asserts the user, groups and extra from headers', async () => {
  const res = await auth.authenticate({ headers, peerCertificates: [proxy.certificate.der] });
  assert.deepEqual(res, {
    user: { username: 'bob', groups: ['system:masters', 'ops'], extra: { scopes: ['a', 'b'], 'acme.com/project': ['p1'] } },
  });
});

test('headers sent with a plain client certificate from the client CA are never trusted', async () => {
  await assert.rejects(auth.authenticate({ headers, peerCertificates: [plainClient.certificate.der] }), {
    message: 'x509: certificate signed by unknown authority',
  });
});

test('a certificate with an allowed CN but from the wrong CA is refused', async () => {
  await assert.rejects(auth.authenticate({ headers, peerCertificates: [allowedNameWrongCA.certificate.der] }), {
    message: 'x509: certificate signed by unknown authority',
  });
});

test('a request-header CA certificate whose CN is not in the allowed list is refused with kube\'s message', async () => {
  await assert.rejects(auth.authenticate({ headers, peerCertificates: [wrongCN.certificate.der] }), {
    message: 'x509: subject with cn=kube-front-client is not in the allowed list',
  });
});

test('an empty allowed list accepts any CN from the request-header CA', async () => {
  const open = requestHeaderAuthenticator({ clientCA: [frontProxyCA.certificate], allowedNames: [] });
  const res = await open.authenticate({ headers, peerCertificates: [wrongCN.certificate.der] });
  assert.equal(res?.user.username, 'bob');
});

test('a proxy certificate without the client-auth usage is refused', async () => {
  await assert.rejects(auth.authenticate({ headers, peerCertificates: [serverOnly.certificate.der] }), {
    message: 'x509: certificate specifies an incompatible key usage',
  });
});

test('no client certificate, or a trusted proxy naming no user, is not applicable (no error)', async () => {
  assert.equal(await auth.authenticate({ headers, peerCertificates: [] }), null);
  assert.equal(await auth.authenticate({ headers: { 'x-remote-group': ['g'] }, peerCertificates: [proxy.certificate.der] }), null);
  assert.equal(await auth.authenticate({ headers: { 'x-remote-user': [''] }, peerCertificates: [proxy.certificate.der] }), null);
});

test('custom header names and several username headers are read in order', async () => {
  const custom = requestHeaderAuthenticator({
    clientCA: [frontProxyCA.certificate],
    allowedNames: [],
    usernameHeaders: ['X-User', 'X-Remote-User'],
    groupHeaders: ['X-Groups'],
    extraHeaderPrefixes: ['X-Extra-'],
  });
  const res = await custom.authenticate({
    headers: { 'x-remote-user': 'second', 'x-user': 'first', 'x-groups': ['g1'], 'x-remote-group': ['ignored'], 'x-extra-k': 'v' },
    peerCertificates: [proxy.certificate.der],
  });
  assert.deepEqual(res?.user, { username: 'first', groups: ['g1'], extra: { k: ['v'] } });
});

test('extra keys are %-unescaped and left as sent when malformed', () => {
  assert.equal(unescapeExtraKey('example.org%2fkey'), 'example.org/key');
  assert.equal(unescapeExtraKey('bad%zzkey'), 'bad%zzkey');
});

test('a garbage client certificate is an error, not an identity', async () => {
  await assert.rejects(auth.authenticate({ headers, peerCertificates: [new Uint8Array([1, 2, 3])] }), /x509: malformed certificate/);
});
