// Logs a person can read and nobody can steal from (issue 11 item 12): `--log-format text|json` on serve,
// agent and controllers; text by default on a terminal (judged through a real pty made by `script`), JSON on
// a pipe; and a whole bootstrap — serve, token, join, certificate, reading the token Secret back — at debug
// level leaves no token secret, no PEM and no key or certificate body in either format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { kubectlWith } from '../api/helpers.js';
import { CLI_ENTRY, kubepki, run } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { startCli } from '../helpers/process.js';
import { tempDir } from '../helpers/tmp.js';
import { startAgentProcess } from '../agent/processes.js';

const KLOG = /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} {1,7}\d+ kubepki-[a-z]+\] "(?:[^"\\]|\\.)*"(?: [A-Za-z_][\w.-]*=\S.*)?$/;
/** Lines serve writes for the user outside the logger ("kubepki serve: listening on ..."). */
const PLAIN = /^kubepki serve: /;

function assertFormat(what: string, text: string, format: 'text' | 'json'): void {
  const lines = text.split('\n').filter((l) => l !== '' && !PLAIN.test(l));
  assert.ok(lines.length > 3, `${what} logged: ${text}`);
  for (const line of lines) {
    if (format === 'text') assert.match(line, KLOG, `${what}: a klog-like line`);
    else assert.doesNotThrow(() => JSON.parse(line), `${what}: a JSON line: ${line}`);
  }
}

/** The base64 body lines of every PEM block in a file (what must never show up in a log). */
async function pemBodies(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/-----BEGIN [A-Z ]+-----\n([A-Za-z0-9+/=\n]+)-----END/g)].map((m) => m[1]!.split('\n')[0]!.slice(0, 48));
}

async function bootstrapScan(t: { after: (fn: () => Promise<void>) => void }, formats: { serve: 'text' | 'json'; agent: 'text' | 'json' }) {
  const dir = await tempDir(t, 'kubepki-e2e-logs-');
  const dataDir = path.join(dir, 'data');
  const serve = startCli(['serve', '--data-dir', dataDir, '--secure-port', String(await freePort()), '--log-level', 'debug', '--log-format', formats.serve]);
  t.after(async () => {
    await serve.stop();
  });
  await serve.waitForStderr(/controllers started/, { timeoutMs: 90_000, what: 'kubepki serve' });
  const adminConf = path.join(dataDir, 'admin.conf');
  const join = await kubepki(['token', 'create', '--print-join-command', '--kubeconfig', adminConf]);
  assert.equal(join.code, 0, join.stderr);
  const args = join.stdout.trim().split(' ').slice(2);
  const token = args[args.indexOf('--token') + 1]!;
  const certDir = path.join(dir, 'pki');
  const agent = startAgentProcess(t, [
    ...args, '--kubeconfig', path.join(dir, 'node.conf'), '--cert-dir', certDir, '--node-name', 'node-logs',
    '--healthz-port', '0', '--log-level', 'debug', '--log-format', formats.agent,
  ]);
  await agent.waitForLog(/the node has a usable client certificate/, 60_000);
  // The server reads the token's Secret back for an admin, and the node's requests authenticate.
  const admin = kubectlWith(adminConf, path.join(dir, 'kc'));
  const secret = await admin(['get', 'secret', '-n', 'kube-system', `bootstrap-token-${token.split('.')[0]}`, '-o', 'yaml']);
  assert.equal(secret.code, 0, secret.stderr);
  const who = await run('kubectl', ['--kubeconfig', path.join(dir, 'node.conf'), '--cache-dir', path.join(dir, 'kc2'), 'auth', 'whoami']);
  assert.equal(who.code, 0, who.stderr);
  assert.equal(await agent.stop(), 0);
  await serve.stop();

  const logs = { serve: serve.stderr(), agent: agent.log() };
  assertFormat('serve', logs.serve, formats.serve);
  assertFormat('agent', logs.agent, formats.agent);
  const secrets = [
    token.split('.')[1]!,
    ...(await pemBodies(path.join(certDir, 'kubelet-client-current.pem'))),
    ...(await pemBodies(path.join(dataDir, 'pki', 'ca.crt'))),
    ...(await pemBodies(path.join(dataDir, 'pki', 'ca.key'))),
    ...(await pemBodies(path.join(dataDir, 'pki', 'sa.key'))),
  ];
  assert.ok(secrets.length >= 6);
  for (const [who, text] of Object.entries(logs)) {
    for (const s of secrets) assert.ok(!text.includes(s), `${who}'s log holds a secret or certificate body (${s.slice(0, 12)}…)`);
    assert.doesNotMatch(text, /-----BEGIN|PRIVATE KEY|LS0tLS1CRUdJTi/, `${who}: no PEM, not even base64-encoded`);
  }
}

test('a whole bootstrap at debug level logs no token secret, key or certificate body: serve JSON, agent text', async (t) => {
  await bootstrapScan(t, { serve: 'json', agent: 'text' });
});

test('a whole bootstrap at debug level logs no token secret, key or certificate body: serve text, agent JSON', async (t) => {
  await bootstrapScan(t, { serve: 'text', agent: 'json' });
});

test('without --log-format: text lines on a terminal, JSON lines on a pipe; a bad format is refused', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-logs-tty-');
  const port = await freePort(); // nobody listens: discovery retries, logging, then gives up
  const args = [
    'agent', '--server', `127.0.0.1:${port}`, '--token', 'abcdef.0123456789abcdef', '--discovery-token-unsafe-skip-ca-verification',
    '--kubeconfig', path.join(dir, 'node.conf'), '--cert-dir', path.join(dir, 'pki'), '--healthz-port', '0', '--discovery-timeout', '6s',
  ];
  const quoted = [process.execPath, CLI_ENTRY, ...args].map((a) => `'${a}'`).join(' ');
  const tty = await run('script', ['-qec', quoted, '/dev/null'], { env: { ...process.env, KUBEPKI_LOG_LEVEL: 'info' } });
  const ttyLines = tty.stdout.split(/\r?\n/).filter((l) => l.trim() !== '');
  const logLines = ttyLines.filter((l) => !l.startsWith('error: '));
  assert.ok(logLines.length >= 2, tty.stdout);
  for (const l of logLines) assert.match(l, KLOG);
  assert.match(tty.stdout, /"waiting for a signed cluster-info" .*tokenId="abcdef"/);
  assert.doesNotMatch(tty.stdout, /0123456789abcdef/);

  const piped = await kubepki(args, { env: { ...process.env, KUBEPKI_LOG_LEVEL: 'info' } });
  assert.equal(piped.code, 1);
  const jsonLines = piped.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('error: '));
  assert.ok(jsonLines.length >= 2, piped.stderr);
  for (const l of jsonLines) assert.equal(typeof JSON.parse(l).msg, 'string');

  const bad = await kubepki([...args, '--log-format', 'logfmt']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'error: --log-format: "logfmt" is not text or json\n');
});
