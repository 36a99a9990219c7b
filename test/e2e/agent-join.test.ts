// Joining a node as `kubeadm join` does (issue 11 item 11): `kubepki token create --print-join-command`
// prints the command, the real `kubepki agent` runs it against the real `kubepki serve` (the README's
// walk-through, run line by line as written), and against hostile servers that serve a cluster-info the agent
// must not believe: a bad signature, several clusters, a different answer once TLS is verified, no signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { stringify } from 'yaml';
import { kubectlWith, makeTestPki, startServe } from '../api/helpers.js';
import { CLI_ENTRY, kubepki, REPO_ROOT, run } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';
import { startAgentProcess } from '../agent/processes.js';
import { computeDetachedSignature } from '../../src/apis/cluster-info.js';
import { clusterInfoKubeconfig } from '../../src/controllers/publishers/bootstrap-signer.js';

const REPO = REPO_ROOT;

/** The pin of a CA file, computed the way kubeadm's documentation tells an operator to. */
async function opensslPin(certFile: string, dir: string): Promise<string> {
  await openssl(['x509', '-pubkey', '-noout', '-in', certFile, '-out', path.join(dir, 'ca.pub.pem')], dir);
  await openssl(['pkey', '-pubin', '-in', path.join(dir, 'ca.pub.pem'), '-outform', 'der', '-out', path.join(dir, 'ca.pub.der')], dir);
  return `sha256:${(await openssl(['dgst', '-sha256', '-hex', path.join(dir, 'ca.pub.der')], dir)).trim().split(' ').at(-1)}`;
}

