// Page 4, the nodes: each node's newest client and serving certificate (from the CSRs the API holds),
// when it last rotated, where the next rotation falls (70–90 % of the lifetime), whether it is on the
// current CA, and its custom CA trust state (a slot until the trust distribution of issue #13 is readable).
import type { CertView, DashboardSnapshot } from '../view.js';
import { indexOf } from './details.js';
import { el, fmtTime, health, HEALTH_TEXT, relative, text } from './dom.js';

function certCell(c: CertView | undefined, now: number): HTMLElement {
  if (!c) return el('td', { class: 'unknown' }, 'none issued');
  const a = Date.parse(c.notBefore);
  const b = Date.parse(c.notAfter);
  const w0 = a + 0.7 * (b - a);
  const w1 = a + 0.9 * (b - a);
  const h = health(c, now);
  return el(
    'td',
    {},
    el('div', {}, text(c.commonName, 60)),
    h === 'ok' ? '' : el('div', { class: `health ${h}` }, HEALTH_TEXT[h]),
    h === 'notyet' ? el('div', { class: 'health notyet' }, `valid from ${fmtTime(c.notBefore)} (${relative(c.notBefore, now)})`) : '',
    el('div', { class: h === 'ok' ? 'muted' : 'no' }, `${h === 'expired' ? 'expired' : 'expires'} ${fmtTime(c.notAfter)} (${relative(c.notAfter, now)})`),
    el('div', { class: 'muted' }, now >= w0 ? (now > w1 ? 'past its rotation window' : 'in its rotation window') : `rotates ${relative(new Date(w0).toISOString(), now)} – ${relative(new Date(w1).toISOString(), now)}`),
  );
}

export function renderNodes(s: DashboardSnapshot, main: HTMLElement): void {
  const now = Date.parse(s.generated);
  const idx = indexOf(s);
  const table = el('table', { id: 'nodes-table', 'aria-label': 'Nodes' });
  table.append(el('thead', {}, el('tr', {}, ...['Node', 'Client certificate', 'Serving certificate', 'Last rotation', 'On current CA', 'Custom CA trust'].map((h) => el('th', { scope: 'col' }, h)))));
  const tbody = el('tbody');
  for (const n of s.nodes) {
    const onCa = n.onCurrentCa === 'unknown' ? el('span', { class: 'unknown' }, 'unknown') : el('span', { class: n.onCurrentCa ? 'yes' : 'no' }, n.onCurrentCa ? 'yes' : 'no — old CA');
    tbody.append(
      el(
        'tr',
        { 'data-node': n.name },
        el('th', { scope: 'row' }, text(n.name, 40)),
        certCell(n.client ? idx.certs.get(n.client) : undefined, now),
        certCell(n.serving ? idx.certs.get(n.serving) : undefined, now),
        el('td', {}, n.lastRotation ? `${fmtTime(n.lastRotation)} (${relative(n.lastRotation, now)})` : '—'),
        el('td', {}, onCa),
        el('td', {}, el('span', { class: n.customTrust.startsWith('in sync') ? 'yes' : n.customTrust === 'not enabled' ? 'unknown' : 'no' }, text(n.customTrust, 200))),
      ),
    );
  }
  table.append(tbody);
  main.replaceChildren(
    el('h2', {}, `Nodes (${s.nodes.length})`),
    el('p', { class: 'muted' }, 'Nodes are known from their kubelet client (kubernetes.io/kube-apiserver-client-kubelet) and serving (kubernetes.io/kubelet-serving) certificates in CSRs.'),
    el('div', { class: 'tablewrap', role: 'region', 'aria-label': 'Nodes table', tabindex: '0' }, table),
    s.nodes.length === 0 ? el('p', { class: 'muted' }, 'No node certificates found.') : '',
  );
}
