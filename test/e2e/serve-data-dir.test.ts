// `kubepki serve`'s data directory (issue 11 item 9): the database and its WAL are private whatever the
// umask and the directory's mode; a missing, empty or foreign database under a PKI that already served a
// cluster is refused (nothing written) unless --allow-empty-storage; a 201 survives kill -9; loopback-socket
// directories of dead servers are removed at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { kubectlWith } from '../api/helpers.js';
import { kubepki } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';
import { freePort } from '../helpers/ports.js';
import { startCli, type CliProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';

type T = { after: (fn: () => Promise<void>) => void };

async function serve(t: T, dataDir: string, port: number, extra: string[] = []): Promise<CliProcess> {
  const p = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(port), ...extra], { logLevel: 'info' });
  t.after(async () => {
    await p.stop();
  });
  await p.waitForStderr(/listening on https:/, { timeoutMs: 60_000, what: 'kubepki serve' });
  return p;
}

/** A serve that must refuse to start: its exit code and what it said. */
async function refused(dataDir: string, port: number, extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const p = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(port), ...extra]);
  const code = await p.exited;
  return { code, stderr: p.stderr() };
}

async function tokens(adminConf: string): Promise<string> {
  const r = await kubepki(['token', 'list', '--kubeconfig', adminConf]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function cluster(t: T) {
  const dir = await tempDir(t, 'kubepki-e2e-datadir-');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const first = await serve(t, dataDir, port);
  const adminConf = path.join(dataDir, 'admin.conf');
  const created = await kubepki(['token', 'create', '--kubeconfig', adminConf]);
  assert.equal(created.code, 0, created.stderr);
  const token = created.stdout.trim();
  return { dir, dataDir, port, first, adminConf, token, db: path.join(dataDir, 'kubepki.db'), identity: path.join(dataDir, 'pki', 'cluster-identity') };
}

test('the database and its WAL are created 0600 with a 000 umask in a 0777 directory', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-datadir-mode-');
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir);
  await chmod(dataDir, 0o777);
  const old = process.umask(0);
  let p: CliProcess;
  try {
    p = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(await freePort())]);
  } finally {
    process.umask(old);
  }
  t.after(async () => {
    await p.stop();
  });
  await p.waitForStderr(/listening on https:/, { timeoutMs: 60_000, what: 'kubepki serve' });
  const created = await kubepki(['token', 'create', '--kubeconfig', path.join(dataDir, 'admin.conf')]);
  assert.equal(created.code, 0, created.stderr);
  const files = (await readdir(dataDir)).filter((f) => f.startsWith('kubepki.db'));
  assert.ok(files.includes('kubepki.db') && files.includes('kubepki.db-wal'), `database and WAL exist: ${files.join(', ')}`);
  for (const f of files) assert.equal((await stat(path.join(dataDir, f))).mode & 0o777, 0o600, f);
});

test('a database that is gone under a PKI that served a cluster is refused, nothing written; --allow-empty-storage starts anew', async (t) => {
  const c = await cluster(t);
  const identity = JSON.parse(await readFile(c.identity, 'utf8')) as { clusterUID: string; firstStarted: string };
  const admin = kubectlWith(c.adminConf, path.join(c.dir, 'kc'));
  const uid = await admin(['get', 'namespace', 'kube-system', '-o', 'jsonpath={.metadata.uid}']);
  assert.equal(identity.clusterUID, uid.stdout, 'the identity is the kube-system namespace UID');
  await c.first.stop();
  await rm(c.db);
  await rm(`${c.db}-wal`, { force: true });
  const before = (await readdir(c.dataDir)).sort();

  const r = await refused(c.dataDir, c.port);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`error: the SQLite database ${c.db.replace(/[.]/g, '\\.')} does not exist, but the PKI in .* already served cluster ${identity.clusterUID}`));
  assert.match(r.stderr, /every CSR, bootstrap token and RBAC object of that cluster would be gone.*pass --allow-empty-storage/);
  assert.deepEqual((await readdir(c.dataDir)).sort(), before, 'the data directory is as it was');

  await serve(t, c.dataDir, c.port, ['--allow-empty-storage']);
  assert.doesNotMatch(await tokens(c.adminConf), new RegExp(c.token.split('.')[0]!), 'an empty cluster: the old token is gone');
  const renewed = JSON.parse(await readFile(c.identity, 'utf8')) as { clusterUID: string };
  assert.notEqual(renewed.clusterUID, identity.clusterUID, 'the PKI now belongs to the new cluster');
});

