// Page 5, CA rotation: the phase and each step's time as stored in the cluster, the CAs with their
// rotation state, and who is still on an old CA.
import type { DashboardSnapshot } from '../view.js';
import { caCert, indexOf } from './details.js';
import { el, fmtTime, relative, text } from './dom.js';

export function renderRotation(s: DashboardSnapshot, main: HTMLElement): void {
  const now = Date.parse(s.generated);
  const idx = indexOf(s);
  const r = s.rotation;
  const steps = el('ol', { class: 'steps' });
  for (const st of r.steps) steps.append(el('li', { class: st.done ? 'yes' : 'muted' }, text(st.name, 200), `${st.time ? ` — ${fmtTime(st.time)}` : ''}${st.done ? ' ✓' : ''}`));
  const cas = el('table', { id: 'ca-table', 'aria-label': 'Certificate authorities' });
  cas.append(el('thead', {}, el('tr', {}, ...['CA', 'State', 'Valid until', 'Cross-signed'].map((h) => el('th', { scope: 'col' }, h)))));
  const tb = el('tbody');
  for (const ca of [...s.cas].sort((a, b) => a.subject.localeCompare(b.subject))) {
    const c = caCert(ca, idx);
    tb.append(
      el(
        'tr',
        {},
        el('td', {}, text(ca.subject, 80)),
        el('td', { class: ca.rotation === 'current' ? 'yes' : ca.rotation === 'old' ? 'no' : 'muted' }, ca.rotation === 'current' ? 'current (trusted for the API server)' : ca.rotation === 'old' ? 'old (replaced by a newer CA of this name)' : 'separate CA'),
        el('td', {}, c ? `${fmtTime(c.notAfter)} (${relative(c.notAfter, now)})` : '—'),
        el('td', {}, ca.crossSigned ? 'yes' : 'no'),
      ),
    );
  }
  cas.append(tb);
  const old = el('ul', { id: 'on-old-ca' });
  for (const w of r.onOldCa) old.append(el('li', {}, text(w, 300)));
  main.replaceChildren(
    el('h2', {}, 'CA rotation'),
    el('p', {}, 'Phase: ', el('strong', { id: 'rotation-phase' }, r.phase === 'none' ? 'no rotation in progress' : text(r.phase, 200)), el('span', { class: 'muted' }, ' (', text(r.source, 200), ')')),
    r.steps.length ? steps : '',
    el('h2', {}, 'Certificate authorities'),
    el('div', { class: 'tablewrap', role: 'region', 'aria-label': 'Certificate authorities table', tabindex: '0' }, cas),
    el('h2', {}, `Still on an old CA (${r.onOldCa.length})`),
    r.onOldCa.length ? old : el('p', { class: 'muted' }, 'Nothing known is signed by an old CA.'),
  );
}
