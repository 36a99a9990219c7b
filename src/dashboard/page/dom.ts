// Small DOM helpers for the dashboard page. Text goes in through textContent only (never innerHTML), so
// nothing from the cluster — a CSR's subject, a Secret's name — can become markup.
import type { CertView } from '../view.js';

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const e = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export const DAY = 86_400_000;

/** A time from the cluster, or NaN when it is not one (a hostile or broken server may send anything). */
function timeOf(iso: string | undefined): number {
  return iso ? Date.parse(iso) : NaN;
}

/** "2026-12-05 21:16 UTC"; what was sent, shown as such, when it is not a time. */
export function fmtTime(iso: string | undefined): string {
  if (!iso) return '—';
  const t = timeOf(iso);
  return Number.isFinite(t) ? `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC` : `invalid time "${visible(truncate(iso, 40))}"`;
}

/** "in 12 days", "3 days ago", "in 5 hours" */
export function relative(iso: string, now: number): string {
  const t = timeOf(iso);
  if (!Number.isFinite(t)) return 'unknown time';
  const ms = t - now;
  const abs = Math.abs(ms);
  const [n, unit] = abs >= 2 * DAY ? [Math.round(abs / DAY), 'days'] : abs >= 2 * 3_600_000 ? [Math.round(abs / 3_600_000), 'hours'] : [Math.max(1, Math.round(abs / 60_000)), 'minutes'];
  const u = n === 1 ? unit.slice(0, -1) : unit;
  return ms >= 0 ? `in ${n} ${u}` : `${n} ${u} ago`;
}

/** A certificate's validity now: expired, not yet valid, expiring within 30 days, or fine. */
export type Health = 'ok' | 'soon' | 'expired' | 'notyet';

export const HEALTH_TEXT: Record<Health | 'unreadable', string> = {
  ok: 'valid',
  soon: 'expires within 30 days',
  expired: 'expired',
  notyet: 'not yet valid',
  unreadable: 'unreadable',
};

export function health(c: CertView, now: number): Health {
  const end = timeOf(c.notAfter);
  const start = timeOf(c.notBefore);
  if (!(end > now)) return 'expired';
  if (start > now) return 'notyet';
  if (end - now <= 30 * DAY) return 'soon';
  return 'ok';
}

/** At most n characters (code points: an emoji or a surrogate pair is never cut in half). */
export function truncate(s: string, n: number): string {
  if (s.length <= n) return s;
  const cps = Array.from(s);
  return cps.length > n ? `${cps.slice(0, n - 1).join('')}…` : s;
}

/**
 * Characters that are invisible or reorder text (controls, bidi overrides and isolates, zero-width
 * characters, lone surrogates): in a name from the cluster they are how "node1" and "node1\u200b", or a
 * spoofed "…exe.txt", look alike. They are shown as their code point instead.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;

export function visible(s: string): string {
  return s.replace(HIDDEN, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/**
 * Text from the cluster, as an element: isolated from the text around it (<bdi>), hidden characters shown
 * (visible), cut at `max` characters with the whole value in its title (and in the details views).
 */
export function text(value: unknown, max = 160): HTMLElement {
  const s = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const shown = visible(s);
  const cut = truncate(shown, max);
  const e = el('bdi', { class: 'v' }, cut);
  if (cut !== shown) {
    e.classList.add('cut');
    e.title = truncate(shown, 4096);
  } else if (shown !== s) e.title = shown;
  return e;
}

/**
 * Keyboard selection inside an SVG drawing: the drawing is one tab stop and, to assistive technology, a
 * listbox whose options are its [data-id] elements (named by `label`, the selected one its
 * aria-activedescendant); arrow keys (and Home/End) move the selection through `ids` in order, Enter/Space
 * re-announce it. Clicking an element with data-id selects it too. `select` draws the selection and shows
 * its details.
 */
export function roving(root: SVGElement, ids: string[], current: string | undefined, select: (id: string) => void, label: (id: string) => string): void {
  root.setAttribute('role', 'listbox');
  const optionOf = new Map<string, Element>();
  let n = 0;
  for (const e of root.querySelectorAll('[data-id]')) {
    const id = e.getAttribute('data-id')!;
    e.setAttribute('role', 'option');
    e.setAttribute('id', `${root.id}-option-${n++}`);
    e.setAttribute('aria-label', label(id));
    e.setAttribute('aria-selected', 'false');
    optionOf.set(id, e);
    // Chromium owns an option by its listbox only through elements without a role of their own.
    for (let up: Element | null = e.parentElement; up && up !== root; up = up.parentElement) if (!up.hasAttribute('role')) up.setAttribute('role', 'none');
  }
  const mark = (id: string) => {
    for (const e of root.querySelectorAll('[aria-selected="true"]')) e.setAttribute('aria-selected', 'false');
    const option = optionOf.get(id);
    if (option) {
      option.setAttribute('aria-selected', 'true');
      root.setAttribute('aria-activedescendant', option.id);
    }
  };
  const choose = (id: string) => {
    current = id;
    mark(id);
    select(id);
  };
  if (current) mark(current);
  const move = (delta: number | 'home' | 'end') => {
    const cur = current ? ids.indexOf(current) : -1;
    const next = delta === 'home' ? 0 : delta === 'end' ? ids.length - 1 : Math.min(ids.length - 1, Math.max(0, cur + delta));
    const id = ids[next];
    if (id !== undefined) choose(id);
  };
  root.addEventListener('keydown', (ev) => {
    const keys: Record<string, number | 'home' | 'end'> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: 'home', End: 'end' };
    const k = keys[ev.key];
    if (k !== undefined) {
      ev.preventDefault();
      move(k);
    } else if ((ev.key === 'Enter' || ev.key === ' ') && current) {
      ev.preventDefault();
      choose(current);
    }
  });
  root.addEventListener('click', (ev) => {
    const target = (ev.target as Element).closest('[data-id]');
    const id = target?.getAttribute('data-id');
    if (id) choose(id);
  });
}
