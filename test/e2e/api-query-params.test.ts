// Query parameters as apimachinery reads them, checked with a raw HTTPS client (not a Kubernetes client
// library, which would only ever send "true"): booleans are false only for "0"/"false" in any case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { openWatch, startTestServer } from '../api/helpers.js';

const CM = '/api/v1/namespaces/default/configmaps';

test('boolean query parameters: any value but 0/false (any case) is true', async (t) => {
  const s = await startTestServer(t, { watch: { bookmarkIntervalMs: 60_000 } });
  const agent = new https.Agent({ keepAlive: false, ca: s.pki.ca, cert: s.pki.admin.cert, key: s.pki.admin.key });
  t.after(() => agent.destroy());
  await s.request('POST', CM, { body: { metadata: { name: 'first' } } });

  for (const value of ['True', 'TRUE', 'yes', 'on', '']) {
    await t.test(`watch=${value} is a watch: the initial ADDED, then a later write`, async () => {
      const w = openWatch(s.url, `${CM}?watch=${value}&fieldSelector=metadata.name%3Dfirst`, agent);
      t.after(() => w.close());
      const added = await w.next();
      assert.equal(w.status, 200);
      assert.equal(added.type, 'ADDED');
      assert.equal(added.object.metadata.name, 'first');
      await s.request('PATCH', `${CM}/first`, { raw: JSON.stringify({ data: { v: value || 'empty' } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
      const modified = await w.next();
      assert.equal(modified.type, 'MODIFIED');
      assert.equal(modified.object.data.v, value || 'empty');
    });
  }

  for (const value of ['False', 'FALSE', '0']) {
    await t.test(`watch=${value} is a list`, async () => {
      const r = await s.request('GET', `${CM}?watch=${value}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.kind, 'ConfigMapList');
    });
  }

  await t.test('allowWatchBookmarks=True and sendInitialEvents=True: the initial events end with the bookmark', async () => {
    const w = openWatch(s.url, `${CM}?watch=True&allowWatchBookmarks=True&sendInitialEvents=TRUE&resourceVersionMatch=NotOlderThan&fieldSelector=metadata.name%3Dfirst`, agent);
    t.after(() => w.close());
    const added = await w.next();
    assert.equal(added.type, 'ADDED');
    const bookmark = await w.next();
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.equal(bookmark.object.metadata.annotations['k8s.io/initial-events-end'], 'true');
  });

  await t.test('sendInitialEvents=False from a resourceVersion: no initial events, only later changes', async () => {
    const list = await s.request('GET', CM);
    const w = openWatch(s.url, `${CM}?watch=1&sendInitialEvents=False&resourceVersionMatch=NotOlderThan&resourceVersion=${list.json.metadata.resourceVersion}`, agent);
    t.after(() => w.close());
    await s.request('POST', CM, { body: { metadata: { name: 'second' } } });
    const e = await w.next();
    assert.equal(e.type, 'ADDED');
    assert.equal(e.object.metadata.name, 'second');
  });
});
