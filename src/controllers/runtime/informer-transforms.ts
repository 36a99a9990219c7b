// What the controller manager's shared informers do to each object before caching it (client-go's
// TransformFunc): with 100,000 CSRs cached, the decoded objects are most of serve's memory (bench:memory).
import type { KubeObject } from '../../apis/objects.js';

/**
 * Drops metadata.managedFields, as kube-controller-manager's shared informers do "for memory efficiency":
 * controllers never read them, and the server keeps the stored object's own on every write. For an issued
 * CSR they are about 40% of the decoded object.
 */
export function trimManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj?.metadata || obj.metadata.managedFields === undefined) return obj;
  // A new metadata object rather than `delete`, which would leave the object in V8's slower, larger dictionary mode.
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/**
 * Fields whose values repeat across objects (enumerations, signer names, usages, requesters, condition
 * reasons and messages). JSON.parse gives every object its own copy of each string; sharing one copy saves
 * about a fifth of a cached issued CSR.
 */
const REPEATED_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'signerName', 'usages', 'username', 'groups', 'type', 'status', 'reason', 'message']);
/** Distinct strings kept for sharing; beyond it new strings are no longer remembered (the table never grows unbounded). */
const MAX_SHARED = 4096;
const MAX_SHARED_LENGTH = 256;
const shared = new Map<string, string>();

function share(s: string): string {
  if (s.length > MAX_SHARED_LENGTH) return s;
  const known = shared.get(s);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(s, s);
  return s;
}

/**
 * Timestamps (creation, condition updates): a burst of requests (a node bootstrap storm) shares seconds, but
 * over time every value is new, so they get their own table, emptied when full rather than filled for good.
 */
const TIME_FIELDS = new Set(['creationTimestamp', 'lastUpdateTime', 'lastTransitionTime']);
const recentTimes = new Map<string, string>();

function shareTime(s: string): string {
  const known = recentTimes.get(s);
  if (known !== undefined) return known;
  if (recentTimes.size >= MAX_SHARED) recentTimes.clear();
  recentTimes.set(s, s);
  return s;
}

/**
 * Arrays of repeated strings (usages, groups) equal to one seen before become that one array, frozen: the
 * cache is never written in place (handlers deep-copy first, and deepCopy's copies are not frozen), and a
 * write that tried would throw instead of changing every request sharing it.
 */
const sharedArrays = new Map<string, readonly string[]>();

function shareArray(a: unknown[]): unknown[] {
  if (a.length === 0 || a.length > 16 || !a.every((e) => typeof e === 'string' && e.length <= MAX_SHARED_LENGTH && !e.includes('\u0000'))) return a;
  const key = a.join('\u0000');
  const known = sharedArrays.get(key);
  if (known !== undefined) return known as unknown[];
  if (sharedArrays.size >= MAX_SHARED) return a;
  const frozen = Object.freeze((a as string[]).map(share));
  sharedArrays.set(key, frozen);
  return frozen as unknown as unknown[];
}

function shareIn(value: unknown, repeated: boolean, time = false): unknown {
  if (typeof value === 'string') return repeated ? share(value) : time ? shareTime(value) : value;
  if (Array.isArray(value)) {
    if (Object.isFrozen(value)) return value; // a shared array already
    if (repeated) {
      const one = shareArray(value);
      if (one !== value) return one;
    }
    for (let i = 0; i < value.length; i++) value[i] = shareIn(value[i], repeated);
  } else if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = shareIn(o[k], REPEATED_FIELDS.has(k), TIME_FIELDS.has(k));
  }
  return value;
}

/**
 * Replaces the object's repeated string values (see REPEATED_FIELDS) and arrays of them, and its timestamps
 * (TIME_FIELDS), by one shared copy each, in place.
 */
export function shareRepeatedStrings<T extends KubeObject>(obj: T): T {
  return shareIn(obj, false) as T;
}

/** The controller manager's transform: managedFields trimmed, repeated strings shared. */
export function compactForCache<T extends KubeObject>(obj: T): T {
  return shareRepeatedStrings(trimManagedFields(obj));
}
