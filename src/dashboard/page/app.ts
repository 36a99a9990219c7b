// The dashboard page: one live snapshot from the dashboard server's Server-Sent Events stream, five pages
// as tabs (keyboard: arrow keys across the tabs, Alt+1..5), re-rendered on every snapshot without losing
// focus or typed text. The only write is a CSR decision, sent with the session's CSRF token.
import type { DashboardSnapshot } from '../view.js';
import { renderCsrs, type CsrPageState } from './csrs.js';
import { el, text } from './dom.js';
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
const connection = document.getElementById('connection')!;
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
      el(
        'p',
        { 'data-error': resource },
        el('strong', {}, e.code === 403 ? 'Forbidden' : e.code === 401 ? 'Unauthorized' : e.code === 0 ? 'API server unreachable' : 'Cannot read'),
        ` — ${resource}: `,
        text(e.message, 300),
        e.code === 0 ? ' (showing what was last read; retrying)' : '',
      ),
    ),
  );
  // Keep focus, caret and scroll across a live re-render: the focused control is found again by its data-key.
  const active = document.activeElement as HTMLElement | null;
  const focusKey = active?.closest?.('[data-key]')?.getAttribute('data-key');
  const focusId = active?.id;
  const caret = active instanceof HTMLInputElement ? [active.selectionStart, active.selectionEnd] : undefined;
  const wrap = main.querySelector('.svgwrap');
  const scroll = wrap ? [wrap.scrollTop, wrap.scrollLeft] : undefined;
  const t0 = performance.now();
  try {
    if (page === 'graph') renderGraph(s, main, graphState);
    else if (page === 'timeline') renderTimeline(s, main, timelineState);
    else if (page === 'csrs') renderCsrs(s, main, csrState, decide, render);
    else if (page === 'nodes') renderNodes(s, main);
    else renderRotation(s, main);
  } catch (err) {
    // Whatever the data, the page stays usable: the other pages, the live updates, the way back.
    main.replaceChildren(el('p', { class: 'no', role: 'alert' }, 'This page cannot be drawn from the data received: ', text((err as Error).message, 300)));
  }
  timings[page] = performance.now() - t0;
  main.setAttribute('data-page', page);
  const newWrap = main.querySelector('.svgwrap');
  if (scroll && newWrap) [newWrap.scrollTop, newWrap.scrollLeft] = scroll;
  const again = focusKey ? main.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`) : focusId && focusId !== 'main' ? document.getElementById(focusId) : null;
  if (again && again !== active) {
    again.focus({ preventScroll: true });
    if (caret && again instanceof HTMLInputElement && again.type !== 'button') {
      try {
        again.setSelectionRange(caret[0], caret[1]);
      } catch {
        // type=search and the like may not support selection ranges: focus alone then.
      }
    }
  }
}

/** Each page is its own history entry (#graph, #csrs…): back and forward move between them, a link opens one. */
function go(p: Page, focusTab: boolean): void {
  const changed = page !== p;
  page = p;
  if (location.hash.slice(1) !== p) history.pushState(null, '', `#${p}`);
  main.setAttribute('aria-labelledby', `tab-${p}`);
  render();
  if (focusTab) document.getElementById(`tab-${p}`)!.focus();
  else if (changed) main.scrollTop = 0;
}

for (const p of PAGES) {
  const tab = document.getElementById(`tab-${p}`)!;
  tab.addEventListener('click', () => go(p, false));
  tab.addEventListener('keydown', (ev) => {
    const i = PAGES.indexOf(p);
    if (ev.key === 'ArrowRight') go(PAGES[(i + 1) % PAGES.length]!, true);
    else if (ev.key === 'ArrowLeft') go(PAGES[(i + PAGES.length - 1) % PAGES.length]!, true);
    else if (ev.key === 'Home') go(PAGES[0]!, true);
    else if (ev.key === 'End') go(PAGES[PAGES.length - 1]!, true);
    else return;
    ev.preventDefault();
  });
}
// Back/forward (and a link to another #page) land here; the entry already is the page's.
const fromLocation = () => {
  // Another fragment (the skip link's #main, say) is not a page: stay where we are.
  if (!PAGES.includes(location.hash.slice(1) as Page)) return;
  page = pageFromHash();
  main.setAttribute('aria-labelledby', `tab-${page}`);
  render();
};
window.addEventListener('popstate', fromLocation);
window.addEventListener('hashchange', fromLocation);
// The skip link moves focus to the page's content without touching the address (#main is no page).
document.querySelector('a.skip')?.addEventListener('click', (ev) => {
  ev.preventDefault();
  main.focus();
});
document.addEventListener('keydown', (ev) => {
  if (ev.altKey && /^[1-5]$/.test(ev.key)) {
    ev.preventDefault();
    go(PAGES[Number(ev.key) - 1]!, true);
  }
});

// The live stream. EventSource reconnects by itself after a network error (the dashboard restarting, say);
// it gives up for good on an HTTP error answer (a restarted dashboard that no longer knows the session
// answers 401), so from then on this loop retries, asks the server whether the session still holds, and
// tells the user what to do. While disconnected the page keeps the last data, dimmed, with its age.
let events: EventSource | undefined;
let retryTimer: number | undefined;
let retryDelay = 1000;
let lastSnapshot = 0;

function disconnected(why: string, detail?: string): void {
  document.body.classList.add('stale');
  status.className = 'down';
  status.textContent = why;
  const age = lastSnapshot ? ` The page shows the data received at ${new Date(lastSnapshot).toLocaleTimeString()}.` : '';
  connection.replaceChildren(el('p', { 'data-connection': 'down' }, el('strong', {}, why), detail ? ` ${detail}` : '', age));
}

async function retry(): Promise<void> {
  retryTimer = undefined;
  try {
    const res = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
    if (res.status === 401) {
      disconnected('The dashboard no longer knows this page\'s session.', 'It restarted with another key, or this is another dashboard: open the access link it printed (…/?token=…) again.');
      return schedule(10_000);
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    connect();
  } catch {
    disconnected('Disconnected from the dashboard server; retrying…', 'It may be restarting or stopped.');
    schedule(Math.min((retryDelay *= 2), 15_000));
  }
}

function schedule(ms: number): void {
  if (retryTimer === undefined) retryTimer = window.setTimeout(() => void retry(), ms);
}

function connect(): void {
  events?.close();
  const source = new EventSource('/api/events');
  events = source;
  source.addEventListener('snapshot', (ev) => {
    let next: DashboardSnapshot;
    try {
      next = JSON.parse((ev as MessageEvent<string>).data) as DashboardSnapshot;
    } catch {
      return disconnected('The dashboard server sent data this page cannot read.');
    }
    snapshot = next;
    lastSnapshot = Date.now();
    retryDelay = 1000;
    (window as unknown as { kubepkiDashboard: { snapshots: number } }).kubepkiDashboard.snapshots++;
    document.body.classList.remove('stale');
    connection.replaceChildren();
    status.className = 'live';
    status.replaceChildren(`live · as `, text(snapshot.identity, 80), ` · `, text(snapshot.server, 80), ` · updated ${new Date(snapshot.generated).toLocaleTimeString()}`);
    // A tab in the background draws nothing; it catches up when shown.
    if (!document.hidden) render();
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      source.close();
      void retry();
    } else disconnected('Disconnected from the dashboard server; reconnecting…', 'It may be restarting or stopped.');
  });
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) render();
});
main.setAttribute('aria-labelledby', `tab-${page}`);
connect();
render();
