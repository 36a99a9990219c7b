// Request paths as kube-apiserver reads them (Go's decoded URL.Path, dot segments kept): a name of ".." or "%2e%2e"
// is refused with kube's 400, never resolved to the parent path (which served, and deleted, the namespace);
// percent-escapes are decoded before routing; a malformed escape is a 400 Status. Sent with a raw HTTPS client
// (https.request with a `path`), since WHATWG URL clients resolve dot segments before sending.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { startTestServer } from '../api/helpers.js';

const NS = '/api/v1/namespaces/default';
const CM = `${NS}/configmaps`;

function raw(base: string, agent: https.Agent, method: string, path: string): Promise<{ status: number; json: { kind?: string; reason?: string; message?: string; code?: number; metadata?: { name?: string } } }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = https.request({ hostname: u.hostname, port: u.port, path, method, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('dot-segment names are refused as kube does; the namespace survives DELETE configmaps/..', async (t) => {
  const s = await startTestServer(t);
  const agent = new https.Agent({ keepAlive: false, ca: s.pki.ca, cert: s.pki.admin.cert, key: s.pki.admin.key });
  t.after(() => agent.destroy());
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'abc' }, data: { k: 'v' } } })).status, 201);

  for (const [name, why] of [['..', "may not be '..'"], ['%2e%2e', "may not be '..'"], ['%2E%2E', "may not be '..'"], ['.', "may not be '.'"], ['%25', "may not contain '%'"]] as const) {
    for (const method of ['GET', 'DELETE', 'PUT', 'PATCH']) {
      const r = await raw(s.url, agent, method, `${CM}/${name}`);
      assert.equal(r.status, 400, `${method} ${name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.kind, 'Status');
      assert.equal(r.json.reason, 'BadRequest');
      const decoded = decodeURIComponent(name);
      assert.equal(r.json.message, `Name parameter invalid: ${JSON.stringify(decoded)}: ${why}`);
    }
  }
  const ns = await s.request('GET', NS);
  assert.equal(ns.status, 200, 'the namespace was not deleted through configmaps/..');
  assert.equal(ns.json.metadata.name, 'default');
});

test('percent-escapes in the path are decoded before routing; a malformed one is a 400 Status', async (t) => {
  const s = await startTestServer(t);
  const agent = new https.Agent({ keepAlive: false, ca: s.pki.ca, cert: s.pki.admin.cert, key: s.pki.admin.key });
  t.after(() => agent.destroy());
  assert.equal((await s.request('POST', CM, { body: { metadata: { name: 'abc' } } })).status, 201);

  const got = await raw(s.url, agent, 'GET', `${CM}/%61bc`);
  assert.equal(got.status, 200);
  assert.equal(got.json.metadata?.name, 'abc');
  // "%2F" is a "/": configmaps/a/b names a subresource that does not exist.
  const slash = await raw(s.url, agent, 'GET', `${CM}/a%2Fb`);
  assert.equal(slash.status, 404);
  assert.equal(slash.json.message, 'the server could not find the requested resource');
  const bad = await raw(s.url, agent, 'GET', `${CM}/%zz`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.kind, 'Status');
  assert.equal(bad.json.message, 'invalid URL escape "%zz"');
  // Absolute-form targets are routed by their path.
  const abs = await raw(s.url, agent, 'GET', `https://127.0.0.1${CM}/abc`);
  assert.equal(abs.status, 200);
  assert.equal(abs.json.metadata?.name, 'abc');
});
