// The opaque `continue` token of paged lists, shaped as kube's (base64 of {"v","rv","start"}): the revision
// the first page was read at and the key to resume after, relative to the resource prefix.
import { badRequest } from '../apis/status.js';

export interface ContinueToken {
  rv: number;
  /** Key (relative to the list prefix) of the last item returned; the next page starts after it. */
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: token.rv, start: `${token.start}\u0000` })).toString('base64url');
}

export function decodeContinue(value: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('continue key is not valid: illegal base64 data or JSON');
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p.v !== 'meta.k8s.io/v1') throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof p.rv !== 'number' || !Number.isInteger(p.rv) || p.rv <= 0) throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  if (typeof p.start !== 'string' || p.start.length === 0) throw badRequest('continue key is not valid: encoded start key empty');
  const start = p.start.endsWith('\u0000') ? p.start.slice(0, -1) : p.start;
  if (start.includes('..') || start.startsWith('/')) throw badRequest('continue key is not valid: path traversal');
  return { rv: p.rv, start };
}
