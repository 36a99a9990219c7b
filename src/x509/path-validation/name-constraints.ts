// Name constraints as Go's crypto/x509 applies them (verify.go isValid/checkNameConstraints): a CA's
// permitted and excluded DNS, IP, email and URI subtrees checked against the SANs of the leaf and of the
// CA itself; DNS constraints may use the leading-period form; Go's error texts.
import { goQuote, ipString } from './go-format.js';
import { parseMailbox, reverseLabels, type Mailbox } from './name-syntax.js';
import { SAN_TAG, type IpConstraint, type PathCert } from './path-cert.js';

const MAX_CONSTRAINT_COMPARISONS = 250000;

const equalFold = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

type Match = { ok: true; value: boolean } | { ok: false; error: string };
const yes: Match = { ok: true, value: true };
const no: Match = { ok: true, value: false };

function matchDomain(domain: string, constraint: string): Match {
  if (constraint.length === 0) return yes;
  const d = reverseLabels(domain);
  if (d === null) return { ok: false, error: `x509: internal error: cannot parse domain ${goQuote(domain)}` };
  let mustHaveSubdomains = false;
  if (constraint.startsWith('.')) {
    mustHaveSubdomains = true;
    constraint = constraint.slice(1);
  }
  const c = reverseLabels(constraint);
  if (c === null) return { ok: false, error: `x509: internal error: cannot parse domain ${goQuote(constraint)}` };
  if (d.length < c.length || (mustHaveSubdomains && d.length === c.length)) return no;
  return c.every((label, i) => equalFold(label, d[i]!)) ? yes : no;
}

function matchEmail(mailbox: Mailbox, constraint: string): Match {
  if (constraint.includes('@')) {
    const c = parseMailbox(constraint);
    if (!c) return { ok: false, error: `x509: internal error: cannot parse constraint ${goQuote(constraint)}` };
    return { ok: true, value: mailbox.local === c.local && equalFold(mailbox.domain, c.domain) };
  }
  return matchDomain(mailbox.domain, constraint);
}

/** The host of a URI as Go's url.Parse gives it (authority after "//", userinfo dropped). */
function uriHost(uri: string): string {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(uri);
  if (!m) return '';
  const authority = m[1]!;
  return authority.slice(authority.lastIndexOf('@') + 1);
}

function matchUri(uri: string, constraint: string): Match {
  let host = uriHost(uri);
  if (host.length === 0) return { ok: false, error: `URI with empty host (${goQuote(uri)}) cannot be matched against constraints` };
  if (host.includes(':') && !host.endsWith(']')) host = host.slice(0, host.lastIndexOf(':'));
  if ((host.startsWith('[') && host.endsWith(']')) || /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':')) {
    return { ok: false, error: `URI with IP (${goQuote(uri)}) cannot be matched against constraints` };
  }
  return matchDomain(host, constraint);
}

function matchIp(ip: Uint8Array, c: IpConstraint): Match {
  if (ip.length !== c.ip.length) return no;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & c.mask[i]!) !== (c.ip[i]! & c.mask[i]!)) return no;
  return yes;
}

/** net.IPNet.String(): "ip/ones" for a canonical mask. */
function ipNetString(c: IpConstraint): string {
  let ones = 0;
  let canonical = true;
  let seenZero = false;
  for (const byte of c.mask) {
    for (let b = 7; b >= 0; b--) {
      if (byte & (1 << b)) {
        if (seenZero) canonical = false;
        ones++;
      } else seenZero = true;
    }
  }
  return `${ipString(c.ip)}/${canonical ? ones : Buffer.from(c.mask).toString('hex')}`;
}

const notAuthorized = (detail: string) => `x509: a root or intermediate certificate is not authorized to sign for this name: ${detail}`;

function check<T, C>(state: { count: number }, options: {
  nameType: string;
  name: string;
  parsed: T;
  match: (parsed: T, constraint: C) => Match;
  show: (constraint: C) => string;
  permitted: C[];
  excluded: C[];
}): string | null {
  state.count += options.excluded.length;
  if (state.count > MAX_CONSTRAINT_COMPARISONS) return 'x509: unknown error';
  for (const c of options.excluded) {
    const m = options.match(options.parsed, c);
    if (!m.ok) return notAuthorized(m.error);
    if (m.value) return notAuthorized(`${options.nameType} ${goQuote(options.name)} is excluded by constraint ${goQuote(options.show(c))}`);
  }
  state.count += options.permitted.length;
  if (state.count > MAX_CONSTRAINT_COMPARISONS) return 'x509: unknown error';
  let ok = true;
  for (const c of options.permitted) {
    const m = options.match(options.parsed, c);
    if (!m.ok) return notAuthorized(m.error);
    ok = m.value;
    if (ok) break;
  }
  return ok ? null : notAuthorized(`${options.nameType} ${goQuote(options.name)} is not permitted by any constraint`);
}

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const id = (s: string) => s;

/** Go's name-constraint part of isValid for CA `ca` about to be appended after `chain` (chain[0] is the leaf). */
export function checkNameConstraints(ca: PathCert, leaf: PathCert): string | null {
  const nc = ca.nameConstraints;
  if (!nc) return null;
  const state = { count: 0 };
  const toCheck = [leaf, ca].filter((c) => c.sanValue !== undefined);
  for (const sanCert of toCheck) {
    for (const entry of sanCert.sanEntries) {
      let err: string | null = null;
      if (entry.tag === SAN_TAG.email) {
        const name = text(entry.data);
        const mailbox = parseMailbox(name);
        if (!mailbox) return 'x509: cannot parse rfc822Name {"" ""}'; // Go formats the zero mailbox struct with %q
        err = check(state, { nameType: 'email address', name, parsed: mailbox, match: matchEmail, show: id, permitted: nc.permitted.emails, excluded: nc.excluded.emails });
      } else if (entry.tag === SAN_TAG.dns) {
        const name = text(entry.data);
        if (reverseLabels(name) === null) return `x509: cannot parse dnsName ${goQuote(name)}`;
        err = check(state, { nameType: 'DNS name', name, parsed: name, match: matchDomain, show: id, permitted: nc.permitted.dns, excluded: nc.excluded.dns });
      } else if (entry.tag === SAN_TAG.uri) {
        const name = text(entry.data);
        err = check(state, { nameType: 'URI', name, parsed: name, match: matchUri, show: id, permitted: nc.permitted.uris, excluded: nc.excluded.uris });
      } else if (entry.tag === SAN_TAG.ip) {
        if (entry.data.length !== 4 && entry.data.length !== 16) return `x509: internal error: IP SAN ${Buffer.from(entry.data).toString('hex')} failed to parse`;
        err = check(state, { nameType: 'IP address', name: ipString(entry.data), parsed: entry.data, match: matchIp, show: ipNetString, permitted: nc.permitted.ips, excluded: nc.excluded.ips });
      }
      if (err) return err;
    }
  }
  return null;
}
