// What kube-apiserver creates at start: the system namespaces. Idempotent and race-safe, so several
// replicas starting on one etcd all succeed.
import type { ApiHandler } from '../api/handler.js';
import type { Clock } from '../util/clock.js';
import { SYSTEM_NAMESPACES } from '../resources/namespaces.js';
import { ApiError } from '../apis/status.js';
import { GROUP_MASTERS, USER_APISERVER } from '../apis/names.js';

const SYSTEM_USER = { username: USER_APISERVER, groups: [GROUP_MASTERS] };

export async function ensureSystemNamespaces(handler: ApiHandler, clock: Clock): Promise<void> {
  const store = handler.storeFor('', 'v1', 'namespaces');
  if (!store) return;
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await store.create(
        '',
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { user: SYSTEM_USER, now: clock.now(), authorize: async () => ({ decision: 'allow', reason: '' }) },
        { dryRun: false },
      );
    } catch (err) {
      if (err instanceof ApiError && err.code === 409) continue;
      throw err;
    }
  }
}