test("the README's join walk-through works as written: serve, the printed join command, kubectl auth whoami as the node", async (t) => {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const block = /<!-- walk-through: test\/e2e\/agent-join\.test\.ts[^\n]*-->\n```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'the README has the walk-through block');
  const dir = await tempDir(t, 'kubepki-e2e-join-readme-');
  const port = await freePort();
  // `npx kubepki` is this checkout's CLI; serve gets a free port instead of 6443 and the agent no health port
  // (other tests may hold 6443 and 10248). Everything else runs exactly as the README says.
  const shim = `npx() {
  [ "$1" = kubepki ] || { echo "unexpected: npx $*" >&2; return 1; }
  shift
  case "$1" in
    serve) shift; node ${JSON.stringify(CLI_ENTRY)} serve --secure-port ${port} "$@" ;;
    agent) shift; node ${JSON.stringify(CLI_ENTRY)} agent --healthz-port 0 "$@" ;;
    *) node ${JSON.stringify(CLI_ENTRY)} "$@" ;;
  esac
}
set -eu
`;
  const child = spawn('bash', ['-c', shim + block], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir, KUBEPKI_LOG_LEVEL: 'warn' } });
  t.after(() => {
    // The walk-through leaves serve and the agent running in the background: end that process group.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(timer);
  assert.equal(code, 0, `the walk-through failed:\n${out}\n${err}`);
  const join = /^kubepki agent --server 127\.0\.0\.1:(\d+) --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) --kubeconfig \/etc\/kubernetes\/kubelet\.conf --cert-dir \/var\/lib\/kubelet\/pki --rotate-certificates$/m.exec(out);
  assert.ok(join, `the printed join command:\n${out}`);
  assert.equal(Number(join[1]), port);
  assert.equal(join[2], await opensslPin(path.join(dir, 'data', 'pki', 'ca.crt'), dir), 'the pin is the CA key hash openssl computes');
  assert.match(out, /Username\s+system:node:node1\n\s*Groups\s+\[system:nodes system:authenticated\]/);
  assert.ok(existsSync(path.join(dir, 'node', 'bootstrap-kubelet.conf')), 'discovery wrote the bootstrap kubeconfig next to --kubeconfig');
});

async function cluster(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await tempDir(t, 'kubepki-e2e-join-');
  const dataDir = path.join(dir, 'data');
  const serve = await startServe(t, [], { dataDir, port: await freePort() });
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const r = await kubepki(['token', 'create', '--print-join-command', '--kubeconfig', serve.kubeconfig]);
  assert.equal(r.code, 0, r.stderr);
  const args = r.stdout.trim().split(' ');
  assert.deepEqual(args.slice(0, 2), ['kubepki', 'agent']);
  const flag = (name: string) => args[args.indexOf(name) + 1]!;
  const node = (name: string) => ['--kubeconfig', path.join(dir, `${name}.conf`), '--cert-dir', path.join(dir, name), '--node-name', name, '--healthz-port', '0'];
  const csrs = async () => {
    const l = await admin(['get', 'csr', '-o', 'name']);
    assert.equal(l.code, 0, l.stderr);
    return l.stdout.split('\n').filter(Boolean);
  };
  return { dir, serve, admin, joinArgs: args.slice(2), server: flag('--server'), token: flag('--token'), hash: flag('--discovery-token-ca-cert-hash'), node, csrs };
}

const whoami = (dir: string, name: string) =>
  run('kubectl', ['--kubeconfig', path.join(dir, `${name}.conf`), '--cache-dir', path.join(dir, `kc-${name}`), 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);

test('a mismatched CA hash is refused: the agent stops with the reason, nothing is requested or written', async (t) => {
  const c = await cluster(t);
  const wrong = `sha256:${'0'.repeat(64)}`;
  const agent = startAgentProcess(t, ['--server', c.server, '--token', c.token, '--discovery-token-ca-cert-hash', wrong, ...c.node('n-wrong')]);
  assert.equal(await agent.exited, 1);
  assert.match(agent.log(), /error: cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:[0-9a-f]{64}" are pinned/);
  assert.doesNotMatch(agent.log(), new RegExp(c.token.split('.')[1]!), 'the token secret is never logged');
  assert.deepEqual(await c.csrs(), []);
  assert.equal(existsSync(path.join(c.dir, 'bootstrap-kubelet.conf')), false);
  assert.equal(existsSync(path.join(c.dir, 'n-wrong.conf')), false);
});

test('without a pin the agent refuses to start unless --discovery-token-unsafe-skip-ca-verification is given', async (t) => {
  const c = await cluster(t);
  const refused = await kubepki(['agent', '--server', c.server, '--token', c.token, ...c.node('n-nopin')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /without --discovery-token-ca-cert-hash can be unsafe; pass --discovery-token-unsafe-skip-ca-verification/);
  assert.deepEqual(await c.csrs(), []);
  const agent = startAgentProcess(t, ['--server', c.server, '--token', c.token, '--discovery-token-unsafe-skip-ca-verification', ...c.node('n-unsafe')]);
  await agent.waitForLog(/the node has a usable client certificate/);
  assert.match(agent.log(), /no CA pinning was asked for/);
  const who = await whoami(c.dir, 'n-unsafe');
  assert.equal(who.stdout, 'system:node:n-unsafe', who.stderr);
});

test('restarted with the same join command once joined, the agent needs no discovery (the token may be gone)', async (t) => {
  const c = await cluster(t);
  const args = [...c.joinArgs, ...c.node('n-again')];
  const first = startAgentProcess(t, args);
  await first.waitForLog(/the node has a usable client certificate/);
  assert.equal(await first.stop(), 0);
  const del = await kubepki(['token', 'delete', c.token.split('.')[0]!, '--kubeconfig', c.serve.kubeconfig]);
  assert.equal(del.code, 0, del.stderr);
  const second = startAgentProcess(t, args);
  await second.waitForLog(/the node has a usable client certificate/);
  assert.doesNotMatch(second.log(), /requesting cluster-info/);
  assert.match(second.log(), /the kubeconfig is usable; no bootstrap needed/);
  assert.equal((await c.csrs()).length, 1, 'one certificate request in all');
});

// ---- a hostile API server ------------------------------------------------------------------------------------

const TOKEN = 'abcdef.0123456789abcdef';
const [TOKEN_ID, TOKEN_SECRET] = TOKEN.split('.') as [string, string];

/** An HTTPS server that answers the n-th GET of cluster-info with answers[n] (the last one repeats). */
async function hostileServer(t: { after: (fn: () => Promise<void>) => void }, answers: ((caPem: string, url: string) => Record<string, string>)[]) {
  const dir = await tempDir(t, 'kubepki-e2e-join-hostile-');
  const pki = await makeTestPki(dir);
  let url = '';
  let n = 0;
  const server = https.createServer({ cert: pki.serverCert, key: pki.serverKey }, (req, res) => {
    if (req.url !== '/api/v1/namespaces/kube-public/configmaps/cluster-info') {
      res.writeHead(404).end();
      return;
    }
    const data = answers[Math.min(n++, answers.length - 1)]!(pki.ca, url);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cluster-info', namespace: 'kube-public' }, data }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as { port: number }).port;
  url = `https://127.0.0.1:${port}`;
  const pin = await opensslPin(pki.caFile, dir);
  const agentArgs = (extra: string[] = []) => [
    '--server', `127.0.0.1:${port}`, '--token', TOKEN, '--discovery-token-ca-cert-hash', pin,
    '--kubeconfig', path.join(dir, 'node.conf'), '--cert-dir', path.join(dir, 'pki'), '--node-name', 'n', '--healthz-port', '0', '--discovery-timeout', '3s', ...extra,
  ];
  return { dir, agentArgs, requests: () => n };
}

