// Storage events as Kubernetes watch events (kube's cacheWatcher.convertToWatchEvent): which of ADDED,
// MODIFIED, DELETED a watcher with a selector sees for one storage put or delete. A storage event is decoded
// lazily and once for all watchers that receive it (the decoded form is memoized on the event object, which
// every subscriber of a storage watch — the watch cache's fan-out included — receives as the same object).
import type { WatchEvent } from '../storage/interface.js';
import type { KubeObject } from '../apis/index.js';
import { withResourceVersion } from './store.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One storage event, raw until a watcher needs the decoded object. */
export class CachedEvent {
  private obj: KubeObject | undefined;
  private prev: KubeObject | null | undefined;
  private json: string | undefined;
  constructor(
    readonly raw: WatchEvent,
    readonly namespace: string,
    readonly name: string,
    private readonly decode: (value: string, revision: number) => KubeObject,
  ) {}
  get revision(): number {
    return this.raw.revision;
  }
  /** The object after the event; for a delete, the deleted object with the delete's resourceVersion. */
  get object(): KubeObject {
    if (!this.obj) {
      this.obj =
        this.raw.type === 'put'
          ? this.decode(this.raw.value!, this.raw.revision)
          : this.decode(this.raw.prevValue ?? '{"metadata":{}}', this.raw.revision);
    }
    return this.obj;
  }
  /** The object before a put (null for a create or when the backend did not say). */
  get prevObject(): KubeObject | null {
    if (this.prev === undefined) {
      this.prev = this.raw.type === 'put' && this.raw.prevValue !== undefined ? this.decode(this.raw.prevValue, this.raw.revision) : null;
    }
    return this.prev;
  }
  /** True when the key did not exist before this put. */
  get isCreate(): boolean {
    return this.raw.type === 'put' && (this.raw.createRevision === this.raw.revision || (this.raw.createRevision === undefined && this.raw.prevValue === undefined));
  }
  /** JSON of `object`, made once for all watchers (from the stored bytes when it can be, without decoding). */
  get objectJson(): string {
    if (this.json === undefined) {
      const stored = this.raw.type === 'put' ? this.raw.value : this.raw.prevValue;
      this.json = (stored !== undefined ? withResourceVersion(stored, this.raw.revision) : null) ?? JSON.stringify(this.object);
    }
    return this.json;
  }
}

const decoded = new WeakMap<WatchEvent, CachedEvent>();

/**
 * The decoded view of a storage event of one resource (`resourcePrefix` = `/registry/<plural>/`), shared by
 * every watcher that gets the same event object.
 */
export function cachedEvent(raw: WatchEvent, resource: { prefix: string; namespaced: boolean; decode: (value: string, revision: number) => KubeObject }): CachedEvent {
  let ev = decoded.get(raw);
  if (ev) return ev;
  const rest = raw.key.slice(resource.prefix.length);
  let namespace = '';
  let name = rest;
  if (resource.namespaced) {
    const slash = rest.indexOf('/');
    namespace = rest.slice(0, slash);
    name = rest.slice(slash + 1);
  }
  ev = new CachedEvent(raw, namespace, name, resource.decode);
  decoded.set(raw, ev);
  return ev;
}

export interface WatchSubscriber {
  /** Only objects in this namespace (undefined = all). */
  namespace: string | undefined;
  /** Only this object name (from a metadata.name field selector). */
  name: string | undefined;
  /** Events with revision <= this are skipped (they were part of the initial state or the list). */
  afterRevision: number;
  /** Label and field selector. */
  matches(obj: KubeObject): boolean;
  /** True when the namespace and name filters above are the whole selection (nothing to decode to match). */
  matchesEverything?: boolean;
  /** `event` when the object is the event's (its `object`, decoded lazily); else `obj` is a derived object. */
  send(type: WatchEventType, event: CachedEvent | null, obj?: KubeObject): void;
}

/** Decides the watch event a subscriber sees for a storage event (kube's cacheWatcher.convertToWatchEvent). */
export function dispatchEvent(sub: WatchSubscriber, ev: CachedEvent): void {
  if (ev.revision <= sub.afterRevision) return;
  if (sub.namespace !== undefined && sub.namespace !== ev.namespace) return;
  if (sub.name !== undefined && sub.name !== ev.name) return;
  if (sub.matchesEverything) {
    sub.send(ev.raw.type === 'delete' ? 'DELETED' : ev.isCreate ? 'ADDED' : 'MODIFIED', ev);
    return;
  }
  if (ev.raw.type === 'delete') {
    if (sub.matches(ev.object)) sub.send('DELETED', ev);
    return;
  }
  const cur = sub.matches(ev.object);
  let prev: boolean;
  if (ev.isCreate) prev = false;
  else {
    const p = ev.prevObject;
    prev = p === null ? cur : sub.matches(p);
  }
  if (cur && prev) sub.send('MODIFIED', ev);
  else if (cur) sub.send('ADDED', ev);
  else if (prev) {
    const old = structuredClone(ev.prevObject!);
    old.metadata.resourceVersion = String(ev.revision);
    sub.send('DELETED', null, old);
  }
}
