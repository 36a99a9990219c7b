// One client watch as an HTTP response: a chunked stream of JSON lines {"type","object"} (ADDED, MODIFIED,
// DELETED, BOOKMARK, ERROR), fed by a storage watch (a compacted revision is an ERROR 410 event, as
// kube-apiserver answers; storage progress notifications become bookmarks). A client that cannot keep up
// is disconnected rather than buffered forever.
import type { ServerResponse } from 'node:http';
import type { Storage, WatchHandle } from '../storage/interface.js';
import { StorageError } from '../storage/errors.js';
import type { KubeObject } from '../apis/index.js';
import { cachedEvent, dispatchEvent, type CachedEvent, type WatchEventType, type WatchSubscriber } from './watch-event.js';
import { ApiError, internalError, resourceExpired, type Status } from '../apis/status.js';

/** setTimeout's longest delay (2^31-1 ms, ~24.8 days); a longer one fires at once with a TimeoutOverflowWarning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Bytes queued for a slow client before its watch is closed. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

export interface WatchStreamOptions {
  res: ServerResponse;
  namespace: string | undefined;
  name: string | undefined;
  afterRevision: number;
  matches(obj: KubeObject): boolean;
  /** The namespace/name filters are the whole selection. */
  matchesEverything: boolean;
  /** Renders an object for this client (plain JSON objects pass through unchanged). */
  transform?: (obj: KubeObject, first: boolean) => unknown;
  /** apiVersion/kind for BOOKMARK objects. */
  apiVersion: string;
  kind: string;
  bookmarks: boolean;
  timeoutMs: number;
  onClose: () => void;
}

export class WatchStream implements WatchSubscriber {
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  afterRevision: number;
  readonly matchesEverything: boolean;
  /** Highest revision sent to the client (event or bookmark). */
  lastRevision: number;
  private closed = false;
  private first = true;
  private corked = false;
  private timer: NodeJS.Timeout | undefined;
  private direct: WatchHandle | undefined;

  constructor(private readonly o: WatchStreamOptions) {
    this.namespace = o.namespace;
    this.name = o.name;
    this.afterRevision = o.afterRevision;
    this.lastRevision = o.afterRevision;
    this.matchesEverything = o.matchesEverything;
    o.res.on('close', () => this.close());
  }

  get wantsBookmarks(): boolean {
    return this.o.bookmarks && !this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends the response headers; events follow as they come. */
  open(): void {
    const res = this.o.res;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    this.timer = setTimeout(() => this.close(), Math.min(this.o.timeoutMs, MAX_TIMER_MS));
    this.timer.unref();
  }

  matches(obj: KubeObject): boolean {
    return this.o.matches(obj);
  }

  send(type: WatchEventType, event: CachedEvent | null, obj?: KubeObject): void {
    if (this.closed) return;
    let line: string;
    if (!this.o.transform && event) line = `{"type":"${type}","object":${event.objectJson}}\n`;
    else {
      const o = event ? event.object : obj!;
      line = `${JSON.stringify({ type, object: this.o.transform ? this.o.transform(o, this.first) : o })}\n`;
    }
    this.first = false;
    const rv = event ? event.revision : Number(obj?.metadata?.resourceVersion ?? 0);
    if (rv > this.lastRevision) this.lastRevision = rv;
    this.write(line);
  }

  /** A BOOKMARK: nothing changed for this watch up to `revision`. */
  bookmark(revision: number, annotations?: Record<string, string>): void {
    if (this.closed || revision <= this.lastRevision) return;
    this.lastRevision = revision;
    const metadata: Record<string, unknown> = { resourceVersion: String(revision), creationTimestamp: null };
    if (annotations) metadata['annotations'] = annotations;
    this.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: this.o.kind, apiVersion: this.o.apiVersion, metadata } })}\n`);
  }

  /** An ERROR event carrying a Status, then the end of the stream. */
  error(status: Status): void {
    if (this.closed) return;
    this.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    this.close();
  }

  /** Watches storage from afterRevision; `prefix` covers everything the watch selects. */
  watchStorage(storage: Storage, options: { prefix: string; resource: { prefix: string; namespaced: boolean; decode: (value: string, revision: number) => KubeObject } }): void {
    const { prefix, resource } = options;
    this.direct = storage.watch(prefix, {
      afterRevision: this.afterRevision,
      onEvent: (raw) => dispatchEvent(this, cachedEvent(raw, resource)),
      onError: (err) => {
        if (err instanceof StorageError && err.code === 'Compacted') {
          storage.compactedRevision().then(
            (oldest) => this.error(resourceExpired(`too old resource version: ${this.afterRevision} (${oldest})`).status),
            () => this.error(resourceExpired(`too old resource version: ${this.afterRevision}`).status),
          );
        } else if (err instanceof StorageError && err.code === 'Unavailable') this.close(); // the client re-lists
        else if (err instanceof ApiError) this.error(err.status);
        else this.error(internalError(err).status);
      },
      onProgress: this.o.bookmarks ? (rev) => this.bookmark(rev) : undefined,
    });
  }

  private write(line: string): void {
    const res = this.o.res;
    // Events of one event-loop turn go out together (one TLS record and syscall instead of one per event).
    if (!this.corked) {
      this.corked = true;
      res.cork();
      setImmediate(() => {
        this.corked = false;
        res.uncork();
      });
    }
    res.write(line);
    if (res.writableLength > MAX_BUFFERED_BYTES) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.direct?.close();
    this.o.onClose();
    const res = this.o.res;
    if (!res.writableEnded) res.end();
  }
}
