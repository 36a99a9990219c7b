// The dashboard page: one live snapshot from the dashboard server's Server-Sent Events stream, five pages
// as tabs (keyboard: arrow keys across the tabs, Alt+1..5), re-rendered on every snapshot without losing
// focus or typed text. The only write is a CSR decision, sent with the session's CSRF token.
import type { DashboardSnapshot } from '../view.js';
import { renderCsrs, type CsrPageState } from './csrs.js';
import { el } from './dom.js';
import { renderGraph } from './graph.js';
import { renderNodes } from './nodes.js';
import { renderRotation } from './rotation.js';
import { renderTimeline } from './timeline.js';

type Page = 'graph' | 'timeline' | 'csrs' | 'nodes' | 'rotation';
const PAGES: Page[] = ['graph', 'timeline', 'csrs', 'nodes', 'rotation'];

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
const main = document.getElementById('main')!;
const status = document.getElementById('status')!;
const errors = document.getElementById('errors')!;
const toast = document.getElementById('toast')!;

let snapshot: DashboardSnapshot | undefined;
let page: Page = pageFromHash();
const graphState: { selected?: string } = {};
const timelineState: { selected?: string; range?: string } = {};
const csrState: CsrPageState = { reasons: new Map(), outcomes: new Map() };

/** For tests and the curious: how long the last render of each page took (ms, performance.now()). */
const timings: Record<string, number> = {};
(window as unknown as { kubepkiDashboard: unknown }).kubepkiDashboard = { timings, snapshots: 0 };

function pageFromHash(): Page {
  const h = location.hash.slice(1) as Page;
  return PAGES.includes(h) ? h : 'graph';
}

function showToast(text: string, error: boolean): void {
  toast.textContent = text;
  toast.className = error ? 'error' : '';
  window.setTimeout(() => {
    if (toast.textContent === text) toast.textContent = '';
  }, 6000);
}

async function decide(name: string, approve: boolean, message: string): Promise<{ ok: boolean; text: string }> {
  try {
    const res = await fetch(`/api/csr/${encodeURIComponent(name)}/${approve ? 'approve' : 'deny'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ message }),
      credentials: 'same-origin',
    });
    const body = (await res.json().catch(() => ({}))) as { message?: string; reason?: string };
    const text = res.ok ? body.message ?? 'done' : `${res.status === 403 ? 'Forbidden' : `Error ${res.status}`}: ${body.message ?? res.statusText}`;
    showToast(text, !res.ok);
    return { ok: res.ok, text };
  } catch (err) {
    const text = `Cannot reach the dashboard server: ${(err as Error).message}`;
    showToast(text, true);
    return { ok: false, text };
  }
}

function render(): void {
  for (const p of PAGES) {
    const tab = document.getElementById(`tab-${p}`)!;
    tab.setAttribute('aria-selected', String(p === page));
    tab.tabIndex = p === page ? 0 : -1;
  }
  if (!snapshot) return;
  const s = snapshot;
  const pending = s.csrs.filter((c) => c.state === 'Pending').length;
  document.getElementById('pending-count')!.textContent = pending ? String(pending) : '';
  errors.replaceChildren(
    ...Object.entries(s.errors).map(([resource, e]) =>
      el('p', { 'data-error': resource }, el('strong', {}, e.code === 403 ? 'Forbidden' : e.code === 401 ? 'Unauthorized' : 'Cannot read'), ` — ${resource}: ${e.message}`),
    ),
  );
  // Keep focus and scroll across a live re-render: the focused control is found again by its data-key.
  const focusKey = (document.activeElement as HTMLElement | null)?.closest?.('[data-key]')?.getAttribute('data-key');
  const focusId = document.activeElement?.id;
  const wrap = main.querySelector('.svgwrap');
  const scroll = wrap ? [wrap.scrollTop, wrap.scrollLeft] : undefined;
  const t0 = performance.now();
  if (page === 'graph') renderGraph(s, main, graphState);
  else if (page === 'timeline') renderTimeline(s, main, timelineState);
  else if (page === 'csrs') renderCsrs(s, main, csrState, decide, render);
  else if (page === 'nodes') renderNodes(s, main);
  else renderRotation(s, main);
  timings[page] = performance.now() - t0;
  main.setAttribute('data-page', page);
  const newWrap = main.querySelector('.svgwrap');
  if (scroll && newWrap) [newWrap.scrollTop, newWrap.scrollLeft] = scroll;
  const again = focusKey ? main.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`) : focusId ? document.getElementById(focusId) : null;
  again?.focus({ preventScroll: true });
}

function go(p: Page, focusTab: boolean): void {
  page = p;
  if (location.hash.slice(1) !== p) history.replaceState(null, '', `#${p}`);
  render();
  if (focusTab) document.getElementById(`tab-${p}`)!.focus();
}

for (const p of PAGES) {
  const tab = document.getElementById(`tab-${p}`)!;
  tab.addEventListener('click', () => go(p, false));
  tab.addEventListener('keydown', (ev) => {
    const i = PAGES.indexOf(p);
    if (ev.key === 'ArrowRight') go(PAGES[(i + 1) % PAGES.length]!, true);
    else if (ev.key === 'ArrowLeft') go(PAGES[(i + PAGES.length - 1) % PAGES.length]!, true);
    else return;
    ev.preventDefault();
  });
}
window.addEventListener('hashchange', () => go(pageFromHash(), false));
document.addEventListener('keydown', (ev) => {
  if (ev.altKey && /^[1-5]$/.test(ev.key)) {
    ev.preventDefault();
    go(PAGES[Number(ev.key) - 1]!, true);
  }
});

const events = new EventSource('/api/events');
events.addEventListener('snapshot', (ev) => {
  snapshot = JSON.parse((ev as MessageEvent<string>).data) as DashboardSnapshot;
  (window as unknown as { kubepkiDashboard: { snapshots: number } }).kubepkiDashboard.snapshots++;
  status.className = 'live';
  status.textContent = `live · as ${snapshot.identity} · ${snapshot.server} · updated ${new Date(snapshot.generated).toLocaleTimeString()}`;
  render();
});
events.addEventListener('error', () => {
  status.className = 'down';
  status.textContent = 'disconnected from the dashboard server; retrying…';
});
render();
