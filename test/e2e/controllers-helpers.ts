// Shared pieces of the controllers' end-to-end tests: kubeconfigs for a bootstrap token and for a node's
// client certificate, openssl-made node CSRs, CSR manifests, and a watch that keeps the latest state of every CSR.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { until } from '../helpers/poll.js';
import { opensslCsr } from '../helpers/openssl.js';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';

/** `kubepki token create` against the server; returns the token. */
export async function createToken(adminConf: string, extra: string[] = []): Promise<string> {
  const r = await kubepki(['token', 'create', '--kubeconfig', adminConf, ...extra]);
  if (r.code !== 0) throw new Error(`token create: ${r.stderr}`);
  return r.stdout.trim();
}

async function serverAndCA(adminConf: string, dir: string): Promise<{ server: string; caFile: string }> {
  const text = await readFile(adminConf, 'utf8');
  const server = /server: (\S+)/.exec(text)![1]!;
  const caFile = path.join(dir, 'cluster-ca.crt');
  await writeFile(caFile, Buffer.from(/certificate-authority-data: (\S+)/.exec(text)![1]!, 'base64'));
  return { server, caFile };
}

/** A kubeconfig whose user is a bearer token (a bootstrap token) or a client certificate (a node). */
export async function userKubeconfig(adminConf: string, dir: string, name: string, user: { token: string } | { certFile: string; keyFile: string }): Promise<string> {
  const { server, caFile } = await serverAndCA(adminConf, dir);
  const file = path.join(dir, `${name}.conf`);
  const creds = 'token' in user ? `token: ${user.token}` : `client-certificate: ${user.certFile}\n    client-key: ${user.keyFile}`;
  await writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ${caFile}
    server: ${server}
  name: kubernetes
users:
- name: ${name}
  user:
    ${creds}
contexts:
- context:
    cluster: kubernetes
    user: ${name}
  name: ${name}
current-context: ${name}
`,
  );
  return file;
}

/** An EC key and a CSR made by openssl; returns base64 of the PEM request. */
export async function nodeCsr(dir: string, name: string, subject: string, opts: { sans?: string; keyFile?: string } = {}): Promise<{ b64: string; keyFile: string }> {
  const { b64, keyFile } = await opensslCsr(dir, name, { subject, ...opts });
  return { b64, keyFile };
}

export function csrManifest(name: string, b64: string, signerName: string, usages: string[], extra = ''): string {
  return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${b64}
  signerName: ${signerName}
  usages:
${usages.map((u) => `  - ${u}`).join('\n')}
${extra}`;
}

/** Watches CSRs with the admin identity and keeps the latest state of each. */
export function csrWatcher(adminConf: string) {
  const client = RestKubeClient.fromFile(adminConf);
  const csrs = client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests);
  const seen = new Map<string, CertificateSigningRequest>();
  let stream: { stop(): void } | undefined;
  const start = async () => {
    const list = await csrs.list();
    for (const c of list.items) seen.set(c.metadata.name!, c);
    stream = csrs.watch({ resourceVersion: list.metadata.resourceVersion ?? '' }, (e) => {
      if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
      const c = e.object;
      seen.set(c.metadata.name!, c);
    });
  };
  return {
    start,
    csrs,
    get: (name: string) => seen.get(name),
    /** The CSR once `pred` holds for it; the timeout only bounds a hang. */
    async waitFor(name: string, pred: (c: CertificateSigningRequest) => boolean, timeoutMs = 30_000): Promise<CertificateSigningRequest> {
      return until(() => {
        const c = seen.get(name);
        return c && pred(c) ? c : undefined;
      }, `CSR ${name} to reach the expected state`, { timeoutMs }).catch((err: Error) => {
        throw new Error(`${err.message}; it is at ${JSON.stringify(seen.get(name)?.status ?? null)}`);
      });
    },
    async stop() {
      stream?.stop();
      await client.close();
    },
  };
}

export const certificateOf = (c: CertificateSigningRequest): string => Buffer.from(c.status?.certificate ?? '', 'base64').toString('utf8');
export const conditionTypes = (c: CertificateSigningRequest | undefined): string[] => (c?.status?.conditions ?? []).map((x) => x.type);
