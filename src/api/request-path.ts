// The request target's path as Go's net/http hands it to kube-apiserver: the path of an origin- or absolute-form
// target, percent-decoded ("%2F" is a "/", "%61" an "a"), dot segments KEPT. WHATWG `new URL()` would resolve
// "configmaps/.." or "%2e%2e" to the parent path and so serve, and authorize, a different resource than the one
// named; kube routes ".." as a name and refuses it (Name parameter invalid), so the path is read here instead.
import { ApiError } from '../apis/status.js';

const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** The decoded path of `target` (req.url); a malformed percent-escape is a 400, as Go's url.ParseRequestURI. */
export function requestPath(target: string): string {
  let raw = target.replace(ABSOLUTE_FORM, '');
  const end = raw.search(/[?#]/);
  if (end >= 0) raw = raw.slice(0, end);
  if (raw === '') return '/';
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new ApiError(400, 'BadRequest', `invalid URL escape ${JSON.stringify(raw.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c <= 0xff) bytes.push(c); // node hands the request line's bytes over as latin1
    else bytes.push(...Buffer.from(raw[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
