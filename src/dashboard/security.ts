// The dashboard holds a credential (its kubeconfig's identity), so its HTTP edge is built like one:
// - the Host header must match --accept-hosts (kubectl proxy's defence against DNS rebinding: a page on
//   evil.example re-pointed at 127.0.0.1 still sends Host: evil.example);
// - state-changing requests carry a per-session token (double submit: an HttpOnly SameSite=Strict session
//   cookie plus a header holding HMAC(server key, session), which only a same-origin page can read from
//   the HTML), and a cross-site Origin / Sec-Fetch-Site is refused outright;
// - every response forbids framing and any script, style or connection that is not the dashboard's own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KubepkiError } from '../util/errors.js';

/** kubectl proxy's default --accept-hosts. */
export const DEFAULT_ACCEPT_HOSTS = '^localhost$,^127\\.0\\.0\\.1$,^\\[::1\\]$';

export const CSRF_HEADER = 'x-csrf-token';

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
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

export class Sessions {
  private readonly key = randomBytes(32);
  /**
   * Cookies ignore ports: two dashboards on one host (say, two identities) must not overwrite each other's
   * session, so the cookie's name carries the port.
   */
  readonly cookieName: string;

  constructor(port: number) {
    this.cookieName = `kubepki-dashboard-session-${port}`;
  }

  /** Sessions this process issued (oldest first); a cookie it did not issue is not a session. */
  private readonly known = new Set<string>();

  /** The request's session id, or a new one set as a cookie on the response. */
  sessionFor(req: IncomingMessage, res: ServerResponse): string {
    const existing = cookieOf(req, this.cookieName);
    if (existing && this.known.has(existing)) return existing;
    const id = randomBytes(32).toString('base64url');
    this.known.add(id);
    if (this.known.size > 10_000) this.known.delete(this.known.values().next().value!);
    res.setHeader('set-cookie', `${this.cookieName}=${id}; Path=/; HttpOnly; SameSite=Strict`);
    return id;
  }

  csrfToken(session: string): string {
    return createHmac('sha256', this.key).update(session).digest('base64url');
  }

  /** Why a state-changing request is refused, or undefined when it may proceed. */
  refuseStateChange(req: IncomingMessage): string | undefined {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') return `cross-site request (Sec-Fetch-Site: ${String(site)})`;
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) return `cross-origin request (Origin: ${origin})`;
    const session = cookieOf(req, this.cookieName);
    const sent = req.headers[CSRF_HEADER];
    if (!session || !this.known.has(session) || typeof sent !== 'string') return 'missing session or CSRF token';
    const want = Buffer.from(this.csrfToken(session));
    const got = Buffer.from(sent);
    return want.length === got.length && timingSafeEqual(want, got) ? undefined : 'CSRF token does not match the session';
  }

  /** Whether the request carries a session cookie this server would accept (for reads of cluster state). */
  hasSession(req: IncomingMessage): boolean {
    const s = cookieOf(req, this.cookieName);
    return s !== undefined && this.known.has(s);
  }
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
