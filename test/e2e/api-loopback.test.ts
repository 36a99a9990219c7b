// The API server's loopback socket (ApiServer.listenLoopback), which serve's in-process controllers use:
// only the process's own token gets in, as the identity fixed at start; the socket is private to its owner
// and gone once the server closes; the controllers' REST client speaks to it, watches included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import { startTestServer } from '../api/helpers.js';
import type { ConfigMap } from '../../src/apis/objects.js';

const CONTROLLER_MANAGER = { username: 'system:kube-controller-manager', groups: ['system:authenticated'] };

function overSocket(socketPath: string, method: string, p: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath, method, path: p, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const whoAmI = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };

test('the loopback token authenticates as the fixed identity; a wrong or missing token is 401 Unauthorized', async (t) => {
  const s = await startTestServer(t);
  const { socketPath, token } = await s.server.listenLoopback(CONTROLLER_MANAGER);
  assert.ok(token.length >= 43, 'at least 256 bits of token');

  const ok = await overSocket(socketPath, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { authorization: `Bearer ${token}` }, whoAmI);
  assert.equal(ok.status, 201);
  assert.equal(ok.json.status.userInfo.username, 'system:kube-controller-manager');
  assert.deepEqual(ok.json.status.userInfo.groups, ['system:authenticated']);

  const almost = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  const refused: Record<string, string>[] = [{}, { authorization: `Bearer ${almost}` }, { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }];
  for (const headers of refused) {
    const r = await overSocket(socketPath, 'GET', '/api/v1/namespaces', headers);
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.json.kind, 'Status');
    assert.equal(r.json.reason, 'Unauthorized');
  }
  await assert.rejects(s.server.listenLoopback(CONTROLLER_MANAGER), /already listening/);
});

test('the loopback socket is reachable by its owner only and removed when the server closes', async (t) => {
  const s = await startTestServer(t);
  const { socketPath } = await s.server.listenLoopback(CONTROLLER_MANAGER);
  assert.equal((await stat(path.dirname(socketPath))).mode & 0o777, 0o700);
  assert.equal((await stat(socketPath)).mode & 0o777, 0o600);
  await s.server.close();
  await assert.rejects(stat(path.dirname(socketPath)), { code: 'ENOENT' });
});

test("the controllers' REST client lists, writes and watches through the loopback socket", async (t) => {
  const s = await startTestServer(t);
  // The test server's authorizer allows system:masters only.
  const loopback = await s.server.listenLoopback({ username: 'loopback-test', groups: ['system:masters', 'system:authenticated'] });
  // The kubeconfig names a server the client must not use: everything goes through the socket.
  const client = new RestKubeClient({ cluster: { server: 'https://192.0.2.1:6443' }, user: {} }, { loopback });
  t.after(() => client.close());
  const configMaps = client.resource<ConfigMap>(RESOURCES.configMaps);
  const list = await configMaps.list({ namespace: 'default' });
  const events: string[] = [];
  let seen!: () => void;
  const added = new Promise<void>((r) => (seen = r));
  const watch = configMaps.watch({ namespace: 'default', resourceVersion: list.metadata.resourceVersion! }, (e) => {
    events.push(`${e.type} ${(e.object as ConfigMap).metadata.name}`);
    if (e.type === 'ADDED') seen();
  });
  t.after(() => watch.stop());
  const created = await configMaps.create({ metadata: { name: 'through-loopback', namespace: 'default' }, data: { a: 'b' } } as ConfigMap);
  assert.equal(created.metadata.name, 'through-loopback');
  await added;
  assert.deepEqual(events, ['ADDED through-loopback']);
  const review = await client.createSubjectAccessReview({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: { user: 'alice', resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: 'default' } },
  } as never);
  assert.equal(typeof review.status?.allowed, 'boolean');
  // Errors come back as the server's Status: a missing object, a stale resourceVersion.
  await assert.rejects(configMaps.get('missing', 'default'), (err: { code?: number; reason?: string }) => err.code === 404 && err.reason === 'NotFound');
  const stale = { ...created, metadata: { ...created.metadata, resourceVersion: '1' }, data: { a: 'c' } };
  await assert.rejects(configMaps.update(stale), (err: { code?: number; reason?: string }) => err.code === 409 && err.reason === 'Conflict');
  const updated = await configMaps.update({ ...created, data: { a: 'ü' } });
  assert.equal(updated.data?.['a'], 'ü');
});
