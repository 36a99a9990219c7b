// The real `kubepki serve` (API server, authenticators, Node+RBAC authorizers, in-process controllers) as a
// separate process for the agent's tests, with what the tests need around it: a bootstrap token made by
// `kubepki token create`, a bootstrap kubeconfig made by kubectl, an admin client (admin.conf's identity) to
// approve, deny, fail or delete CSRs by hand, and the cluster CA as an issuer. The cluster PKI is made once
// per test process (ECDSA keys, by the same code as `kubepki init`) and copied into a fresh data directory
// per server, so every test starts on an empty database in well under a second.
import { createPublicKey } from 'node:crypto';
import https from 'node:https';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { initClusterPki } from '../../src/cluster/init.js';
import { resolveClusterConfig } from '../../src/cluster/config.js';
import { parseCertificatePem, parsePrivateKeyPem } from '../../src/x509/index.js';
import { httpsRequest, kubectlWith, startServe, type Response, type ServeProcess } from '../api/helpers.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { createBootstrapToken, writeBootstrapKubeconfig } from './processes.js';
import type { TestCa } from '../helpers/pki.js';
import { until as poll } from '../helpers/poll.js';

export const TOKEN = '07401b.f395accd246ae52d';
export const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
/** Serve without the approver: CSRs wait until a test approves or denies them (the signer still signs). */
export const APPROVER_OFF = ['--controllers', '*,-csrapproving'];

let template: Promise<string> | undefined;
function pkiTemplate(): Promise<string> {
  template ??= mkdtemp(path.join(os.tmpdir(), 'kubepki-agent-pki-')).then(async (dir) => {
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    const config = resolveClusterConfig({ bindPort: 6443, advertiseAddress: '127.0.0.1', apiServerCertSANs: ['127.0.0.1', 'localhost'], encryptionAlgorithm: 'ECDSA-P256' });
    await initClusterPki({ certDir: path.join(dir, 'pki'), kubeconfigDir: dir, config });
    return dir;
  });
  return template;
}

export interface CsrObject {
  metadata: { name: string; resourceVersion: string; creationTimestamp: string };
  spec: { request: string; signerName: string; usages: string[]; username: string; groups?: string[] };
  status: { conditions?: { type: string; status: string; reason?: string; message?: string }[]; certificate?: string };
}

export interface Cluster {
  dir: string;
  dataDir: string;
  port: number;
  url: string;
  caFile: string;
  caPem: string;
  /** The cluster CA (ca.crt + ca.key) as an issuer, for certificates a test makes itself. */
  ca: TestCa;
  /** The apiserver's serving pair, for a proxy that stands where the server stands. */
  servingPair: { cert: string; key: string };
  /** A bootstrap kubeconfig (kubectl config set-cluster / set-credentials --token) for TOKEN. */
  bootstrap: string;
  serve: ServeProcess;
  /** As the cluster admin (system:masters). */
  admin: (method: string, p: string, body?: unknown) => Promise<Response>;
  kubectl: ReturnType<typeof kubectlWith>;
  csrs: () => Promise<CsrObject[]>;
  csr: (name: string) => Promise<CsrObject>;
  /** Adds an Approved or Denied condition through /approval, as kubectl certificate approve/deny does. */
  decide: (name: string, type: 'Approved' | 'Denied', reason: string, message: string) => Promise<void>;
  /** Adds a Failed condition through /status, as a signer does. */
  fail: (name: string, reason: string, message: string) => Promise<void>;
  remove: (name: string) => Promise<void>;
  /** Like a killed process: SIGTERM, everything dropped. */
  stop: () => Promise<void>;
  /** Back on the same data directory and port. */
  restart: (serveArgs?: string[]) => Promise<void>;
}

