import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { MemoryStorage } from '../../src/storage/memory.js';
import { openWatch, startTestServer } from '../api/helpers.js';
import { until } from '../helpers/poll.js';

const CM = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

test('watch', async (t) => {
  const storage = new MemoryStorage({ historyLimit: 50 });
  t.after(() => storage.close());
  const s = await startTestServer(t, { storage, watch: { bookmarkIntervalMs: 100 } });
  const agent = new https.Agent({ keepAlive: false, ca: s.pki.ca, cert: s.pki.admin.cert, key: s.pki.admin.key });
  t.after(() => agent.destroy());

  await t.test('from a list\'s resourceVersion: ADDED, MODIFIED, DELETED in order with their resourceVersions', async () => {
    const list = await s.request('GET', CM);
    const w = openWatch(s.url, `${CM}?watch=1&resourceVersion=${list.json.metadata.resourceVersion}`, agent);
    t.after(() => w.close());
    const created = await s.request('POST', CM, { body: cm('a') });
    const updated = await s.request('PUT', `${CM}/a`, { body: { ...created.json, data: { k: 'v' } } });
    const deleted = await s.request('DELETE', `${CM}/a`);
    assert.equal(deleted.status, 200);
    const e1 = await w.next();
    const e2 = await w.next();
    const e3 = await w.next();
    assert.deepEqual([e1.type, e2.type, e3.type], ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(e1.object.metadata.resourceVersion, created.json.metadata.resourceVersion);
    assert.equal(e2.object.metadata.resourceVersion, updated.json.metadata.resourceVersion);
    assert.ok(Number(e3.object.metadata.resourceVersion) > Number(e2.object.metadata.resourceVersion));
    assert.equal(e3.object.data.k, 'v');
  });

  await t.test('a metadata.name field selector sees only that object', async () => {
    const w = openWatch(s.url, `${CM}?watch=true&fieldSelector=metadata.name%3Dwanted`, agent);
    t.after(() => w.close());
    await s.request('POST', CM, { body: cm('other') });
    await s.request('POST', CM, { body: cm('wanted') });
    const e = await w.next();
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.name, 'wanted');
    // A watch delivers in order: 'other' was created first, so had it passed the selector it would have come
    // before 'wanted'. No sleep needed to see that it did not.
    assert.equal(w.events.length, 1);
  });

  await t.test('without a resourceVersion it starts with ADDED for every existing object', async () => {
    const w = openWatch(s.url, `${CM}?watch=1`, agent);
    t.after(() => w.close());
    const names = [(await w.next()).object.metadata.name, (await w.next()).object.metadata.name].sort();
    assert.deepEqual(names, ['other', 'wanted']);
  });

  await t.test('a label selector turns relabelling into ADDED and DELETED', async () => {
    const list = await s.request('GET', CM);
    const w = openWatch(s.url, `${CM}?watch=1&labelSelector=tier%3Dweb&resourceVersion=${list.json.metadata.resourceVersion}`, agent);
    t.after(() => w.close());
    await s.request('PATCH', `${CM}/other`, { raw: '{"metadata":{"labels":{"tier":"web"}}}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    await s.request('PATCH', `${CM}/other`, { raw: '{"data":{"x":"1"}}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    await s.request('PATCH', `${CM}/other`, { raw: '{"metadata":{"labels":{"tier":"db"}}}', headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.deepEqual([(await w.next()).type, (await w.next()).type, (await w.next()).type], ['ADDED', 'MODIFIED', 'DELETED']);
  });

  await t.test('allowWatchBookmarks brings BOOKMARK events carrying a newer resourceVersion', async () => {
    const list = await s.request('GET', CM);
    const rv = Number(list.json.metadata.resourceVersion);
    const w = openWatch(s.url, `${CM}?watch=1&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dnobody&resourceVersion=${rv}`, agent);
    t.after(() => w.close());
    await s.request('POST', CM, { body: cm('bump') });
    let e = await w.next(3000);
    while (Number(e.object.metadata.resourceVersion) <= rv) e = await w.next(3000);
    assert.equal(e.type, 'BOOKMARK');
    assert.equal(e.object.kind, 'ConfigMap');
    assert.ok(Number(e.object.metadata.resourceVersion) > rv);
  });

  await t.test('a compacted resourceVersion answers an ERROR event with 410 Expired', async () => {
    for (let i = 0; i < 120; i++) await s.request('PATCH', `${CM}/bump`, { raw: JSON.stringify({ data: { i: String(i) } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
    const w = openWatch(s.url, `${CM}?watch=1&resourceVersion=2`, agent);
    t.after(() => w.close());
    const e = await w.next();
    assert.equal(w.status, 200);
    assert.equal(e.type, 'ERROR');
    assert.equal(e.object.code, 410);
    assert.equal(e.object.reason, 'Expired');
    assert.match(e.object.message, /^too old resource version: 2 \(\d+\)$/);
  });

  await t.test('timeoutSeconds ends the stream', async () => {
    const w = openWatch(s.url, `${CM}?watch=1&timeoutSeconds=1&resourceVersion=0`, agent);
    const started = Date.now();
    await until(() => w.ended, 'the server to end the watch', { intervalMs: 50 });
    assert.ok(Date.now() - started >= 900);
  });

  await t.test('a Table watch carries one-row tables (kubectl get -w)', async () => {
    const list = await s.request('GET', CM);
    const w = openWatch(s.url, `${CM}?watch=1&resourceVersion=${list.json.metadata.resourceVersion}`, agent, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    t.after(() => w.close());
    await s.request('POST', CM, { body: cm('tabled', {}, { a: '1', b: '2' }) });
    const e = await w.next();
    assert.equal(e.object.kind, 'Table');
    assert.deepEqual(e.object.rows[0].cells.slice(0, 2), ['tabled', 2]);
  });

  await t.test('a watch sees writes made while it was being set up (no gap between list and watch)', async () => {
    const list = await s.request('GET', CM);
    const rv = list.json.metadata.resourceVersion;
    await s.request('POST', CM, { body: cm('between') });
    const w = openWatch(s.url, `${CM}?watch=1&resourceVersion=${rv}`, agent);
    t.after(() => w.close());
    const e = await w.next();
    assert.equal(e.object.metadata.name, 'between');
  });
});

test('in-process observe(): a full list, then every change in order, for server components', async (t) => {
  const s = await startTestServer(t);
  await s.request('POST', CM, { body: cm('first') });
  const seen: string[] = [];
  let replaced: string[] = [];
  const handle = s.server.handler.observe({ group: '', version: 'v1', plural: 'configmaps' }, {
    replace: (objs) => (replaced = objs.map((o) => o.metadata.name!)),
    event: (type, obj) => seen.push(`${type} ${obj.metadata.name}`),
  });
  t.after(() => handle.close());
  await handle.synced;
  assert.deepEqual(replaced, ['first']);
  await s.request('POST', CM, { body: cm('second') });
  await s.request('DELETE', `${CM}/first`);
  await until(() => seen.length >= 2, 'both events', { intervalMs: 20 }).catch(() => undefined);
  assert.deepEqual(seen, ['ADDED second', 'DELETED first']);
  assert.equal((await s.server.handler.getObject({ group: '', version: 'v1', plural: 'configmaps' }, 'default', 'second'))?.metadata.name, 'second');
  assert.equal(await s.server.handler.getObject({ group: '', version: 'v1', plural: 'configmaps' }, 'default', 'first'), null);
});
