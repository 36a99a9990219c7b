// Page 1, the trust graph: CAs (one box per subject + key; dashed indigo edges for cross-signatures,
// orange for an old CA in a rotation) in rows by depth, and under them the certificates each one issued.
// Up to 200 certificates are drawn as labelled boxes; beyond that as small squares coloured by expiry, so
// a 1,000-certificate cluster stays one readable picture. Arrow keys or a click select; details on the right.
import type { CertView, DashboardSnapshot } from '../view.js';
import { caDetails, certDetails, indexOf, unreadableDetails } from './details.js';
import { el, health, HEALTH_TEXT, roving, svg, truncate, visible } from './dom.js';

const WIDTH = 860;
const CA_W = 230;
const CA_H = 42;

export function renderGraph(s: DashboardSnapshot, main: HTMLElement, state: { selected?: string }): void {
  const now = Date.parse(s.generated);
  const idx = indexOf(s);
  const byIssuer = new Map<string, CertView[]>();
  for (const c of s.certs) {
    if (c.isCA) continue;
    const k = c.issuerCa || `?${c.issuer}`;
    const list = byIssuer.get(k);
    if (list) list.push(c);
    else byIssuer.set(k, [c]);
  }

  // Depth of each CA: roots 0, a CA certified by another CA one below its deepest signer.
  const depth = new Map<string, number>();
  for (const ca of s.cas) depth.set(ca.id, 0);
  for (let pass = 0; pass < 4; pass++) {
    for (const ca of s.cas) {
      const selfSigned = ca.certs.some((id) => idx.certs.get(id)?.selfSigned);
      if (selfSigned) continue; // a cross-signed root stays a root; the cross edge shows the other signer
      for (const p of ca.signedBy) depth.set(ca.id, Math.max(depth.get(ca.id)!, (depth.get(p) ?? 0) + 1));
    }
  }
  const rows: string[][] = [];
  for (const ca of [...s.cas].sort((a, b) => a.subject.localeCompare(b.subject))) (rows[depth.get(ca.id)!] ??= []).push(ca.id);

  const root = svg('svg', { role: 'img', tabindex: '0', id: 'graph', 'aria-label': 'Trust graph. Arrow keys move between CAs and certificates; the details panel shows the selection.' });
  const defs = svg('defs');
  root.append(defs);
  const edges = svg('g');
  const nodes = svg('g');
  root.append(edges, nodes);
  const pos = new Map<string, { x: number; y: number }>();
  const order: string[] = [];
  let y = 16;
  for (const row of rows) {
    if (!row) continue;
    const perLine = Math.max(1, Math.floor(WIDTH / (CA_W + 16)));
    row.forEach((id, i) => {
      const ca = idx.cas.get(id)!;
      const x = 10 + (i % perLine) * (CA_W + 16);
      const yy = y + Math.floor(i / perLine) * (CA_H + 14);
      pos.set(id, { x, y: yy });
      const issued = byIssuer.get(id)?.length ?? 0;
      const label = `${ca.rotation === 'current' ? '★ ' : ''}${truncate(visible(ca.subject.replace(/^CN=/, '')), 30)}`;
      nodes.append(
        svg(
          'g',
          { class: `ca ${ca.rotation}`, 'data-id': id },
          svg('title', {}, `CA ${truncate(visible(ca.subject), 1000)}`),
          svg('rect', { x, y: yy, width: CA_W, height: CA_H, rx: 6 }),
          svg('text', { x: x + 8, y: yy + 17 }, label),
          svg('text', { x: x + 8, y: yy + 33, class: 'muted' }, `${issued} issued${ca.crossSigned ? ' · cross-signed' : ''}${ca.rotation === 'old' ? ' · old' : ''}`),
        ),
      );
      order.push(id);
    });
    y += Math.ceil(row.length / perLine) * (CA_H + 14) + 20;
  }
  // CA → CA edges (intermediates, cross-signatures).
  for (const ca of s.cas) {
    const to = pos.get(ca.id)!;
    for (const from of ca.signedBy) {
      const f = pos.get(from);
      if (!f) continue;
      const cross = ca.crossSigned;
      edges.append(svg('path', { class: `edge${cross ? ' cross' : ''}`, d: `M${f.x + CA_W / 2},${f.y + CA_H} C${f.x + CA_W / 2},${to.y - 10} ${to.x + CA_W / 2},${f.y + CA_H + 10} ${to.x + CA_W / 2},${to.y}` }));
    }
  }

  // Issued certificates, one block per issuer; each issuer's edge runs in its own lane of the left gutter
  // so edges never cross a block.
  const total = s.certs.filter((c) => !c.isCA).length;
  const labelled = total <= 200;
  const groups = [...byIssuer].sort(([a], [b]) => (pos.get(a)?.y ?? 1e9) - (pos.get(b)?.y ?? 1e9) || (pos.get(a)?.x ?? 1e9) - (pos.get(b)?.x ?? 1e9) || a.localeCompare(b));
  const lanes = groups.filter(([issuer]) => pos.has(issuer)).length;
  const left = 14 + lanes * 5;
  const laneTop = y - 8;
  y += 4 + lanes * 5;
  let lane = 0;
  for (const [issuer, certs] of groups) {
    certs.sort((a, b) => a.commonName.localeCompare(b.commonName));
    const ca = idx.cas.get(issuer);
    nodes.append(svg('text', { x: left, y: y + 12 }, ca ? `Issued by ${truncate(visible(ca.subject), 60)} (${certs.length})` : `Issuer not known to the dashboard: ${truncate(visible(issuer.slice(1)), 50)} (${certs.length})`));
    const from = pos.get(issuer);
    if (from) {
      const gx = 8 + lane * 5;
      const turn = laneTop + lane * 5;
      edges.append(svg('path', { class: 'edge', d: `M${from.x + CA_W / 2},${from.y + CA_H} V${turn} H${gx} V${y + 8} H${left - 2}` }));
      lane++;
    }
    y += 20;
    const [w, h, gap] = labelled ? [200, 22, 6] : [11, 11, 2];
    const perLine = Math.floor((WIDTH - left - 10) / (w + gap));
    certs.forEach((c, i) => {
      const x = left + (i % perLine) * (w + gap);
      const yy = y + Math.floor(i / perLine) * (h + gap);
      const hc = health(c, now);
      if (labelled) {
        nodes.append(
          svg(
            'g',
            { 'data-id': c.id },
            svg('title', {}, `${truncate(visible(c.commonName), 1000)} — ${HEALTH_TEXT[hc]}, valid ${c.notBefore} → ${c.notAfter}`),
            svg('rect', { x, y: yy, width: w, height: h, rx: 4, class: `leaf ${hc}` }),
            svg('text', { x: x + 6, y: yy + 15, class: 'on-leaf' }, truncate(visible(c.commonName), 30)),
          ),
        );
      } else {
        // Many certificates: one bare element each (half the DOM of a group with a tooltip); the details
        // panel names the selected one.
        nodes.append(svg('rect', { 'data-id': c.id, x, y: yy, width: w, height: h, rx: 2, class: `leaf ${hc}` }));
      }
      order.push(c.id);
    });
    y += Math.ceil(certs.length / perLine) * (h + gap) + 16;
  }
  // What should be a certificate and does not parse: its own block, grey and struck, never dropped.
  const unreadable = s.unreadable ?? [];
  if (unreadable.length) {
    nodes.append(svg('text', { x: left, y: y + 12 }, `Unreadable: not parsed as certificates (${unreadable.length})`));
    y += 20;
    const [w, h, gap] = [200, 22, 6];
    const perLine = Math.floor((WIDTH - left - 10) / (w + gap));
    unreadable.forEach((u, i) => {
      const x = left + (i % perLine) * (w + gap);
      const yy = y + Math.floor(i / perLine) * (h + gap);
      nodes.append(
        svg(
          'g',
          { 'data-id': u.id, class: 'unreadable-cert' },
          svg('title', {}, `Unreadable: ${truncate(visible(u.uses[0]?.where ?? ''), 300)}: ${truncate(visible(u.error), 300)}`),
          svg('rect', { x, y: yy, width: w, height: h, rx: 4, class: 'leaf unreadable' }),
          svg('text', { x: x + 6, y: yy + 15, class: 'on-leaf' }, `✕ ${truncate(visible(u.uses[0]?.where ?? 'unreadable'), 28)}`),
        ),
      );
      order.push(u.id);
    });
    y += Math.ceil(unreadable.length / perLine) * (h + gap) + 16;
  }
  root.setAttribute('width', String(WIDTH));
  root.setAttribute('height', String(Math.max(y, 200)));
  root.setAttribute('viewBox', `0 0 ${WIDTH} ${Math.max(y, 200)}`);

  const details = el('div', { class: 'panel details', id: 'details', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Select a CA or a certificate (click, or focus the graph and use the arrow keys).'));
  const select = (id: string) => {
    state.selected = id;
    root.querySelector('.selected')?.classList.remove('selected');
    const g = root.querySelector(`[data-id="${CSS.escape(id)}"]`);
    const shape = g instanceof SVGRectElement ? g : g?.querySelector('rect');
    shape?.classList.add('selected');
    (shape as SVGGraphicsElement | null)?.scrollIntoView?.({ block: 'nearest' });
    const ca = idx.cas.get(id);
    const cert = idx.certs.get(id);
    const bad = idx.unreadable.get(id);
    details.replaceChildren(ca ? caDetails(ca, idx, now, byIssuer.get(id)?.length ?? 0) : cert ? certDetails(cert, idx, now) : bad ? unreadableDetails(bad) : el('p', {}, 'No longer present.'));
  };
  roving(root, order, state.selected, select, (id) => {
    const ca = idx.cas.get(id);
    if (ca) return `CA ${truncate(visible(ca.subject), 200)}${ca.rotation === 'current' ? ' (current)' : ca.rotation === 'old' ? ' (old)' : ''}, ${byIssuer.get(id)?.length ?? 0} issued`;
    const c = idx.certs.get(id);
    if (c) return `${truncate(visible(c.commonName), 200)}: ${HEALTH_TEXT[health(c, now)]}`;
    return `Unreadable: ${truncate(visible(idx.unreadable.get(id)?.uses[0]?.where ?? ''), 200)}`;
  });

  const legend = el(
    'div',
    { class: 'legend' },
    el('span', {}, el('i', { class: 'lg-ca' }), 'CA (★ current)'),
    el('span', {}, el('i', { class: 'lg-old' }), 'old CA'),
    el('span', {}, el('i', { class: 'lg-ok' }), 'valid > 30 days'),
    el('span', {}, el('i', { class: 'lg-soon' }), 'expires within 30 days'),
    el('span', {}, el('i', { class: 'lg-bad' }), 'expired'),
    el('span', {}, el('i', { class: 'lg-notyet' }), 'not yet valid'),
    el('span', {}, el('i', { class: 'lg-unreadable' }), 'unreadable'),
    el('span', {}, `${s.cas.length} CAs, ${total} certificates${unreadable.length ? `, ${unreadable.length} unreadable` : ''}`),
  );
  main.replaceChildren(el('div', { class: 'split' }, el('div', {}, legend, el('div', { class: 'svgwrap' }, root)), details));
  if (state.selected && (idx.cas.has(state.selected) || idx.certs.has(state.selected) || idx.unreadable.has(state.selected))) select(state.selected);
}