export async function startCluster(t: { after: (fn: () => Promise<void>) => void }, options: { serveArgs?: string[] } = {}): Promise<Cluster> {
  const dir = await tempDir(t, 'kubepki-agent-cluster-');
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir, { mode: 0o700 });
  const tpl = await pkiTemplate();
  await cp(path.join(tpl, 'pki'), path.join(dataDir, 'pki'), { recursive: true });
  const port = await freePort();
  // The kubeconfigs (admin.conf, controller-manager.conf for the in-process controllers...) name the server;
  // point them at this one's port.
  for (const conf of (await readdir(tpl)).filter((f) => f.endsWith('.conf'))) {
    const text = (await readFile(path.join(tpl, conf), 'utf8')).replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`);
    await writeFile(path.join(dataDir, conf), text, { mode: 0o600 });
  }
  const adminConf = await readFile(path.join(dataDir, 'admin.conf'), 'utf8');
  const baseArgs = ['--leader-elect', 'false'];
  const serveArgs = [...baseArgs, ...(options.serveArgs ?? [])];
  let serve = await startServe(t, serveArgs, { dataDir, port });
  const caFile = path.join(dataDir, 'pki', 'ca.crt');
  const caPem = await readFile(caFile, 'utf8');
  const caKey = parsePrivateKeyPem(await readFile(path.join(dataDir, 'pki', 'ca.key'), 'utf8'));
  const ca: TestCa = { certificate: parseCertificatePem(caPem), privateKey: caKey, keyPair: { privateKey: caKey, publicKey: createPublicKey(caKey) } };
  const servingPair = { cert: await readFile(path.join(dataDir, 'pki', 'apiserver.crt'), 'utf8'), key: await readFile(path.join(dataDir, 'pki', 'apiserver.key'), 'utf8') };

  const user = (parse(adminConf) as { users: { user: Record<string, string> }[] }).users[0]!.user;
  const b64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();
  const agent = new https.Agent({ keepAlive: true, ca: caPem, cert: b64(user['client-certificate-data']), key: b64(user['client-key-data']) });
  t.after(async () => agent.destroy());
  const admin = (method: string, p: string, body?: unknown) => httpsRequest(serve.url, method, p, { agent, ...(body !== undefined ? { body } : {}) });
  const ok = (r: Response, what: string): Response => {
    if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.text}`);
    return r;
  };
  const csr = async (name: string) => ok(await admin('GET', `${CSR_PATH}/${name}`), `get csr ${name}`).json as CsrObject;
  const addCondition = async (name: string, sub: 'approval' | 'status', condition: { type: string; reason: string; message: string }) => {
    const obj = await csr(name);
    obj.status.conditions = [...(obj.status.conditions ?? []), { ...condition, status: 'True' }];
    ok(await admin('PUT', `${CSR_PATH}/${name}/${sub}`, obj), `${sub} of ${name}`);
  };

  const token = await createBootstrapToken(path.join(dataDir, 'admin.conf'), [TOKEN]);
  if (token !== TOKEN) throw new Error(`kubepki token create wrote ${token}, not ${TOKEN}`);
  const bootstrap = path.join(dir, 'bootstrap-kubelet.conf');
  await writeBootstrapKubeconfig(bootstrap, { server: serve.url, caFile, token: TOKEN });

  return {
    dir,
    dataDir,
    port,
    get url() {
      return serve.url;
    },
    caFile,
    caPem,
    ca,
    servingPair,
    bootstrap,
    get serve() {
      return serve;
    },
    admin,
    kubectl: kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache')),
    csrs: async () => (ok(await admin('GET', CSR_PATH), 'list csr').json as { items: CsrObject[] }).items,
    csr,
    decide: (name, type, reason, message) => addCondition(name, 'approval', { type, reason, message }),
    fail: (name, reason, message) => addCondition(name, 'status', { type: 'Failed', reason, message }),
    remove: async (name) => {
      ok(await admin('DELETE', `${CSR_PATH}/${name}`), `delete csr ${name}`);
    },
    stop: async () => {
      await serve.stop();
    },
    restart: async (args) => {
      serve = await startServe(t, [...baseArgs, ...(args ?? options.serveArgs ?? [])], { dataDir, port });
    },
  } as Cluster;
}

/** test/helpers/poll.ts's `until` with this file's historical positional timeout (kept for its callers). */
export const until = <T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> =>
  poll(fn, what, { timeoutMs: ms });
