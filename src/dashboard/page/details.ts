// The details panel for one certificate or CA: subject, SANs, usages, validity, issuer chain, where used.
import type { CaView, CertView, DashboardSnapshot, UnreadableView } from '../view.js';
import { el, fmtTime, health, HEALTH_TEXT, relative, text, truncate, visible } from './dom.js';

export interface Index {
  certs: Map<string, CertView>;
  cas: Map<string, CaView>;
  unreadable: Map<string, UnreadableView>;
}

export function indexOf(s: DashboardSnapshot): Index {
  return { certs: new Map(s.certs.map((c) => [c.id, c])), cas: new Map(s.cas.map((c) => [c.id, c])), unreadable: new Map((s.unreadable ?? []).map((u) => [u.id, u])) };
}

/** The certificate that best represents a CA: its self-signed one, else the newest. */
export function caCert(ca: CaView, idx: Index): CertView | undefined {
  const certs = ca.certs.map((id) => idx.certs.get(id)).filter((c): c is CertView => !!c);
  return certs.find((c) => c.selfSigned) ?? certs.sort((a, b) => b.notBefore.localeCompare(a.notBefore))[0];
}

/** Subjects from the certificate up to a root (or an unknown issuer), following the CAs' signing keys. */
export function issuerChain(cert: CertView, idx: Index): string[] {
  const chain: string[] = [];
  const seen = new Set<string>();
  let caId = cert.issuerCa;
  let issuerName = cert.issuer;
  while (chain.length < 10) {
    const ca = caId ? idx.cas.get(caId) : undefined;
    if (!ca) {
      if (!cert.selfSigned || chain.length > 0) chain.push(`${issuerName} (not known to the dashboard)`);
      break;
    }
    if (seen.has(ca.id)) break;
    seen.add(ca.id);
    const c = caCert(ca, idx);
    chain.push(ca.subject + (ca.crossSigned ? ' (cross-signed)' : ''));
    if (!c || c.selfSigned || c.issuerCa === ca.id) break;
    caId = c.issuerCa;
    issuerName = c.issuer;
  }
  return chain;
}

function dl(rows: [string, Node | string][]): HTMLElement {
  const d = el('dl');
  for (const [k, v] of rows) d.append(el('dt', {}, k), el('dd', {}, typeof v === 'string' ? text(v, Infinity) : v));
  return d;
}

function list(items: string[]): Node | string {
  if (items.length === 0) return '—';
  const ul = el('ul');
  for (const i of items) ul.append(el('li', {}, text(i, Infinity)));
  return ul;
}

export function certDetails(c: CertView, idx: Index, now: number): HTMLElement {
  const h = health(c, now);
  const when = h === 'expired' ? `expired ${relative(c.notAfter, now)}` : h === 'notyet' ? `valid from ${relative(c.notBefore, now)}` : `expires ${relative(c.notAfter, now)}`;
  return el(
    'section',
    { 'aria-label': `Certificate ${visible(truncate(c.commonName, 200))}`, 'data-health': h },
    el('h2', {}, c.isCA ? 'CA certificate: ' : '', text(c.commonName, 200)),
    dl([
      ['Status', el('span', { class: `health ${h}`, id: 'details-health' }, HEALTH_TEXT[h])],
      ['Subject', c.subject],
      ['Issuer', c.issuer],
      ['Validity', el('span', { class: `health ${h}` }, `${fmtTime(c.notBefore)} → ${fmtTime(c.notAfter)} (${when})`)],
      ['Subject alternative names', list(c.sans)],
      ['Key usage', c.keyUsage.join(', ') || '—'],
      ['Extended key usage', c.extKeyUsage.join(', ') || '—'],
      ['Public key', c.publicKey],
      ['Issuer chain', list(issuerChain(c, idx))],
      ['Where it is used', list(c.uses.map((u) => u.where))],
      ['Serial', el('span', { class: 'mono' }, text(c.serialNumber, Infinity))],
      ['SHA-256', el('span', { class: 'mono' }, c.id)],
    ]),
  );
}

/** Something that should be a certificate and does not parse: where it is and the parser's reason. */
export function unreadableDetails(u: UnreadableView): HTMLElement {
  return el(
    'section',
    { 'aria-label': 'Unreadable certificate', 'data-health': 'unreadable' },
    el('h2', {}, 'Unreadable certificate'),
    dl([
      ['Status', el('span', { class: 'health unreadable', id: 'details-health' }, HEALTH_TEXT.unreadable)],
      ['Why', u.error],
      ['Where it is', list(u.uses.map((x) => x.where))],
    ]),
  );
}

export function caDetails(ca: CaView, idx: Index, now: number, issued: number): HTMLElement {
  const certs = ca.certs.map((id) => idx.certs.get(id)).filter((c): c is CertView => !!c);
  const signers = ca.signedBy.map((id) => idx.cas.get(id)?.subject ?? id);
  const wrap = el(
    'section',
    { 'aria-label': `CA ${visible(truncate(ca.subject, 200))}` },
    el('h2', {}, 'CA: ', text(ca.subject, 200)),
    dl([
      ['Rotation state', ca.rotation === 'current' ? 'current (the CA the API server is trusted by)' : ca.rotation === 'old' ? 'old (a newer CA of this name is current)' : 'other CA'],
      ['Cross-signed', ca.crossSigned ? `yes, also certified by ${signers.join(', ')}` : 'no'],
      ['Certificates it issued (known)', String(issued)],
      ['Certificates certifying this CA', String(certs.length)],
    ]),
  );
  for (const c of certs) wrap.append(certDetails(c, idx, now));
  return wrap;
}
