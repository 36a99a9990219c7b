// A hostile API server as the node agent and the CLI see it: a small HTTPS server asking for client
// certificates (mutual TLS, real sockets) that answers with a huge body, an endless chunked body, a body
// trickled a byte at a time, HTML, invalid JSON, a redirect, a watch line that never ends, and CSRs whose
// status.certificate is garbage, for another key, for another name, or from another CA. Each ends in a bounded,
// clear error; the agent's files stay as they were and no certificate is written that does not match its key
// and request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { NodeAgent } from '../../src/agent/agent.js';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import { parseCertificateRequest, certificateRequestDerFromPem } from '../../src/x509/certificate-request.js';
import { KubepkiError } from '../../src/util/errors.js';
import { issueLeaf, makeCa, type TestCa } from '../helpers/pki.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/poll.js';
import { kubepki } from '../helpers/cli.js';

type Handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: string) => void;

interface Hostile {
  url: string;
  ca: TestCa;
  caPem: string;
}

let pkiPromise: Promise<{ ca: TestCa; otherCa: TestCa; serverCert: string; serverKey: string }> | undefined;
const pki = () =>
  (pkiPromise ??= (async () => {
    const ca = await makeCa({ cn: 'hostile-ca' });
    const otherCa = await makeCa({ cn: 'other-ca' });
    const server = await issueLeaf(ca, { cn: 'kube-apiserver', hosts: ['127.0.0.1'], usages: ['digital signature', 'server auth'] });
    return { ca, otherCa, serverCert: server.certificate.pem, serverKey: server.keyPem! };
  })());

/** An HTTPS server on 127.0.0.1 that asks for a client certificate and answers with `handler`. */
async function hostileServer(t: { after: (fn: () => Promise<void> | void) => void }, handler: Handler): Promise<Hostile> {
  const { ca, serverCert, serverKey } = await pki();
  const sockets = new Set<import('node:net').Socket>();
  const server = https.createServer({ cert: serverCert, key: serverKey, ca: ca.certificate.pem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(req, res, body));
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, ca, caPem: ca.certificate.pem };
}

/** Writes `size` bytes of JSON-looking data, in chunks, until the client goes away. */
function endless(res: import('node:http').ServerResponse, chunked: boolean): void {
  res.writeHead(200, chunked ? { 'content-type': 'application/json' } : { 'content-type': 'application/json', 'content-length': String(1024 ** 4) });
  const chunk = Buffer.alloc(1024 * 1024, 0x20);
  res.write('{"items":[');
  pump(res, chunk);
}

/** Writes `chunk` again and again while the client reads, one write per turn of the event loop. */
function pump(res: import('node:http').ServerResponse, chunk: Buffer): void {
  let gone = false;
  res.on('close', () => (gone = true));
  const next = (): void => {
    if (gone || res.socket === null || res.socket.destroyed) return;
    if (res.write(chunk)) setImmediate(next);
    else res.once('drain', next);
  };
  next();
}

/** A byte every 100 ms, for ever. */
function trickle(res: import('node:http').ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 100);
  res.on('close', () => clearInterval(timer));
}

