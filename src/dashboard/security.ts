// The dashboard holds a credential (its kubeconfig's identity), so its HTTP edge is built like one:
// - the Host header must match --accept-hosts (kubectl proxy's defence against DNS rebinding: a page on
//   evil.example re-pointed at 127.0.0.1 still sends Host: evil.example);
// - nothing about the cluster is served without a session, and a session is only had by opening the access
//   URL printed at start (`/?token=…`, Jupyter's way): loopback is shared by every user and process of the
//   host, so "listens on 127.0.0.1" alone would let any of them act as the kubeconfig's identity;
// - state-changing requests carry a per-session token (double submit: an HttpOnly SameSite=Strict session
//   cookie plus a header holding HMAC(key, session), which only a same-origin page can read from the
//   HTML), and a cross-site Origin / Sec-Fetch-Site is refused outright, for reads of cluster data too;
// - every response forbids framing, sniffing and any script, style or connection that is not the
//   dashboard's own, and Trusted Types forbid every HTML-from-string sink (innerHTML and the like) outright.
// Sessions and the access token are derived from one key (stateless): when the key is derived from the
// kubeconfig's own secret (see sessionKeyFor), a restarted dashboard still knows the open pages' sessions,
// so they reconnect by themselves.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubepkiError } from '../util/errors.js';

/** kubectl proxy's default --accept-hosts. */
export const DEFAULT_ACCEPT_HOSTS = '^localhost$,^127\\.0\\.0\\.1$,^\\[::1\\]$';

export const CSRF_HEADER = 'x-csrf-token';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), payment=()',
};

/** kubectl proxy's syntax: comma-separated regular expressions. */
export function parseAcceptHosts(value: string): RegExp[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      try {
        return new RegExp(s);
      } catch (err) {
        throw new KubepkiError('InvalidArgument', `--accept-hosts: "${s}" is not a regular expression: ${(err as Error).message}`);
      }
    });
}

/** The host part of a Host header ("[::1]:8080" → "[::1]", "localhost:80" → "localhost"), as kubectl proxy matches it. */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(header.trim());
  return m ? m[1]!.toLowerCase() : '';
}

export function hostAccepted(req: IncomingMessage, accept: readonly RegExp[]): boolean {
  const host = hostOf(req.headers.host);
  return host !== '' && accept.some((re) => re.test(host));
}

/**
 * The key sessions are signed with. From the kubeconfig's own secret (client key, token, password) when it
 * has one: whoever may read that may act as the identity anyway, and a restart keeps the open pages'
 * sessions and the printed access URL. Otherwise (exec plugins, no credential) a random key per process.
 */
export function sessionKeyFor(secret: string | undefined, port: number): Buffer {
  if (!secret) return randomBytes(32);
  return createHmac('sha256', secret).update(`kubepki-dashboard session key v1, port ${port}`).digest();
}

export class Sessions {
  /**
   * Cookies ignore ports: two dashboards on one host (say, two identities) must not overwrite each other's
   * session, so the cookie's name carries the port.
   */
  readonly cookieName: string;
  /** The secret part of the access URL (`/?token=…`). */
  readonly accessToken: string;

  constructor(
    port: number,
    private readonly key: Buffer = randomBytes(32),
  ) {
    this.cookieName = `kubepki-dashboard-session-${port}`;
    this.accessToken = this.mac('access');
  }

  private mac(what: string): string {
    return createHmac('sha256', this.key).update(what).digest('base64url');
  }

  /** Whether `token` is the access token (constant time). */
  tokenValid(token: string | null | undefined): boolean {
    return typeof token === 'string' && equal(token, this.accessToken);
  }

  /** A new session, set as a cookie on the response (`id.mac`: checked without any server-side state). */
  startSession(res: ServerResponse): string {
    const id = randomBytes(24).toString('base64url');
    const value = `${id}.${this.mac(`session:${id}`)}`;
    res.setHeader('set-cookie', `${this.cookieName}=${value}; Path=/; HttpOnly; SameSite=Strict`);
    return value;
  }

  /** The request's session, when it carries one this key signed. */
  session(req: IncomingMessage): string | undefined {
    const value = cookieOf(req, this.cookieName);
    const m = value ? /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    return m && equal(m[2]!, this.mac(`session:${m[1]!}`)) ? value : undefined;
  }

  csrfToken(session: string): string {
    return this.mac(`csrf:${session}`);
  }

  /** Why a request from a browser page of another origin is refused (for anything beyond the static assets). */
  refuseCrossSite(req: IncomingMessage): string | undefined {
    const site = req.headers['sec-fetch-site'];
    // "none": the user typed the address or opened a bookmark.
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site request (Sec-Fetch-Site: ${String(site)})`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return `cross-origin request (Origin: ${origin})`;
    return undefined;
  }

  /** Why a state-changing request is refused, or undefined when it may proceed. */
  refuseStateChange(req: IncomingMessage): string | undefined {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return `cross-site request (Sec-Fetch-Site: ${String(site)})`;
    const cross = this.refuseCrossSite(req);
    if (cross) return cross;
    const session = this.session(req);
    const sent = req.headers[CSRF_HEADER];
    if (!session || typeof sent !== 'string') return 'missing session or CSRF token';
    return equal(sent, this.csrfToken(session)) ? undefined : 'CSRF token does not match the session';
  }
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
