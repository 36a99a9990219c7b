// kube-apiserver's connection limits (issue 11 item 8), with short configured durations, driven by curl and
// openssl s_client: slow headers and idle keep-alive connections are closed, a stalled TLS handshake too, a
// trickling body gets kube's 504 Status (reason Timeout), a watch outlives the request timeout, and headers up
// to 1 MiB are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startTestServer, type TestServer } from '../api/helpers.js';
import { run } from '../helpers/cli.js';

const LIMITS = { readHeaderTimeoutMs: 1000, idleTimeoutMs: 1500, requestTimeoutMs: 1500 };
const SLACK_MS = 4000; // Node checks deadlines every readHeaderTimeout/8; the machine is shared

const hostPort = (s: TestServer) => new URL(s.url).host;

/** openssl s_client sending `input` and keeping stdin open; resolves with the ms until the server closed. */
function sClientUntilClosed(s: TestServer, input: string, timeoutMs = 20_000): Promise<{ ms: number; out: string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn('openssl', ['s_client', '-connect', hostPort(s), '-quiet', '-CAfile', s.pki.caFile, '-cert', s.pki.admin.certFile, '-key', s.pki.admin.keyFile], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.write(input);
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`the server kept the connection open for ${timeoutMs} ms: ${out}`));
    }, timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ ms: Date.now() - started, out });
    });
  });
}

test('a client that never finishes its headers is disconnected after the header timeout', async (t) => {
  const s = await startTestServer(t, { connectionLimits: LIMITS });
  const { ms } = await sClientUntilClosed(s, 'GET /version HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  assert.ok(ms >= LIMITS.readHeaderTimeoutMs - 100 && ms < LIMITS.readHeaderTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
});

test('an idle keep-alive connection is closed after the idle timeout, after its response', async (t) => {
  const s = await startTestServer(t, { connectionLimits: { ...LIMITS, readHeaderTimeoutMs: 30_000 } });
  const { ms, out } = await sClientUntilClosed(s, 'GET /version HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  assert.match(out, /^HTTP\/1\.1 200 OK/);
  assert.ok(ms >= LIMITS.idleTimeoutMs - 100 && ms < LIMITS.idleTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
});

test('a TCP connection that never starts its TLS handshake is closed after the header timeout', async (t) => {
  const s = await startTestServer(t, { connectionLimits: LIMITS });
  const started = Date.now();
  const socket = net.connect(Number(new URL(s.url).port), '127.0.0.1');
  await new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const ms = Date.now() - started;
  assert.ok(ms >= LIMITS.readHeaderTimeoutMs - 100 && ms < LIMITS.readHeaderTimeoutMs + SLACK_MS, `closed after ${ms} ms`);
});

test("a body that trickles in is cut off with kube's 504 Status (reason Timeout)", async (t) => {
  const s = await startTestServer(t, { connectionLimits: LIMITS });
  const started = Date.now();
  const curl = spawn('curl', ['-sS', '--cacert', s.pki.caFile, '--cert', s.pki.admin.certFile, '--key', s.pki.admin.keyFile, '-H', 'Content-Type: application/json',
    '-X', 'POST', '-T', '-', '-w', '\n%{http_code}', `${s.url}/api/v1/namespaces`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  curl.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // curl -T - streams stdin as it comes (chunked): one byte every 200 ms, never the end of the body.
  const drip = setInterval(() => curl.stdin.write(' '), 200);
  const guard = setTimeout(() => curl.kill(), 20_000);
  await new Promise<void>((resolve) => curl.on('exit', () => resolve()));
  clearTimeout(guard);
  clearInterval(drip);
  const ms = Date.now() - started;
  const [body, code] = [out.slice(0, out.lastIndexOf('\n')), out.slice(out.lastIndexOf('\n') + 1)];
  assert.equal(code, '504', out);
  const status = JSON.parse(body) as { kind: string; status: string; reason: string; code: number; message: string };
  assert.deepEqual([status.kind, status.status, status.reason, status.code], ['Status', 'Failure', 'Timeout', 504]);
  assert.equal(status.message, 'Timeout: request did not complete within requested timeout - context deadline exceeded');
  assert.ok(ms >= LIMITS.requestTimeoutMs - 100 && ms < LIMITS.requestTimeoutMs + SLACK_MS, `answered after ${ms} ms`);
});

test('a watch is not cut by the request timeout: it ends at its own timeoutSeconds', async (t) => {
  const s = await startTestServer(t, { connectionLimits: LIMITS });
  const started = Date.now();
  const r = await run('curl', ['-sS', '--cacert', s.pki.caFile, '--cert', s.pki.admin.certFile, '--key', s.pki.admin.keyFile, '-w', '\n%{http_code}', `${s.url}/api/v1/namespaces?watch=1&timeoutSeconds=4`]);
  const ms = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"type":"ADDED"[\s\S]*\n200$/);
  assert.ok(ms >= 3900 && ms < 4000 + SLACK_MS, `the watch lasted ${ms} ms`);
});

test('headers up to 1 MiB are accepted, as kube-apiserver accepts them; beyond, 431', async (t) => {
  // Node's client, not curl: curl's -H and config lines cannot carry a header this large.
  const s = await startTestServer(t);
  const big = async (bytes: number) => (await s.request('GET', '/version', { headers: { 'X-Big': 'a'.repeat(bytes) } })).status;
  assert.equal(await big(900 * 1024), 200);
  assert.equal(await big(1100 * 1024), 431);
});