/** Answers that break the transport or the encoding, whatever was asked. */
const BROKEN: Record<string, { handler: Handler; error: RegExp }> = {
  'a huge body (Content-Length 1 TiB)': { handler: (_q, res) => endless(res, false), error: /larger than 128 MiB/ },
  'an endless chunked body': { handler: (_q, res) => endless(res, true), error: /larger than 128 MiB/ },
  'a body trickled a byte at a time (slowloris)': { handler: (_q, res) => trickle(res), error: /no complete response from the API server within 1s|request timed out after 1000 ms/ },
  'HTML with Content-Type text/html': { handler: (_q, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>login</body></html>'), error: /200: the API server's answer is not a JSON object/ },
  'invalid JSON': { handler: (_q, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"kind": "CertificateSigningRequest", '), error: /not a JSON object/ },
  'JSON that is not an object': { handler: (_q, res) => res.writeHead(201, { 'content-type': 'application/json' }).end('null'), error: /not a JSON object/ },
  'a redirect elsewhere': { handler: (_q, res) => res.writeHead(302, { location: 'https://192.0.2.1/steal' }).end(), error: /302/ },
};

function bootstrapKubeconfig(h: Hostile, token = 'abcdef.0123456789abcdef'): string {
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${Buffer.from(h.caPem).toString('base64')}
    server: ${h.url}
  name: c
users:
- name: u
  user:
    token: ${token}
contexts:
- context:
    cluster: c
    user: u
  name: c
current-context: c
`;
}

/** Runs the agent's bootstrap against `h` until its health says the last error matches `error`; checks the disk. */
async function agentFails(t: { after: (fn: () => Promise<void> | void) => void }, h: Hostile, error: RegExp): Promise<void> {
  const dir = await tempDir(t);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeFile(bootstrap, bootstrapKubeconfig(h));
  const before = await readFile(bootstrap, 'utf8');
  const agent = new NodeAgent({
    kubeconfig: path.join(dir, 'kubelet.conf'),
    bootstrapKubeconfig: bootstrap,
    certDir: path.join(dir, 'pki'),
    nodeName: 'node-1',
    backoff: { initialMs: 50, capMs: 200 },
    pollIntervalMs: 50,
    requestTimeoutMs: 1000,
    healthzPort: 0,
  });
  t.after(() => agent.stop());
  // start() returns once there is a client certificate: here never; its health server is up before that.
  const started = agent.start().catch((err: unknown) => err);
  const health = await until(async () => {
    if (!agent.healthzPort) return undefined;
    const r = await fetch(`http://127.0.0.1:${agent.healthzPort}/healthz`);
    const text = await r.text();
    return r.status === 500 && error.test(text) ? text : undefined;
  }, `the agent's health reports ${error}`, { timeoutMs: 30_000, intervalMs: 50 });
  assert.equal(health.trim().split('\n').length, 1, health);
  await agent.stop();
  assert.equal(await started, undefined, 'start() ends quietly when stopped');
  // Nothing written but the cached bootstrap key: no pair, no kubeconfig, the bootstrap kubeconfig unchanged.
  assert.equal(existsSync(path.join(dir, 'kubelet.conf')), false, 'no kubeconfig written');
  const files = existsSync(path.join(dir, 'pki')) ? await readdir(path.join(dir, 'pki')) : [];
  assert.deepEqual(files.filter((f) => f !== 'kubelet-client.key.tmp'), [], `no certificate written: ${files.join(', ')}`);
  assert.equal(await readFile(bootstrap, 'utf8'), before);
}

for (const [what, { handler, error }] of Object.entries(BROKEN)) {
  test(`the agent facing ${what}: a bounded, clear error, nothing written`, async (t) => {
    const h = await hostileServer(t, handler);
    await agentFails(t, h, error);
  });
}

/**
 * A server that plays the CSR API well enough (create, get, list, watch) but issues `certificate(requestKey)`:
 * an Approved CSR whose status.certificate is hostile.
 */
function csrServer(issue: (request: ReturnType<typeof parseCertificateRequest>) => Promise<string>, watch?: Handler): Handler {
  let object: Record<string, unknown> | undefined;
  return (req, res, body) => {
    const json = (code: number, value: unknown) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    void (async () => {
      if (req.method === 'POST') {
        const posted = JSON.parse(body);
        const request = parseCertificateRequest(certificateRequestDerFromPem(Buffer.from(posted.spec.request, 'base64').toString('latin1')));
        const certificate = await issue(request);
        object = {
          ...posted,
          metadata: { ...posted.metadata, name: posted.metadata.name ?? 'csr-1', uid: 'uid-1', resourceVersion: '1', creationTimestamp: new Date().toISOString() },
          status: { conditions: [{ type: 'Approved', status: 'True', reason: 'Hostile', message: '' }], certificate: Buffer.from(certificate).toString('base64') },
        };
        return json(201, object);
      }
      if (!object) return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'not found' });
      if (/[?&]watch=(true|1)/.test(req.url ?? '')) {
        if (watch) return watch(req, res, body);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.write(`${JSON.stringify({ type: 'ADDED', object })}\n`);
      }
      if (/fieldSelector/.test(req.url ?? '')) return json(200, { kind: 'CertificateSigningRequestList', apiVersion: 'certificates.k8s.io/v1', metadata: { resourceVersion: '1' }, items: [object] });
      return json(200, object);
    })().catch((err: unknown) => json(500, { message: String(err) }));
  };
}

