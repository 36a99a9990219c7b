import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { trimManagedFields } from '../../src/controllers/runtime/informer-transforms.js';
import { RESOURCES } from '../../src/client/interface.js';
import {FakeKubeClient, settle } from './fake-client.js';
import type { ConfigMap } from '../../src/apis/objects.js';
import { until } from '../helpers/poll.js';

function setup() {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const cms = client.resource<ConfigMap>(RESOURCES.configMaps);
  const events: string[] = [];
  const informer = new Informer<ConfigMap>({ name: 'cm', listerWatcher: cms, clock, pageSize: 2 });
  informer.addEventHandler({
    onAdd: (o) => events.push(`add ${o.metadata.namespace}/${o.metadata.name}`),
    onUpdate: (_a, b) => events.push(`update ${b.metadata.namespace}/${b.metadata.name}=${b.data?.['v']}`),
    onDelete: (o) => events.push(`delete ${o.metadata.namespace}/${o.metadata.name}`),
  });
  const cm = (ns: string, name: string, v = '1'): ConfigMap => ({ metadata: { name, namespace: ns }, data: { v } });
  return { clock, client, cms, events, informer, cm };
}

test('lists (paged), then delivers watch events from the list\'s resourceVersion', async (t) => {
  const { client, cms, events, informer, cm } = setup();
  for (const n of ['a', 'b', 'c']) await cms.create(cm('ns', n));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  assert.deepEqual(events.sort(), ['add ns/a', 'add ns/b', 'add ns/c']);
  assert.equal(informer.lastSyncResourceVersion, String(client.rv));
  events.length = 0;
  await until(() => client.watchCount === 1, 'watch');
  const b = await cms.get('b', 'ns');
  await cms.update({ ...b, data: { v: '2' } });
  await cms.delete('c', { namespace: 'ns' });
  await cms.create(cm('ns', 'd'));
  await settle();
  assert.deepEqual(events, ['update ns/b=2', 'delete ns/c', 'add ns/d']);
  assert.equal(informer.get('ns/b')!.data!['v'], '2');
  assert.equal(informer.get('ns/c'), undefined);
  assert.equal(informer.list().length, 3);
});

test('a watch that ends is resumed from the last resourceVersion without a relist', async (t) => {
  const { client, cms, events, informer, cm } = setup();
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => client.watchCount === 1, 'condition');
  await cms.create(cm('ns', 'x'));
  client.endWatches();
  await cms.create(cm('ns', 'y')); // happens while no watch is open
  await until(() => events.includes('add ns/y'), 'missed event replayed');
  assert.equal(informer.stats.lists, 1);
  assert.ok(informer.stats.watches >= 2);
});

test('410 Gone relists and delivers exactly the differences', async (t) => {
  const { clock, client, cms, events, informer, cm } = setup();
  await cms.create(cm('ns', 'keep'));
  await cms.create(cm('ns', 'change'));
  await cms.create(cm('ns', 'remove'));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => client.watchCount === 1, 'condition');
  events.length = 0;
  // Changes the informer never sees as events (a partition), then the history is compacted.
  client.muted = true;
  const ch = await cms.get('change', 'ns');
  await cms.update({ ...ch, data: { v: '9' } });
  await cms.delete('remove', { namespace: 'ns' });
  await cms.create(cm('ns', 'new'));
  clock.advance(60_000); // the watch has been open a while
  client.compactAndExpireWatches();
  await until(() => informer.stats.relistsOnGone >= 1 && events.length >= 3, 'relist');
  assert.deepEqual(events.sort(), ['add ns/new', 'delete ns/remove', 'update ns/change=9']);
  assert.equal(informer.stats.lists, 2);
});

test('an ERROR 410 event on an open watch also relists', async (t) => {
  const { clock, client, informer } = setup();
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => client.watchCount === 1, 'condition');
  clock.advance(60_000);
  client.compactAndExpireWatches();
  await until(() => informer.stats.lists === 2, 'relist after ERROR event');
});

test('bookmarks advance the resourceVersion without touching the cache', async (t) => {
  const { client, cms, events, informer, cm } = setup();
  await cms.create(cm('other', 'o'));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => client.watchCount === 1, 'condition');
  events.length = 0;
  client.rv += 50; // writes to other resources move the global revision
  client.bookmark(RESOURCES.configMaps);
  await settle();
  assert.equal(informer.lastSyncResourceVersion, String(client.rv));
  assert.equal(informer.stats.bookmarks, 1);
  assert.deepEqual(events, []);
});

test('list failures back off on the injected clock and recover', async (t) => {
  const { clock, informer, cms, cm } = setup();
  let fail = 2;
  const real = cms.list.bind(cms);
  (cms as { list: typeof cms.list }).list = async (o) => {
    if (fail-- > 0) throw new Error('connection refused');
    return real(o);
  };
  await cms.create(cm('ns', 'a'));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await settle();
  assert.equal(informer.hasSynced(), false);
  await until(() => clock.pendingSleeps > 0, 'condition');
  clock.advance(800);
  await settle();
  await until(() => clock.pendingSleeps > 0, 'condition');
  clock.advance(1600);
  await informer.waitForSync();
  assert.equal(informer.get('ns/a')!.metadata.name, 'a');
});

test('a handler added after sync receives the current objects as adds', async (t) => {
  const { cms, informer, cm } = setup();
  await cms.create(cm('ns', 'a'));
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  const late: string[] = [];
  informer.addEventHandler({ onAdd: (o) => late.push(o.metadata.name!) });
  assert.deepEqual(late, ['a']);
});

test('a server that answers every watch with 410 right after a list is not hammered: relists back off', async (t) => {
  const { clock, client, informer } = setup();
  const ac = new AbortController();
  t.after(() => ac.abort());
  client.compactedRV = Number.MAX_SAFE_INTEGER; // every watch is "too old"
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => clock.pendingSleeps > 0, 'backoff sleep');
  assert.equal(informer.stats.lists, 1, 'no second list before the backoff elapses');
  clock.advance(800);
  await until(() => informer.stats.lists === 2, 'relist after backoff');
});

test('a transform (trimManagedFields, as kube-controller-manager sets) applies to listed and watched objects before cache and handlers', async (t) => {
  const clock = new FakeClock();
  const client = new FakeKubeClient();
  const cms = client.resource<ConfigMap>(RESOURCES.configMaps);
  const managedFields = [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': {} } }];
  await cms.create({ metadata: { name: 'listed', namespace: 'ns', managedFields, labels: { l: '1' } }, data: { v: '1' } });
  const informer = new Informer<ConfigMap>({ name: 'cm', listerWatcher: cms, clock, pageSize: 1, transform: trimManagedFields });
  const seen: ConfigMap[] = [];
  informer.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_a, b) => seen.push(b) });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  await until(() => client.watchCount === 1, 'watch');
  await cms.create({ metadata: { name: 'watched', namespace: 'ns', managedFields }, data: { v: '2' } });
  await until(() => informer.get('ns/watched') !== undefined, 'watched object cached');
  for (const key of ['ns/listed', 'ns/watched']) {
    const o = informer.get(key)!;
    assert.equal(o.metadata.managedFields, undefined, key);
    assert.ok(!('managedFields' in o.metadata), key);
    assert.ok(o.metadata.resourceVersion, key);
  }
  assert.deepEqual(informer.get('ns/listed')!.metadata.labels, { l: '1' });
  assert.deepEqual(seen.map((o) => [o.metadata.name, o.metadata.managedFields]), [['listed', undefined], ['watched', undefined]]);
});
