// The minimal HTTP/1.1 client over TLS (src/client/tls-http.ts, what `kubepki token` uses through
// RestKubeClientOptions.minimalHttp) against Node's own HTTPS server asking for client certificates: the server's
// certificate is checked against the kubeconfig's CA and the server's name as node:https checks it (an IP address
// against its IP SANs, with no SNI; a DNS name against its DNS SANs, sent as SNI; tls-server-name instead when
// given), the client certificate is presented, and a failed check rejects the request with TLS's own error.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tlsHttpClient } from '../../src/client/tls-http.js';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';

interface Seen {
  method: string;
  url: string;
  host: string | undefined;
  authorization: string | undefined;
  userAgent: string | undefined;
  sni: string | false | null;
  clientCN: string | string[] | undefined;
  body: string;
}

async function pki(serverHosts: string[]) {
  const ca = await makeCa({ cn: 'tls-http-ca' });
  const server = await issueLeaf(ca, { cn: 'kube-apiserver', hosts: serverHosts, usages: ['digital signature', 'server auth'] });
  const client = await issueLeaf(ca, { cn: 'kubernetes-admin', orgs: ['kubeadm:cluster-admins'] });
  return { ca, server, client };
}

/**
 * An HTTPS server on 127.0.0.1 that wants a client certificate of `ca` and answers each request with what it saw.
 * It sends `ca` after its certificate (OpenSSL builds the chain from the server's trust store).
 */
async function server(t: TestContext, ca: TestCa, leaf: { certificate: { pem: string }; keyPem: string | null }): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const s = https.createServer({ cert: leaf.certificate.pem, key: leaf.keyPem!, ca: ca.certificate.pem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const socket = req.socket as TLSSocket;
      seen.push({
        method: req.method!,
        url: req.url!,
        host: req.headers.host,
        authorization: req.headers.authorization,
        userAgent: req.headers['user-agent'],
        sni: socket.servername,
        clientCN: socket.getPeerCertificate().subject?.CN,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const out = JSON.stringify({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 'x', namespace: 'kube-system' } });
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { port: (s.address() as { port: number }).port, seen };
}

test('over TLS: the server is verified by the CA and its IP SAN (no SNI for an IP), the client certificate is presented', async (t) => {
  const { ca, server: leaf, client } = await pki(['127.0.0.1']);
  const { port, seen } = await server(t, ca, leaf);
  const http = tlsHttpClient({ base: new URL(`https://127.0.0.1:${port}`), tls: { ca: ca.certificate.pem, cert: client.certificate.pem, key: client.keyPem! }, headers: { 'user-agent': 'test' } });
  t.after(() => http.close());
  const r = await http.request('GET', '/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dx', undefined, { authorization: 'Bearer t' });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).kind, 'Secret');
  assert.deepEqual(seen[0], {
    method: 'GET',
    url: '/api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dx',
    host: `127.0.0.1:${port}`,
    authorization: 'Bearer t',
    userAgent: 'test',
    sni: false,
    clientCN: 'kubernetes-admin',
    body: '',
  });
});

test('over TLS: a DNS name is sent as SNI and checked against the certificate; tls-server-name replaces it', async (t) => {
  const { ca, server: leaf, client } = await pki(['localhost', 'kubernetes.default.svc']);
  const { port, seen } = await server(t, ca, leaf);
  const tls = { ca: ca.certificate.pem, cert: client.certificate.pem, key: client.keyPem! };
  const byName = tlsHttpClient({ base: new URL(`https://localhost:${port}`), tls, headers: {} });
  t.after(() => byName.close());
  assert.equal((await byName.request('GET', '/version')).status, 200);
  assert.equal(seen[0]!.sni, 'localhost');
  assert.equal(seen[0]!.host, `localhost:${port}`);
  // The certificate has no IP SAN: by address alone the check fails, with tls-server-name it passes.
  const byIp = tlsHttpClient({ base: new URL(`https://127.0.0.1:${port}`), tls, headers: {} });
  t.after(() => byIp.close());
  await assert.rejects(byIp.request('GET', '/version'), (err: NodeJS.ErrnoException) => err.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  const named = tlsHttpClient({ base: new URL(`https://127.0.0.1:${port}`), tls: { ...tls, servername: 'kubernetes.default.svc' }, headers: {} });
  t.after(() => named.close());
  assert.equal((await named.request('GET', '/version')).status, 200);
  assert.equal(seen.at(-1)!.sni, 'kubernetes.default.svc');
});

test('over TLS: a server certificate of another CA is refused unless insecure-skip-tls-verify', async (t) => {
  const { ca, server: leaf, client } = await pki(['127.0.0.1']);
  const other = await makeCa({ cn: 'other-ca' });
  const { port, seen } = await server(t, ca, leaf);
  const base = new URL(`https://127.0.0.1:${port}`);
  const wrongCa = tlsHttpClient({ base, tls: { ca: other.certificate.pem, cert: client.certificate.pem, key: client.keyPem! }, headers: {} });
  t.after(() => wrongCa.close());
  await assert.rejects(wrongCa.request('GET', '/version'), (err: NodeJS.ErrnoException) => err.code === 'SELF_SIGNED_CERT_IN_CHAIN');
  assert.equal(seen.length, 0);
  const insecure = tlsHttpClient({ base, tls: { ca: other.certificate.pem, cert: client.certificate.pem, key: client.keyPem!, rejectUnauthorized: false }, headers: {} });
  t.after(() => insecure.close());
  assert.equal((await insecure.request('GET', '/version')).status, 200);
});

test('RestKubeClient with minimalHttp: creates and lists through the TLS client, with the kubeconfig\'s credentials', async (t) => {
  const { ca, server: leaf, client } = await pki(['127.0.0.1']);
  const { port, seen } = await server(t, ca, leaf);
  const rest = new RestKubeClient(
    { cluster: { server: `https://127.0.0.1:${port}`, caPem: ca.certificate.pem }, user: { certPem: client.certificate.pem, keyPem: client.keyPem! } },
    { userAgent: 'kubepki-token', minimalHttp: true },
  );
  t.after(() => rest.close());
  const secrets = rest.resource(RESOURCES.secrets);
  await secrets.create({ metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token' });
  await secrets.list({ namespace: 'kube-system' });
  assert.deepEqual(
    seen.map((s) => [s.method, s.url, s.clientCN, s.userAgent]),
    [
      ['POST', '/api/v1/namespaces/kube-system/secrets', 'kubernetes-admin', 'kubepki-token'],
      ['GET', '/api/v1/namespaces/kube-system/secrets', 'kubernetes-admin', 'kubepki-token'],
    ],
  );
  assert.deepEqual(JSON.parse(seen[0]!.body), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token' });
});
