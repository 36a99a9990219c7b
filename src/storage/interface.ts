// The storage contract every backend fulfils (see shared/design.md): etcd's model of keys, one global
// strictly increasing revision, compare-and-swap writes and ordered, gap-free watches from a revision.
// Values are opaque strings (JSON documents of Kubernetes objects); backends know nothing of Kubernetes.

/** One stored key as read at some revision. */
export interface StoredValue {
  key: string;
  value: string;
  /** Revision of the write that created the key (etcd's create_revision). */
  createRevision: number;
  /** Revision of the last write to the key (etcd's mod_revision); becomes metadata.resourceVersion. */
  modRevision: number;
}

export interface ListOptions {
  /** Maximum number of keys to return; 0 or absent = all. */
  limit?: number;
  /** Return only keys strictly greater than this one (the continue token's position). */
  startAfter?: string;
  /** Read as of this revision (for consistent paging); absent = latest. Older than compaction → CompactedError. */
  revision?: number;
}

export interface ListResult {
  items: StoredValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when more keys exist after the last returned one. */
  more: boolean;
  /** Number of keys remaining after this page when known (etcd gives it; used for remainingItemCount). */
  remaining?: number;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  type: WatchEventType;
  key: string;
  /** New value for put; absent for delete. */
  value?: string;
  /** Previous value: the old object for an update, the deleted object for a delete. */
  prevValue?: string;
  /** Revision of this event (the write's revision). For a delete, the deleting revision. */
  revision: number;
  /** For a put: the create revision of the key (== revision for a new key). */
  createRevision?: number;
}

export interface WatchHandle {
  close(): void;
}

export interface WatchOptions {
  /** Deliver every event with revision > afterRevision, in order. Too old → onError(CompactedError). */
  afterRevision: number;
  onEvent: (event: WatchEvent) => void;
  /** Called at most once; the watch is dead afterwards. */
  onError: (err: Error) => void;
  /**
   * Periodic progress notification carrying the current revision with no event (etcd's progress notify),
   * used for watch bookmarks. Optional for backends.
   */
  onProgress?: (revision: number) => void;
}

export interface Storage {
  readonly kind: 'sqlite' | 'etcd' | 'memory';
  get(key: string): Promise<StoredValue | null>;
  /** Keys with the given prefix, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Count keys with the prefix (for /metrics and for remainingItemCount). */
  count(prefix: string): Promise<number>;
  /** Create; fails with KeyExistsError when the key exists. Returns the new revision. */
  create(key: string, value: string): Promise<number>;
  /**
   * Compare-and-swap update: succeeds only if the key's modRevision equals expectedRevision.
   * NotFoundError when missing, ConflictError when the revision differs. Returns the new revision.
   */
  update(key: string, value: string, expectedRevision: number): Promise<number>;
  /**
   * Delete; with expectedRevision it is a compare-and-swap. Returns the deleted value and the revision
   * of the delete. NotFoundError / ConflictError as for update.
   */
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; prev: StoredValue }>;
  /** Watch every key with the prefix. */
  watch(prefix: string, options: WatchOptions): WatchHandle;
  /** The latest revision of the whole store. */
  currentRevision(): Promise<number>;
  /** Oldest revision still watchable/readable; requests before it get CompactedError (HTTP 410). */
  compactedRevision(): Promise<number>;
  close(): Promise<void>;
}