/** Copies a stopped server's database with its WAL (a stop that had to SIGKILL leaves the commits there). */
async function copyDatabase(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  await rm(`${to}-wal`, { force: true });
  if (existsSync(`${from}-wal`)) await copyFile(`${from}-wal`, `${to}-wal`);
}

test('an emptied (0-byte) database and another cluster\'s database are refused too', async (t) => {
  const c = await cluster(t);
  await c.first.stop();
  const saved = path.join(c.dir, 'saved.db');
  await copyDatabase(c.db, saved);
  await truncate(c.db, 0);
  await rm(`${c.db}-wal`, { force: true });
  const empty = await refused(c.dataDir, c.port);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /kubepki\.db is empty, but the PKI/);
  assert.equal((await stat(c.db)).size, 0, 'left as it was');

  // Another cluster's database under this PKI.
  const otherDir = path.join(c.dir, 'other');
  const other = await serve(t, otherDir, await freePort());
  await other.stop();
  await copyDatabase(path.join(otherDir, 'kubepki.db'), c.db);
  const foreign = await refused(c.dataDir, c.port);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, /holds cluster [0-9a-f-]+ \(the UID of its kube-system namespace\), but the PKI in .* belongs to cluster [0-9a-f-]+ .*this storage is another cluster's/);
  assert.match(foreign.stderr, /if the PKI was moved to that cluster on purpose, delete .*cluster-identity/);

  // The right database back: it starts, the token is there.
  await copyDatabase(saved, c.db);
  await serve(t, c.dataDir, c.port);
  assert.match(await tokens(c.adminConf), new RegExp(c.token.split('.')[0]!));
});

test('a CSR answered 201 is there after kill -9 and a restart', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-datadir-kill-');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const p = await serve(t, dataDir, port);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-subj', '/CN=kill-9', '-out', 'r.csr'], dir);
  const request = (await readFile(path.join(dir, 'r.csr'))).toString('base64');
  const manifest = path.join(dir, 'csr.yaml');
  await writeFile(
    manifest,
    `apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: survives\nspec:\n  request: ${request}\n  signerName: example.com/kill\n  usages: [digital signature, client auth]\n`,
  );
  const admin = kubectlWith(path.join(dataDir, 'admin.conf'), path.join(dir, 'kc'));
  const created = await admin(['create', '-f', manifest, '-v=6']);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, /POST https:\/\/\S+\/certificatesigningrequests\S* 201 Created/);
  p.child.kill('SIGKILL');
  assert.equal(await p.exited, null);
  await serve(t, dataDir, port);
  const got = await admin(['get', 'csr', 'survives', '-o', 'jsonpath={.spec.signerName}']);
  assert.equal(got.stdout, 'example.com/kill', got.stderr);
});

test("a dead server's loopback-socket directory is removed when the next server starts; a live one's is kept", async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-datadir-loopback-');
  const mine = async (pid: number) => (await readdir(os.tmpdir())).filter((n) => n.startsWith(`kubepki-loopback-${pid}-`));
  const a = await serve(t, path.join(dir, 'a'), await freePort());
  await a.waitForStderr(/through the loopback socket/, { timeoutMs: 30_000, what: 'serve a' });
  const deadDirs = await mine(a.child.pid!);
  assert.equal(deadDirs.length, 1, 'serve a made one directory named with its pid');
  a.child.kill('SIGKILL');
  await a.exited;
  assert.deepEqual(await mine(a.child.pid!), deadDirs, 'kill -9 leaves it behind');

  const b = await serve(t, path.join(dir, 'b'), await freePort());
  await b.waitForStderr(/through the loopback socket/, { timeoutMs: 30_000, what: 'serve b' });
  assert.deepEqual(await mine(a.child.pid!), [], "the dead server's directory is gone");
  const live = await mine(b.child.pid!);
  assert.equal(live.length, 1);

  const c = await serve(t, path.join(dir, 'c'), await freePort());
  await c.waitForStderr(/through the loopback socket/, { timeoutMs: 30_000, what: 'serve c' });
  assert.deepEqual(await mine(b.child.pid!), live, "a live server's directory is kept");
  assert.ok(existsSync(path.join(os.tmpdir(), live[0]!, 'apiserver.sock')));
});
