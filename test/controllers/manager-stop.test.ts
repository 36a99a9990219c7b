// Stopping the controller manager at every step of taking the lease and starting the term (lease get,
// lease create, each informer's list, each watch...) must finish promptly and leave nothing running: no
// watch, no timer, the lease released, no controller started after the stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { ControllerManager } from '../../src/controllers/manager.js';
import { RESOURCES, type ResourceClient, type ResourceRef } from '../../src/client/interface.js';
import { FakeKubeClient, settle } from './fake-client.js';
import { testCA } from './fixtures.js';
import { pino } from 'pino';
import type { KubeObject, Lease, Namespace } from '../../src/apis/objects.js';

/** A FakeKubeClient that reports every call (as it starts, before it answers) to `onCall`. */
class SteppedClient extends FakeKubeClient {
  readonly calls: string[] = [];
  onCall: (what: string) => void = () => undefined;
  override resource<T extends KubeObject>(ref: ResourceRef): ResourceClient<T> {
    const inner = super.resource<T>(ref);
    const step = (verb: string) => {
      this.calls.push(`${verb} ${ref.resource}`);
      this.onCall(`${verb} ${ref.resource}`);
    };
    return {
      list: async (o) => (step('list'), inner.list(o)),
      watch: (o, on) => (step('watch'), inner.watch(o, on)),
      get: async (n, ns) => (step('get'), inner.get(n, ns)),
      create: async (obj) => (step('create'), inner.create(obj)),
      update: async (obj, sub) => (step('update'), inner.update(obj, sub)),
      updateWithoutResult: async (obj, sub) => (step('update'), inner.updateWithoutResult(obj, sub)),
      delete: async (n, o) => (step('delete'), inner.delete(n, o)),
    };
  }
}

const ca = testCA('ECDSA-P256');

async function setup() {
  /** Log messages in order; the test marks its stop with STOP. */
  const log: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void log.push((JSON.parse(line) as { msg: string }).msg) });
  const clock = new FakeClock(new Date('2026-05-01T00:00:00Z'));
  const client = new SteppedClient();
  await client.resource<Namespace>(RESOURCES.namespaces).create({ metadata: { name: 'default' } });
  client.calls.length = 0;
  const { authority, certificate } = await ca;
  const manager = await ControllerManager.create({
    client,
    clock,
    signing: { authorities: new Map([['kubernetes.io/kube-apiserver-client-kubelet', authority]]) },
    rootCA: certificate.pem,
    clusterInfo: { server: 'https://127.0.0.1:6443', caPem: certificate.pem },
    controllers: ['*', 'bootstrapsigner', 'tokencleaner'],
    leaderElection: { enabled: true, identity: 'replica-a' },
    logger,
  });
  return { clock, client, manager, log };
}

/** Resolves true if `p` settles within `ms` of real time. The clock is fake, so a run that does not stop never
 * settles: the bound only catches that hang, and is long enough for a machine ten times slower. */
const within = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

test('stop() at every step of acquiring the lease and starting the controllers finishes at once and leaves nothing running', async () => {
  // A run that is not stopped: the calls up to a fully started term (lease, lists, watches, controllers).
  const calibrate = await setup();
  const ac0 = new AbortController();
  const run0 = calibrate.manager.run(ac0.signal);
  await settle(50);
  assert.ok(calibrate.manager.runnables.length >= 5, 'the term started its controllers');
  assert.ok(calibrate.client.watchCount >= 4, 'the informers watch');
  const steps = [...calibrate.client.calls];
  ac0.abort();
  assert.ok(await within(run0, 10_000), 'a started manager stops');
  assert.ok(steps.includes('create leases') && steps.filter((s) => s.startsWith('watch')).length >= 4, steps.join(', '));

  // Now stop at each of those calls, while it is in flight.
  for (let k = 0; k <= steps.length; k++) {
    const { clock, client, manager, log } = await setup();
    const ac = new AbortController();
    const stop = () => {
      log.push('STOP');
      ac.abort();
    };
    client.onCall = () => {
      if (client.calls.length - 1 === k) stop();
    };
    const running = manager.run(ac.signal);
    if (k === steps.length) {
      await settle(50);
      stop();
    }
    const at = `stop at step ${k} (${steps[k] ?? 'after start'})`;
    assert.ok(await within(running, 10_000), `${at}: run() resolves promptly`);
    await settle();
    assert.equal(client.watchCount, 0, `${at}: no watch left open`);
    assert.equal(clock.pendingSleeps, 0, `${at}: no timer left pending`);
    for (const inf of manager.informers) {
      // An informer of the stopped term reacts to nothing anymore: a new watch would show up in watchCount.
      client.endWatches();
      await settle(5);
      assert.equal(client.watchCount, 0, `${at}: informer ${inf.constructor.name} restarted no watch`);
    }
    const afterStop = log.slice(log.indexOf('STOP'));
    assert.ok(!afterStop.includes('acquired lease'), `${at}: no lease acquired after the stop (${afterStop.join(', ')})`);
    assert.ok(!afterStop.includes('controllers started'), `${at}: no controller started after the stop (${afterStop.join(', ')})`);
    if (k < steps.length) assert.ok(log.includes('STOP'), `${at}: the stop happened`);
    const lease = await client.resource<Lease>(RESOURCES.leases).get('kube-controller-manager', 'kube-system').catch(() => undefined);
    if (lease) assert.equal(lease.spec.holderIdentity, '', `${at}: the lease taken is released`);
    const metrics = await manager.metrics.registry.metrics();
    assert.doesNotMatch(metrics, /leader_election_master_status\{lease="kube-controller-manager"\} 1/, `${at}: not reported as leader`);
  }
});
