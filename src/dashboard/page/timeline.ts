// Page 2, the expiry timeline: every certificate as a bar on one time axis, grouped under the CA that
// issued it with that CA's lifetime as a band behind the group; node certificates show the kubelet's
// rotation window (70–90 % of the lifetime, where client-go's certificate manager picks its deadline);
// the next 30 days are a shaded band and listed above the chart.
import type { CertView, DashboardSnapshot } from '../view.js';
import { caCert, certDetails, indexOf, unreadableDetails } from './details.js';
import { DAY, el, fmtTime, health, HEALTH_TEXT, relative, roving, svg, text, truncate, visible } from './dom.js';

const WIDTH = 860;
const LABEL = 236;
const ROW = 16;
const RANGES: Record<string, number> = { '90 days': 90 * DAY, '1 year': 365 * DAY, '5 years': 5 * 365 * DAY, '10 years': 10 * 365 * DAY };

export function renderTimeline(s: DashboardSnapshot, main: HTMLElement, state: { selected?: string; range?: string }): void {
  const now = Date.parse(s.generated);
  const idx = indexOf(s);
  const range = state.range && RANGES[state.range] ? state.range : '1 year';
  const span = RANGES[range]!;
  const t0 = now - span * 0.08;
  const t1 = t0 + span;
  const plotW = WIDTH - LABEL - 10;
  const xOf = (t: number) => LABEL + Math.max(0, Math.min(plotW, ((t - t0) / (t1 - t0)) * plotW));

  // Groups: each CA (its own bar first) with the certificates it issued; then certificates of unknown issuers.
  type Group = { ca?: CertView; label: string; certs: CertView[] };
  const groups = new Map<string, Group>();
  for (const ca of s.cas) {
    const c = caCert(ca, idx);
    groups.set(ca.id, { ...(c ? { ca: c } : {}), label: ca.subject, certs: [] });
  }
  const unknown: Group = { label: 'issuer not known to the dashboard', certs: [] };
  for (const c of s.certs) {
    if (c.isCA && c.caEntity && groups.get(c.caEntity)?.ca?.id === c.id) continue;
    (groups.get(c.issuerCa) ?? unknown).certs.push(c);
  }
  const ordered = [...groups.values(), unknown].filter((g) => g.ca || g.certs.length > 0);
  for (const g of ordered) g.certs.sort((a, b) => a.notAfter.localeCompare(b.notAfter));

  const unreadable = s.unreadable ?? [];
  const rows = ordered.reduce((n, g) => n + (g.ca ? 1 : 0) + g.certs.length + 1, 0) + (unreadable.length ? unreadable.length + 1 : 0);
  const height = 34 + rows * ROW + 10;
  const root = svg('svg', { id: 'timeline', role: 'img', tabindex: '0', width: WIDTH, height, viewBox: `0 0 ${WIDTH} ${height}`, 'aria-label': 'Expiry timeline. Arrow keys move between certificates; the details panel shows the selection.' });
  root.append(svg('defs', {}, svg('pattern', { id: 'hatch', width: 5, height: 5, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, svg('rect', { width: 2, height: 5, fill: 'rgba(0,0,0,.55)' }))));
  // Axis: month or year ticks.
  const axis = svg('g', { class: 'axis' });
  const yearly = span > 2 * 365 * DAY;
  const d = new Date(t0);
  const tick = yearly ? new Date(Date.UTC(d.getUTCFullYear() + 1, 0, 1)) : new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
  while (tick.getTime() < t1) {
    const x = xOf(tick.getTime());
    axis.append(svg('line', { x1: x, x2: x, y1: 22, y2: height }), svg('text', { x: x + 2, y: 16 }, yearly ? String(tick.getUTCFullYear()) : tick.toISOString().slice(0, 7)));
    if (yearly) tick.setUTCFullYear(tick.getUTCFullYear() + (span > 6 * 365 * DAY ? 2 : 1));
    else tick.setUTCMonth(tick.getUTCMonth() + (span > 200 * DAY ? 2 : 1));
  }
  // The label column ends where the plot starts (the range's first instant): bars never reach into it.
  axis.append(svg('line', { class: 'plot-start', x1: LABEL - 1, x2: LABEL - 1, y1: 4, y2: height }));
  root.append(svg('rect', { class: 'next30', x: xOf(now), y: 22, width: xOf(now + 30 * DAY) - xOf(now), height: height - 22 }), axis);

  const body = svg('g');
  root.append(body);
  const order: string[] = [];
  // Tooltips only while they are few: a thousand <title> elements cost layout time and say what the label does.
  const few = s.certs.length <= 200;
  let y = 30;
  const bar = (c: CertView, cls: string) => {
    const a = Date.parse(c.notBefore);
    const b = Date.parse(c.notAfter);
    const g = svg('g', { 'data-id': c.id });
    if (few) g.append(svg('title', {}, `${truncate(visible(c.commonName), 1000)}: ${HEALTH_TEXT[health(c, now)]}, ${c.notBefore} → ${c.notAfter}`));
    g.append(svg('text', { x: 4, y: y + 11 }, truncate(visible(c.commonName), 33)));
    if (b > t0 && a < t1) g.append(svg('rect', { class: `bar ${cls}`, x: xOf(a), y: y + 2, width: Math.max(2, xOf(b) - xOf(a)), height: ROW - 4, rx: 2 }));
    else if (!(b > a)) g.append(svg('text', { x: LABEL + 4, y: y + 11, class: 'unreadable-mark' }, `validity not drawable: ${truncate(visible(`${c.notBefore} → ${c.notAfter}`), 60)}`));
    if (c.node) {
      const w0 = a + 0.7 * (b - a);
      const w1 = a + 0.9 * (b - a);
      if (w1 > t0 && w0 < t1) g.append(svg('rect', { class: 'window', x: xOf(w0), y: y + 2, width: Math.max(1, xOf(w1) - xOf(w0)), height: ROW - 4 }));
    }
    body.append(g);
    order.push(c.id);
    y += ROW;
  };
  for (const g of ordered) {
    const top = y;
    body.append(svg('text', { x: 4, y: y + 11, class: 'muted' }, truncate(visible(g.ca ? `CA ${g.label}` : g.label), 60)));
    y += ROW;
    if (g.ca) {
      const a = Date.parse(g.ca.notBefore);
      const b = Date.parse(g.ca.notAfter);
      const bandH = (g.certs.length + 1) * ROW;
      if (b > t0 && a < t1) body.append(svg('rect', { class: 'calife', x: xOf(a), y: top + ROW, width: Math.max(2, xOf(b) - xOf(a)), height: bandH }));
      bar(g.ca, health(g.ca, now) === 'ok' ? 'ca' : health(g.ca, now));
    }
    for (const c of g.certs) bar(c, health(c, now));
  }
  // Unreadable certificates have no dates: listed under the chart, marked, never dropped.
  if (unreadable.length) {
    body.append(svg('text', { x: 4, y: y + 11, class: 'muted' }, `Unreadable: not parsed as certificates (${unreadable.length})`));
    y += ROW;
    for (const u of unreadable) {
      const g = svg('g', { 'data-id': u.id, class: 'unreadable-cert' });
      if (few) g.append(svg('title', {}, `Unreadable: ${truncate(visible(u.error), 300)}`));
      g.append(
        svg('text', { x: 4, y: y + 11 }, `✕ ${truncate(visible(u.uses[0]?.where ?? ''), 31)}`),
        svg('rect', { class: 'unreadable', x: LABEL, y: y + 2, width: 12, height: ROW - 4 }),
        svg('text', { x: LABEL + 18, y: y + 11, class: 'unreadable-mark' }, `unreadable: ${truncate(visible(u.error), 70)}`),
      );
      body.append(g);
      order.push(u.id);
      y += ROW;
    }
  }
  root.append(svg('line', { class: 'now', x1: xOf(now), x2: xOf(now), y1: 20, y2: height }), svg('text', { x: xOf(now) + 3, y: 30, class: 'muted' }, 'now'));

  const details = el('div', { class: 'panel details', id: 'details', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Select a certificate (click, or focus the timeline and use the arrow keys).'));
  const select = (id: string) => {
    state.selected = id;
    root.querySelector('.selected')?.classList.remove('selected');
    const shape = root.querySelector(`[data-id="${CSS.escape(id)}"] rect.bar`);
    shape?.classList.add('selected');
    root.querySelector(`[data-id="${CSS.escape(id)}"]`)?.scrollIntoView?.({ block: 'nearest' });
    const cert = idx.certs.get(id);
    const bad = idx.unreadable.get(id);
    details.replaceChildren(cert ? certDetails(cert, idx, now) : bad ? unreadableDetails(bad) : el('p', {}, 'No longer present.'));
  };
  roving(root, order, state.selected, select, (id) => {
    const c = idx.certs.get(id);
    if (c) return `${truncate(visible(c.commonName), 200)}: ${HEALTH_TEXT[health(c, now)]}, until ${fmtTime(c.notAfter)}`;
    return `Unreadable: ${truncate(visible(idx.unreadable.get(id)?.uses[0]?.where ?? ''), 200)}`;
  });

  const soon = s.certs.filter((c) => health(c, now) === 'soon').sort((a, b) => a.notAfter.localeCompare(b.notAfter));
  const expired = s.certs.filter((c) => health(c, now) === 'expired').length;
  const notYet = s.certs.filter((c) => health(c, now) === 'notyet').length;
  const toolbar = el('div', { class: 'toolbar', role: 'group', 'aria-label': 'Time range' }, el('span', { class: 'muted' }, 'Range:'));
  for (const name of Object.keys(RANGES)) {
    const b = el('button', { type: 'button', 'aria-pressed': String(name === range), 'data-key': `range-${name}` }, name);
    b.addEventListener('click', () => {
      state.range = name;
      renderTimeline(s, main, state);
    });
    toolbar.append(b);
  }
  toolbar.append(el('span', {}, `${s.certs.length} certificates · `, el('strong', { class: soon.length ? 'no' : 'yes', id: 'next30-count' }, `${soon.length} expire in the next 30 days`), ` · `, el('span', { id: 'expired-count' }, `${expired} expired`), ` · `, el('span', { id: 'notyet-count' }, `${notYet} not yet valid`), ` · `, el('span', { id: 'unreadable-count' }, `${unreadable.length} unreadable`)));
  const soonList = el('ul', { id: 'next30' });
  for (const c of soon.slice(0, 8)) soonList.append(el('li', {}, text(c.commonName, 80), ` — ${fmtTime(c.notAfter)} (${relative(c.notAfter, now)}) — `, text(c.uses[0]?.where ?? '', 120)));
  if (soon.length > 8) soonList.append(el('li', { class: 'muted' }, `and ${soon.length - 8} more`));
  const legend = el(
    'div',
    { class: 'legend' },
    el('span', {}, el('i', { class: 'lg-next30' }), 'next 30 days'),
    el('span', {}, el('i', { class: 'lg-calife' }), 'issuing CA lifetime'),
    el('span', {}, el('i', { class: 'lg-window' }), 'node rotation window (70–90 %)'),
    el('span', {}, el('i', { class: 'lg-ok' }), 'valid'),
    el('span', {}, el('i', { class: 'lg-soon' }), '≤ 30 days'),
    el('span', {}, el('i', { class: 'lg-bad' }), 'expired'),
    el('span', {}, el('i', { class: 'lg-notyet' }), 'not yet valid'),
    el('span', {}, el('i', { class: 'lg-unreadable' }), 'unreadable'),
  );
  main.replaceChildren(el('div', { class: 'split' }, el('div', {}, toolbar, soon.length ? soonList : '', legend, el('div', { class: 'svgwrap' }, root)), details));
  if (state.selected && (idx.certs.has(state.selected) || idx.unreadable.has(state.selected))) select(state.selected);
}
