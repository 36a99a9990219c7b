// `kubepki serve`'s in-process controllers reach the server through its loopback socket, as the identity
// their kubeconfig's client certificate (embedded or in files) authenticates as; a kubeconfig with other
// credentials, or a socket that cannot be made, keeps them on HTTPS. Either way they work (they take the
// controller manager's Lease); the socket refuses requests without the process's token and disappears
// with the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { startCli, type CliProcess } from '../helpers/process.js';
import { kubepki } from '../helpers/cli.js';
import { kubectlWith } from '../api/helpers.js';
import { userKubeconfig } from './controllers-helpers.js';

async function serveWithLogs(t: { after: (fn: () => Promise<unknown>) => void }, dataDir: string, port: number, args: string[] = [], env: Record<string, string> = {}): Promise<CliProcess> {
  const serve = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(port), ...args], { logLevel: 'info', env });
  t.after(() => serve.stop());
  await serve.waitForStderr(/listening on https:/, { timeoutMs: 30_000, what: 'kubepki serve' });
  return serve;
}

/** `kubepki init` into DIR/data for a server on a free loopback port, before serve starts. */
async function initCluster(dir: string): Promise<{ dataDir: string; port: number }> {
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const init = await kubepki(['init', '--cert-dir', path.join(dataDir, 'pki'), '--kubeconfig-dir', dataDir, '--encryption-algorithm', 'ECDSA-P256', '--apiserver-advertise-address', '127.0.0.1', '--apiserver-bind-port', String(port)]);
  assert.equal(init.code, 0, init.stderr);
  return { dataDir, port };
}

/** Waits until the controller manager's Lease has a holder (the controllers are talking to the server). */
async function leaseHolder(kubectl: ReturnType<typeof kubectlWith>): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = await kubectl(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}']);
    if (r.code === 0 && r.stdout !== '') return r.stdout;
    if (Date.now() > deadline) throw new Error(`no lease holder: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const unauthenticatedGet = (socketPath: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get({ socketPath, path: '/api/v1/secrets' }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });

test('serve: the in-process controllers use the loopback socket as system:kube-controller-manager; it is private and goes away on stop', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-loopback-');
  const dataDir = path.join(dir, 'data');
  const serve = await serveWithLogs(t, dataDir, await freePort());
  const line = (await serve.waitForStderr(/\{[^\n]*through the loopback socket[^\n]*\}/, { timeoutMs: 15_000, what: 'kubepki serve' }))[0];
  const logged = JSON.parse(line) as { user: string; socket: string };
  assert.equal(logged.user, 'system:kube-controller-manager');
  assert.equal((await stat(logged.socket)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(logged.socket))).mode & 0o777, 0o700);
  assert.ok(await leaseHolder(kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'))));

  const refused = await unauthenticatedGet(logged.socket);
  assert.equal(refused.status, 401);
  assert.equal(JSON.parse(refused.body).reason, 'Unauthorized');
  assert.doesNotMatch(serve.stderr(), new RegExp(String.raw`"token"`), 'the token is never logged');

  assert.equal(await serve.stop(), 0);
  await assert.rejects(stat(path.dirname(logged.socket)), { code: 'ENOENT' });
});

test('serve: a controller-manager kubeconfig with a bearer token keeps the controllers on HTTPS, and they work', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-loopback-token-');
  const { dataDir, port } = await initCluster(dir);
  const tokenFile = path.join(dir, 'tokens.csv');
  const token = 'kcm-token-0123456789abcdef0123456789';
  await writeFile(tokenFile, `${token},system:kube-controller-manager,kcm-uid\n`, { mode: 0o600 });
  const kcmConf = await userKubeconfig(path.join(dataDir, 'admin.conf'), dir, 'kcm', { token });
  const serve = await serveWithLogs(t, dataDir, port, ['--token-auth-file', tokenFile, '--controller-manager-kubeconfig', kcmConf]);
  await serve.waitForStderr(/reach the API server over HTTPS/, { timeoutMs: 15_000, what: 'kubepki serve' });
  assert.ok(await leaseHolder(kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'))));
  assert.doesNotMatch(serve.stderr(), /loopback socket/);
  assert.doesNotMatch(serve.stderr(), new RegExp(token), 'the token is never logged');
});

test('serve: when no loopback socket can be made (a TMPDIR too long for a socket path) the controllers fall back to HTTPS and work', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-loopback-long-');
  const longTmp = path.join(dir, 'x'.repeat(60), 'y'.repeat(60));
  await mkdir(longTmp, { recursive: true });
  const dataDir = path.join(dir, 'data');
  const serve = await serveWithLogs(t, dataDir, await freePort(), [], { TMPDIR: longTmp });
  await serve.waitForStderr(/cannot open the loopback socket; in-process controllers reach the API server over HTTPS/, { timeoutMs: 15_000, what: 'kubepki serve' });
  assert.ok(await leaseHolder(kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'))));
  assert.equal(await serve.stop(), 0);
  assert.deepEqual(await readdir(longTmp), [], 'nothing is left in TMPDIR');
});

test('serve: a controller-manager kubeconfig naming its certificate files by relative path gets the loopback too', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-loopback-files-');
  const { dataDir, port } = await initCluster(dir);
  const embedded = await readFile(path.join(dataDir, 'controller-manager.conf'), 'utf8');
  const field = (name: string) => Buffer.from(new RegExp(`${name}: (\\S+)`).exec(embedded)![1]!, 'base64');
  await writeFile(path.join(dir, 'kcm.crt'), field('client-certificate-data'));
  await writeFile(path.join(dir, 'kcm.key'), field('client-key-data'), { mode: 0o600 });
  const kcmConf = await userKubeconfig(path.join(dataDir, 'admin.conf'), dir, 'kcm', { certFile: 'kcm.crt', keyFile: 'kcm.key' });
  const serve = await serveWithLogs(t, dataDir, port, ['--controller-manager-kubeconfig', kcmConf]);
  const line = (await serve.waitForStderr(/\{[^\n]*through the loopback socket[^\n]*\}/, { timeoutMs: 15_000, what: 'kubepki serve' }))[0];
  assert.equal((JSON.parse(line) as { user: string }).user, 'system:kube-controller-manager');
  assert.ok(await leaseHolder(kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kcache'))));
});
