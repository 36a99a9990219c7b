// Each `serve` replica with a data directory follows a CA rotation through the shared storage, so a rotation
// run on any one control-plane node reaches every replica (issue 12 item 4): it watches the rotation state
// object (kube-system/kubepki-ca-rotation) with the server's in-process informer, applies every recorded
// step that changes a node's files to its OWN data directory (cluster/ca-rotation/files.ts: the same code
// `kubepki ca rotate` runs, so this replica's serving certificate is re-issued for its own names, from its
// own copy of the CA), reloads what it wrote at once (dynamic-certs.ts), and then says so in its replica
// Lease (cluster/ca-rotation/replicas.ts). The command waits for every live replica's word before each next
// step. What it applied is also kept next to the PKI (pki/ca-rotation-applied), so a restart does not apply
// a step twice. The new keys it needs come sealed in the state object, and it unseals them with its own
// copy of the old CA key.
import os from 'node:os';
import path from 'node:path';
import type { ApiHandler, ResourceRef } from '../api/handler.js';
import type { KubeObject, Lease } from '../apis/objects.js';
import { ApiError } from '../apis/status.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { Logger } from '../util/logger.js';
import { formatMicroTime } from '../util/time.js';
import { readOptional } from '../cluster/pki-dir.js';
import { STEPS } from '../cluster/ca-rotation/plan.js';
import { decodeState, STATE_NAME, STATE_NAMESPACE, unsealKeys } from '../cluster/ca-rotation/state.js';
import { FILE_STEPS, findOldCAKey, sameCertSet, STEPS_NEEDING_KEYS } from '../cluster/ca-rotation/files.js';
import {
  APPLIED_ANNOTATION, REPLICA_LABEL, REPLICA_LABEL_VALUE, REPLICA_LEASE_SECONDS, REPLICA_NAMESPACE, REPLICA_RENEW_MS, URL_ANNOTATION, lastRecordedStep, replicaLeaseName,
} from '../cluster/ca-rotation/replicas.js';

const SECRETS: ResourceRef = { group: '', version: 'v1', plural: 'secrets' };
const APPLIED_FILE = 'ca-rotation-applied';

interface Applied {
  startedAt: string;
  step: string;
}

export interface CARotationFollowerOptions {
  dataDir: string;
  /** The URL other nodes reach this replica at (its lease names it). */
  url: string;
  handler: ApiHandler;
  /** Re-reads the reloadable material now (after files were written). */
  reload(): Promise<void>;
  logger: Logger;
}

export interface CARotationFollower {
  stop(): Promise<void>;
}

export function startCARotationFollower(o: CARotationFollowerOptions): CARotationFollower {
  const { handler, logger } = o;
  const leases = handler.storeFor('coordination.k8s.io', 'v1', 'leases');
  const name = replicaLeaseName(os.hostname(), o.url);
  const appliedFile = path.join(o.dataDir, 'pki', APPLIED_FILE);
  let applied: Applied | undefined;
  let stopped = false;
  let chain: Promise<void> = Promise.resolve();
  const enqueue = (fn: () => Promise<void>) => {
    chain = chain.then(fn).catch((err: unknown) => logger.error({ err: (err as Error).message, lease: name }, 'CA rotation: cannot follow the rotation on this replica; retrying with the next change or heartbeat'));
    return chain;
  };

  /** Creates or renews this replica's lease, with what it applied. */
  const heartbeat = async () => {
    if (!leases || stopped) return;
    const ctx = handler.systemContext();
    const annotations = { [URL_ANNOTATION]: o.url, ...(applied ? { [APPLIED_ANNOTATION]: `${applied.startedAt} ${applied.step}` } : {}) };
    const spec = { holderIdentity: name, leaseDurationSeconds: REPLICA_LEASE_SECONDS, renewTime: formatMicroTime(new Date()) };
    let existing: KubeObject | undefined;
    try {
      existing = await leases.get(REPLICA_NAMESPACE, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    if (!existing) {
      const lease: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: REPLICA_NAMESPACE, labels: { [REPLICA_LABEL]: REPLICA_LABEL_VALUE, 'kubernetes.io/hostname': os.hostname() }, annotations },
        spec: { ...spec, acquireTime: spec.renewTime },
      };
      await leases.create(REPLICA_NAMESPACE, lease, ctx, { dryRun: false });
      return;
    }
    const lease = existing as Lease;
    await leases.update(REPLICA_NAMESPACE, name, { ...lease, metadata: { ...lease.metadata, annotations: { ...(lease.metadata.annotations ?? {}), ...annotations } }, spec: { ...lease.spec, ...spec } }, ctx, { dryRun: false });
  };

  const record = async (a: Applied) => {
    applied = a;
    await writeFileAtomic(appliedFile, `${JSON.stringify(a)}\n`, { mode: 0o600 });
    await heartbeat();
  };

  /** Applies what the state records and this replica has not applied yet, in plan order. */
  const follow = async (object: KubeObject & { data?: Record<string, string> }) => {
    const data = object.data ?? {};
    const { state, material } = decodeState(data);
    if (!state.startedAt) return;
    const last = lastRecordedStep(state);
    if (!last) return;
    const from = applied?.startedAt === state.startedAt ? STEPS.findIndex((s) => s.name === applied!.step) + 1 : 0;
    if (from === 0 && state.completedAt) {
      // A finished rotation first seen now (this replica started after it): nothing to do if it is on the new CA.
      const ca = (await readOptional(path.join(o.dataDir, 'pki', 'ca.crt'))) ?? '';
      if (ca && sameCertSet(ca, material.newCA)) {
        await record({ startedAt: state.startedAt, step: last });
        return;
      }
      logger.error({ startedAt: state.startedAt }, 'CA rotation: this replica missed a whole CA rotation (its ca.crt is not the new CA); copy DIR/pki from a control-plane node that took part');
      return;
    }
    const todo = STEPS.slice(from).filter((s) => state.steps[s.name]);
    if (todo.length === 0) return;
    let keys: ReturnType<typeof unsealKeys> | undefined;
    for (const step of todo) {
      const run = FILE_STEPS[step.name];
      if (run) {
        if (STEPS_NEEDING_KEYS.has(step.name) && !keys) keys = unsealKeys(data, material, await findOldCAKey(o.dataDir, state, material.oldCA));
        await run({ dataDir: o.dataDir, state, material: { ...material, ...(keys ?? {}) } });
        await o.reload();
        logger.info({ step: `${step.phase}/${step.name}` }, 'CA rotation: applied to this replica and reloaded');
      }
      await record({ startedAt: state.startedAt, step: step.name });
    }
  };

  const onObject = (obj: KubeObject) => {
    if (obj.metadata.namespace !== STATE_NAMESPACE || obj.metadata.name !== STATE_NAME) return;
    void enqueue(() => follow(obj));
  };
  void enqueue(async () => {
    const text = await readOptional(appliedFile);
    if (text) applied = JSON.parse(text) as Applied;
    await heartbeat();
  });
  const observer = handler.observe(SECRETS, {
    replace: (objs) => objs.forEach(onObject),
    event: (type, obj) => {
      if (type !== 'DELETED') onObject(obj);
    },
  });
  // The lease says this replica is alive; a state change missed meanwhile is taken again at each beat.
  const timer = setInterval(() => {
    void enqueue(async () => {
      await heartbeat();
      const obj = await handler.getObject(SECRETS, STATE_NAMESPACE, STATE_NAME);
      if (obj) await follow(obj);
    });
  }, REPLICA_RENEW_MS);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      observer.close();
      await chain;
    },
  };
}
