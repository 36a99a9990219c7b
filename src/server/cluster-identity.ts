// Which cluster a PKI belongs to, so that `serve` never silently starts an empty cluster on a PKI that
// already served one (a lost or unmounted database, a wrong --etcd-prefix): every CSR, bootstrap token and
// RBAC object would be gone while the nodes' certificates still verify. The cluster's identity is the UID of
// its kube-system namespace (the de-facto cluster ID in Kubernetes; kube-system cannot be deleted), kept in
// the storage as that namespace and next to the PKI in `pki/cluster-identity`, written at the first start.
// At each start the two must agree; an empty storage under a PKI with an identity is refused unless the
// operator passes --allow-empty-storage.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { KubepkiError } from '../util/errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import type { Logger } from '../util/logger.js';
import type { Storage } from '../storage/interface.js';
import { readBoundedFileSync } from '../util/bounded-file.js';

export const CLUSTER_IDENTITY_FILE = 'cluster-identity';
const KUBE_SYSTEM_KEY = '/registry/namespaces/kube-system';

interface IdentityRecord {
  /** metadata.uid of the kube-system namespace. */
  clusterUID: string;
  /** When the PKI first served this cluster (RFC 3339). */
  firstStarted: string;
}

export interface ClusterIdentityGuardOptions {
  /** The PKI directory (DIR/pki) the identity file lives in. */
  pkiDir: string;
  /** How the storage is named in messages: "the SQLite database DIR/kubepki.db", "etcd at ...". */
  storageName: string;
  /** The SQLite file, checked before it is opened (opening creates it). */
  sqlitePath?: string;
  /** --allow-empty-storage: an empty storage under a PKI with an identity starts a new cluster. */
  allowEmptyStorage: boolean;
  now: () => Date;
  logger: Logger;
}

export class ClusterIdentityGuard {
  private readonly file: string;
  private readonly recorded: IdentityRecord | null;
  private warned = false;

  constructor(private readonly o: ClusterIdentityGuardOptions) {
    this.file = path.join(o.pkiDir, CLUSTER_IDENTITY_FILE);
    this.recorded = readRecord(this.file);
  }

  /**
   * Before the storage opens (opening creates the file and writes its schema): a SQLite file that is missing,
   * or empty with no WAL that SQLite could recover it from, under a PKI with an identity.
   */
  checkBeforeOpen(): void {
    if (!this.recorded || !this.o.sqlitePath) return;
    const size = (f: string) => (existsSync(f) ? statSync(f).size : -1);
    const db = size(this.o.sqlitePath);
    if (db === -1) this.refuseEmpty('does not exist');
    else if (db === 0 && size(`${this.o.sqlitePath}-wal`) <= 0) this.refuseEmpty('is empty');
  }

  /** With the storage open: it must hold this PKI's cluster, or nothing on a first start. */
  async checkStorage(storage: Storage): Promise<void> {
    const stored = await kubeSystemUid(storage);
    if (!this.recorded) return;
    if (stored === null) {
      this.refuseEmpty('holds no cluster');
      return;
    }
    if (stored !== this.recorded.clusterUID) {
      throw new KubepkiError(
        'InvalidConfig',
        `${this.o.storageName} holds cluster ${stored} (the UID of its kube-system namespace), but the PKI in ${this.o.pkiDir} belongs to cluster ${this.recorded.clusterUID} (${this.file}): ` +
          `this storage is another cluster's. Point serve at this cluster's storage; if the PKI was moved to that cluster on purpose, delete ${this.file}`,
      );
    }
  }

  /** Once the system namespaces exist: records the identity next to the PKI at the first start. */
  async record(storage: Storage): Promise<void> {
    const uid = await kubeSystemUid(storage);
    if (uid === null || uid === this.recorded?.clusterUID) return;
    const record: IdentityRecord = { clusterUID: uid, firstStarted: this.o.now().toISOString() };
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
      this.o.logger.info({ clusterUID: uid, file: this.file }, 'recorded the cluster identity next to the PKI');
    } catch (err) {
      // A read-only PKI (a mounted Secret) still serves; the guard then cannot protect it.
      this.o.logger.warn({ file: this.file, err: (err as Error).message }, 'cannot record the cluster identity next to the PKI; an empty storage will not be detected');
    }
  }

  private refuseEmpty(state: string): void {
    const r = this.recorded!;
    if (this.o.allowEmptyStorage) {
      if (this.warned) return;
      this.warned = true;
      this.o.logger.warn(
        { clusterUID: r.clusterUID, firstStarted: r.firstStarted, storage: this.o.storageName },
        `${this.o.storageName} ${state}; starting a new, empty cluster on this PKI as --allow-empty-storage asks`,
      );
      return;
    }
    throw new KubepkiError(
      'InvalidConfig',
      `${this.o.storageName} ${state}, but the PKI in ${this.o.pkiDir} already served cluster ${r.clusterUID} (first started ${r.firstStarted}; ${this.file}). ` +
        'Starting would begin an empty cluster: every CSR, bootstrap token and RBAC object of that cluster would be gone. ' +
        'Restore the database or point serve at the right storage; to start an empty cluster on this PKI anyway, pass --allow-empty-storage',
    );
  }
}

function readRecord(file: string): IdentityRecord | null {
  let text: string;
  try {
    text = readBoundedFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new KubepkiError('FileInvalid', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: Partial<IdentityRecord>;
  try {
    parsed = JSON.parse(text) as Partial<IdentityRecord>;
  } catch {
    parsed = {};
  }
  if (typeof parsed.clusterUID !== 'string' || parsed.clusterUID === '' || typeof parsed.firstStarted !== 'string') {
    throw new KubepkiError('FileInvalid', `${file} is not a cluster identity ({"clusterUID": ..., "firstStarted": ...}); fix or delete it`);
  }
  return { clusterUID: parsed.clusterUID, firstStarted: parsed.firstStarted };
}

async function kubeSystemUid(storage: Storage): Promise<string | null> {
  const stored = await storage.get(KUBE_SYSTEM_KEY);
  if (!stored) return null;
  const uid = (JSON.parse(stored.value) as { metadata?: { uid?: unknown } }).metadata?.uid;
  return typeof uid === 'string' && uid !== '' ? uid : null;
}
