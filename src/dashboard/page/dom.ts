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

/** "2026-12-05 21:16 UTC" */
export function fmtTime(iso: string | undefined): string {
  if (!iso) return '—';
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "in 12 days", "3 days ago", "in 5 hours" */
export function relative(iso: string, now: number): string {
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const [n, unit] = abs >= 2 * DAY ? [Math.round(abs / DAY), 'days'] : abs >= 2 * 3_600_000 ? [Math.round(abs / 3_600_000), 'hours'] : [Math.max(1, Math.round(abs / 60_000)), 'minutes'];
  const u = n === 1 ? unit.slice(0, -1) : unit;
  return ms >= 0 ? `in ${n} ${u}` : `${n} ${u} ago`;
}

export type Health = 'ok' | 'soon' | 'expired';

export function health(c: CertView, now: number): Health {
  const end = Date.parse(c.notAfter);
  if (end <= now) return 'expired';
  if (end - now <= 30 * DAY) return 'soon';
  return 'ok';
}

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/**
 * Keyboard selection inside an SVG drawing: the drawing is one tab stop; arrow keys (and Home/End) move
 * the selection through `ids` in order, Enter/Space re-announce it. Clicking an element with data-id
 * selects it too. `select` draws the selection and shows its details.
 */
export function roving(root: SVGElement, ids: string[], current: string | undefined, select: (id: string) => void): void {
  const move = (delta: number | 'home' | 'end') => {
    const cur = current ? ids.indexOf(current) : -1;
    const next = delta === 'home' ? 0 : delta === 'end' ? ids.length - 1 : Math.min(ids.length - 1, Math.max(0, cur + delta));
    const id = ids[next];
    if (id !== undefined) {
      current = id;
      select(id);
    }
  };
  root.addEventListener('keydown', (ev) => {
    const keys: Record<string, number | 'home' | 'end'> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1, Home: 'home', End: 'end' };
    const k = keys[ev.key];
    if (k !== undefined) {
      ev.preventDefault();
      move(k);
    } else if ((ev.key === 'Enter' || ev.key === ' ') && current) {
      ev.preventDefault();
      select(current);
    }
  });
  root.addEventListener('click', (ev) => {
    const target = (ev.target as Element).closest('[data-id]');
    const id = target?.getAttribute('data-id');
    if (id) {
      current = id;
      select(id);
    }
  });
}