const signed = (kubeconfig: string, secret = TOKEN_SECRET) => ({ kubeconfig, [`jws-kubeconfig-${TOKEN_ID}`]: computeDetachedSignature(kubeconfig, TOKEN_ID, secret) });

async function refusedWith(t: { after: (fn: () => Promise<void>) => void }, answers: Parameters<typeof hostileServer>[1], re: RegExp, extra: string[] = []) {
  const h = await hostileServer(t, answers);
  const agent = startAgentProcess(t, h.agentArgs(extra));
  assert.equal(await agent.exited, 1, agent.log());
  assert.match(agent.log(), re);
  assert.doesNotMatch(agent.log(), new RegExp(TOKEN_SECRET), 'the token secret is never logged');
  assert.equal(existsSync(path.join(h.dir, 'bootstrap-kubelet.conf')), false, 'no bootstrap kubeconfig is written');
  return { h, agent };
}

test('a cluster-info signed with another secret is refused (a server that does not know the token)', async (t) => {
  await refusedWith(t, [(ca, url) => signed(clusterInfoKubeconfig(url, ca), 'ffffffffffffffff')], /error: failed to verify JWS signature of received cluster-info object, can't trust this API Server/);
});

test('a signed kubeconfig with several clusters is refused', async (t) => {
  const two = (ca: string, url: string) =>
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: ['a', 'b'].map((name) => ({ name, cluster: { server: url, 'certificate-authority-data': Buffer.from(ca).toString('base64') } })),
    });
  await refusedWith(t, [(ca, url) => signed(two(ca, url))], /error: the kubeconfig in the cluster-info ConfigMap has 2 clusters; exactly one is expected/);
});

test('a cluster-info that changes once TLS is verified against the pinned CA is refused', async (t) => {
  const { h } = await refusedWith(
    t,
    [(ca, url) => signed(clusterInfoKubeconfig(url, ca)), (ca) => signed(clusterInfoKubeconfig('https://10.6.6.6:6443', ca))],
    /error: the second kubeconfig from the cluster-info ConfigMap \(using validated TLS\) was different from the first/,
  );
  assert.equal(h.requests(), 2);
});

test('a cluster-info without a signature for the token is asked for again, then given up with kubeadm\'s advice', async (t) => {
  const { h, agent } = await refusedWith(
    t,
    [(ca, url) => ({ kubeconfig: clusterInfoKubeconfig(url, ca) })],
    /error: discovery \(unverified TLS\) gave up: could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"; token id "abcdef" is invalid for this cluster or it has expired/,
    ['--discovery-timeout', '7s'],
  );
  assert.equal(h.requests(), 2, 'asked again after kubeadm\'s 5 s interval, then given up before the next');
  assert.match(agent.log(), /waiting for a signed cluster-info/);
  assert.doesNotMatch(agent.log(), /certificate signing request created/);
});

test('--print-join-command with a kubeconfig that names no CA fails before creating a token', async (t) => {
  const c = await cluster(t);
  const insecure = path.join(c.dir, 'insecure.conf');
  const text = (await readFile(c.serve.kubeconfig, 'utf8')).replace(/certificate-authority-data: \S+/, 'insecure-skip-tls-verify: true');
  await writeFile(insecure, text, { mode: 0o600 });
  const before = await kubepki(['token', 'list', '--kubeconfig', c.serve.kubeconfig]);
  const r = await kubepki(['token', 'create', '--print-join-command', '--kubeconfig', insecure]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /insecure-skip-tls-verify is set/);
  const after = await kubepki(['token', 'list', '--kubeconfig', c.serve.kubeconfig]);
  assert.equal(after.stdout.split('\n').length, before.stdout.split('\n').length, 'no token was created');
});
