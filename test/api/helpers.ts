// Test fixtures for the API server: a PKI made by the real openssl (CA, apiserver serving certificate with
// the 127.0.0.1 SAN, client certificates), an in-process server on a free loopback port, an HTTPS client
// with client certificates and keep-alive, and kubeconfigs for the real kubectl.
import https from 'node:https';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../helpers/cli.js';
import { startCli } from '../helpers/process.js';
import type { ChildProcess } from 'node:child_process';
import { opensslCa, opensslCsr as makeOpensslCsr, opensslLeaf } from '../helpers/openssl.js';
import { MemoryStorage } from '../../src/storage/memory.js';
import type { Storage } from '../../src/storage/interface.js';
import { ApiServer, type ApiServerOptions } from '../../src/server/server.js';
import { x509Authenticator } from '../../src/auth/authn/x509.js';
import { unionAuthenticator } from '../../src/auth/authn/union.js';
import { alwaysAllowMasters } from '../../src/auth/authz/minimal.js';
import { parseCertificatesPem } from '../../src/x509/certificate.js';
import { onLines } from '../helpers/json-lines.js';

export interface Identity {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  caFile: string;
  caKeyFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  admin: Identity;
  alice: Identity;
}

/** Issues a client or server certificate signed by the test CA. */
export async function issueCert(
  dir: string,
  name: string,
  options: { subject: string; ext: string; days?: number; ca?: { cert: string; key: string }; startDate?: string },
): Promise<Identity> {
  const ca = options.ca ?? { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
  const { certFile, keyFile } = await opensslLeaf(dir, name, { subject: options.subject, ext: options.ext, ca, days: options.days ?? 365 });
  return { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8'), certFile, keyFile };
}

export const CLIENT_EXT = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';

/** A CA, an apiserver serving certificate for 127.0.0.1/localhost, an admin (system:masters) and alice (devs). */
export async function makeTestPki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  const { certFile: caFile, keyFile: caKeyFile } = await opensslCa(dir, 'ca', { subject: '/CN=kubernetes', days: 365, keyUsage: 'critical,keyCertSign,cRLSign,digitalSignature' });
  const server = await issueCert(dir, 'apiserver', {
    subject: '/CN=kube-apiserver',
    ext: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  });
  const admin = await issueCert(dir, 'admin', { subject: '/O=system:masters/CN=kubernetes-admin', ext: CLIENT_EXT });
  const alice = await issueCert(dir, 'alice', { subject: '/O=devs/O=qa/CN=alice', ext: CLIENT_EXT });
  return { dir, caFile, caKeyFile, ca: await readFile(caFile, 'utf8'), serverCert: server.cert, serverKey: server.key, admin, alice };
}

let sharedPki: Promise<TestPki> | undefined;
/** One PKI per test process (generating it takes ~100 ms of openssl runs), removed when the process exits. */
export function testPki(_t?: unknown): Promise<TestPki> {
  if (!sharedPki) {
    sharedPki = mkdtemp(path.join(os.tmpdir(), 'kubepki-api-pki-')).then((d) => {
      process.on('exit', () => rmSync(d, { recursive: true, force: true }));
      return makeTestPki(d);
    });
  }
  return sharedPki;
}

export interface TestServer {
  server: ApiServer;
  storage: Storage;
  url: string;
  pki: TestPki;
  request: (method: string, path: string, options?: RequestOptions) => Promise<Response>;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body (string or Buffer) — sent as is. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  as?: Identity | null;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function startTestServer(
  t: { after: (fn: () => Promise<void>) => void },
  options: Partial<ApiServerOptions> & { storage?: Storage } = {},
): Promise<TestServer> {
  const pki = await testPki(t);
  const storage = options.storage ?? new MemoryStorage();
  const server = new ApiServer({
    storage,
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca },
    authenticator: unionAuthenticator({ authenticators: [x509Authenticator({ roots: parseCertificatesPem(pki.ca) })], anonymous: true }),
    authorizer: alwaysAllowMasters,
    port: 0,
    ...options,
  });
  const { url } = await server.start();
  t.after(async () => {
    await server.close();
    if (!options.storage) await storage.close();
  });
  const agents = new Map<Identity | null, https.Agent>();
  t.after(async () => {
    for (const a of agents.values()) a.destroy();
  });
  const agentFor = (who: Identity | null): https.Agent => {
    let a = agents.get(who);
    if (!a) {
      a = new https.Agent({ keepAlive: true, ca: pki.ca, ...(who ? { cert: who.cert, key: who.key } : {}) });
      agents.set(who, a);
    }
    return a;
  };
  const request = (method: string, p: string, o: RequestOptions = {}): Promise<Response> => httpsRequest(url, method, p, { ...o, agent: agentFor(o.as === undefined ? pki.admin : o.as) });
  return { server, storage, url, pki, request };
}

export function httpsRequest(base: string, method: string, p: string, o: RequestOptions & { agent: https.Agent }): Promise<Response> {
  return new Promise((resolve, reject) => {
    const body = o.raw !== undefined ? o.raw : o.body !== undefined ? JSON.stringify(o.body) : undefined;
    const length = body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) };
    const req = https.request(new URL(p, base), { method, agent: o.agent, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...length, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Opens a watch and collects its events; `next()` waits for the next one. */
export function openWatch(base: string, p: string, agent: https.Agent, headers: Record<string, string> = {}) {
  const events: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  const waiters: (() => void)[] = [];
  let status = 0;
  let ended = false;
  const req = https.request(new URL(p, base), { method: 'GET', agent, headers }, (res) => {
    status = res.statusCode ?? 0;
    onLines(
      res,
      (line) => {
        if (line.trim()) events.push(JSON.parse(line));
      },
      () => waiters.splice(0).forEach((w) => w()),
    );
    res.on('end', () => {
      ended = true;
      waiters.splice(0).forEach((w) => w());
    });
  });
  req.on('error', () => {
    ended = true;
    waiters.splice(0).forEach((w) => w());
  });
  req.end();
  let consumed = 0;
  return {
    events,
    get status() {
      return status;
    },
    get ended() {
      return ended;
    },
    async next(timeoutMs = 30_000): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
      const deadline = Date.now() + timeoutMs;
      while (consumed >= events.length) {
        if (ended) throw new Error('watch ended');
        if (Date.now() > deadline) throw new Error(`no watch event within ${timeoutMs} ms (have ${events.length})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50).unref();
        });
      }
      return events[consumed++];
    },
    close() {
      req.destroy();
    },
  };
}

/** A PEM CSR made by openssl, base64 for spec.request. */
export function opensslCsr(dir: string, name: string, subject: string, sans?: string): Promise<{ b64: string; keyFile: string; csrFile: string }> {
  return makeOpensslCsr(dir, `${name}-req`, { subject, ...(sans ? { sans } : {}) });
}

export function csrObject(name: string, b64: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name },
    spec: { request: b64, signerName: 'example.com/serving', usages: ['digital signature', 'key encipherment', 'server auth'], ...extra },
  };
}

/** A kubeconfig for kubectl with a client certificate. */
export async function writeKubeconfig(file: string, server: string, pki: TestPki, who: Identity): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const doc = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${b64(pki.ca)}
    server: ${server}
  name: test
contexts:
- context:
    cluster: test
    user: user
  name: test
current-context: test
users:
- name: user
  user:
    client-certificate-data: ${b64(who.cert)}
    client-key-data: ${b64(who.key)}
`;
  await writeFile(file, doc, { mode: 0o600 });
}

// ---- the real CLI and kubectl ------------------------------------------------------------------------------

export interface ServeProcess {
  url: string;
  dataDir: string;
  kubeconfig: string;
  stderr: () => string;
  /** SIGTERM, then SIGKILL after 5 s; resolves with the exit code. */
  stop: () => Promise<number | null>;
  /** The process itself, for a test that signals it and judges the exit on its own terms. */
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Runs `kubepki serve` as a user would (a separate process) and waits until it listens. */
export async function startServe(
  t: { after: (fn: () => Promise<void>) => void },
  args: string[],
  options: { dataDir: string; port: number; timeoutMs?: number },
): Promise<ServeProcess> {
  const serve = startCli(['serve', '--data-dir', options.dataDir, '--secure-port', String(options.port), ...args]);
  t.after(async () => {
    await serve.stop();
  });
  const url = (await serve.waitForStderr(/listening on (https:\/\/\S+)/, { timeoutMs: options.timeoutMs ?? 30_000, what: 'kubepki serve' }))[1]!;
  return { url, dataDir: options.dataDir, kubeconfig: path.join(options.dataDir, 'admin.conf'), stderr: serve.stderr, stop: serve.stop, child: serve.child, exited: serve.exited };
}

/** The real kubectl with a kubeconfig and a private discovery cache. */
export function kubectlWith(kubeconfig: string, cacheDir: string) {
  return (args: string[], input?: string) =>
    run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], { ...(input !== undefined ? { input } : {}), timeoutMs: 30_000 });
}