const requestKey = (request: ReturnType<typeof parseCertificateRequest>) => request.publicKey;

const BAD_CERTIFICATES: Record<string, { issue: (request: ReturnType<typeof parseCertificateRequest>) => Promise<string>; error: RegExp }> = {
  garbage: { issue: async () => '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n', error: /not usable: issued certificate: not a valid X.509 certificate/ },
  'not PEM at all': { issue: async () => 'hello', error: /not usable: .*no PEM data found/ },
  'a certificate for another key': { issue: async () => (await issueLeaf((await pki()).ca, { cn: 'system:node:node-1' })).certificate.pem, error: /not usable: the private key does not belong to the certificate/ },
  'a certificate for another name': {
    issue: async (r) => (await issueLeaf((await pki()).ca, { cn: 'system:node:node-2', publicKey: requestKey(r) })).certificate.pem,
    error: /not usable: it is not for what was requested: its CN system:node:node-2 is not the requested system:node:node-1/,
  },
  'a chain that does not verify (another CA)': {
    issue: async (r) => (await issueLeaf((await pki()).otherCa, { cn: 'system:node:node-1', publicKey: requestKey(r) })).certificate.pem,
    error: /not usable: .*(unknown authority|not signed by|does not chain)/,
  },
  'a certificate without client auth': {
    issue: async (r) => (await issueLeaf((await pki()).ca, { cn: 'system:node:node-1', publicKey: requestKey(r), usages: ['digital signature', 'server auth'] })).certificate.pem,
    error: /not usable: .*(usage|client auth)/i,
  },
};

for (const [what, { issue, error }] of Object.entries(BAD_CERTIFICATES)) {
  test(`the agent given ${what} as status.certificate: refused, nothing written`, async (t) => {
    const h = await hostileServer(t, csrServer(issue));
    await agentFails(t, h, error);
  });
}

test('the agent facing a watch line that never ends: cut at 16 MiB, nothing written', async (t) => {
  const h = await hostileServer(
    t,
    csrServer(
      async () => '',
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"type":"ADDED","object":{"metadata":{"name":"');
        pump(res, Buffer.alloc(1024 * 1024, 0x61));
      },
    ),
  );
  // The agent falls back to polling after a broken watch; the CSR has no certificate, so the wait goes on:
  // what matters is that the watch was cut (the server saw the client go away) and nothing was written.
  const client = new RestKubeClient({ cluster: { server: h.url, caPem: h.caPem }, user: { token: 'abcdef.0123456789abcdef' } });
  t.after(() => client.close());
  await client.resource(RESOURCES.certificateSigningRequests).create({ metadata: { name: 'x' }, spec: { request: Buffer.from((await pemRequest())).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['client auth'] } });
  const stream = client.watchPath('/apis/certificates.k8s.io/v1/certificatesigningrequests?watch=true', () => assert.fail('no event'));
  await assert.rejects(stream.done, (err: unknown) => err instanceof KubepkiError && /an event line longer than 16 MiB/.test(err.message));
});

async function pemRequest(): Promise<string> {
  const { createCertificateRequest } = await import('../../src/x509/csr.js');
  const { generateKeyPair } = await import('../../src/x509/keys.js');
  return (await createCertificateRequest({ subject: { commonName: 'system:node:node-1', organization: ['system:nodes'] }, keyPair: await generateKeyPair('ECDSA-P256') })).pem;
}

// The CLI (`kubepki token list`, through the minimal TLS client) facing the same broken answers.
for (const [what, { handler, error }] of Object.entries(BROKEN)) {
  if (/slowloris/.test(what)) continue; // the CLI's deadline is the default 5 min; the library test above covers it
  test(`kubepki token list facing ${what}: one clear line, exit 1`, async (t) => {
    const h = await hostileServer(t, handler);
    const dir = await tempDir(t);
    const conf = path.join(dir, 'admin.conf');
    await writeFile(conf, bootstrapKubeconfig(h));
    const r = await kubepki(['token', 'list', '--kubeconfig', conf], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /redirect/.test(what) ? /302/ : error);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}
