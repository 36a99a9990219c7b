// Page 3, the CSR queue: every CertificateSigningRequest by state, newest first; Approve / Deny (with a
// reason) on pending ones. The decision goes to the dashboard server, which writes the /approval
// subresource as the kubeconfig's identity: the API server decides, and its refusal is shown as it is.
// Thousands of CSRs: a search box and pages of PAGE rows keep a live re-render cheap; every value is cut
// short in the table and shown whole under the row's "details".
import type { CsrState, CsrView, DashboardSnapshot } from '../view.js';
import { el, fmtTime, relative, text, visible } from './dom.js';

export interface CsrPageState {
  filter?: CsrState | 'All';
  /** Search text (name, requestor, subject, signer), kept across re-renders. */
  query?: string;
  /** How many rows are shown (grows by PAGE). */
  limit?: number;
  /** Reason text typed per CSR, kept across live re-renders. */
  reasons: Map<string, string>;
  /** The last outcome per CSR (e.g. the API's "forbidden"), shown in its row. */
  outcomes: Map<string, { ok: boolean; text: string }>;
  /** Rows whose details are open. */
  open?: Set<string>;
}

export type Decide = (name: string, approve: boolean, message: string) => Promise<{ ok: boolean; text: string }>;

const STATES: (CsrState | 'All')[] = ['All', 'Pending', 'Approved', 'Issued', 'Denied', 'Failed'];
const PAGE = 200;

function matches(c: CsrView, q: string): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return [c.name, c.requestor, c.subject, c.signerName].some((v) => typeof v === 'string' && v.toLowerCase().includes(needle));
}

function more(c: CsrView, state: CsrPageState): HTMLElement {
  const d = el('details', { class: 'more', 'data-more': c.name });
  const summary = el('summary', { 'data-key': `more-${c.name}` }, 'details');
  summary.setAttribute('aria-label', `Details of ${visible(c.name)}`);
  d.append(summary);
  const rows: [string, Node | string][] = [
    ['Name', text(c.name, Infinity)],
    ['Requestor', text(c.requestor, Infinity)],
    ['UID', c.uid ? text(c.uid, Infinity) : '—'],
    ['Groups', c.groups.length ? list(c.groups) : '—'],
    ['Extra', c.extra ? list(Object.entries(c.extra).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`)) : '—'],
    ['Subject', text(c.subject, Infinity)],
    ['Requested SANs', c.sans?.length ? list(c.sans) : '—'],
    ['Signer', text(c.signerName, Infinity)],
    ['Usages', c.usages.length ? list(c.usages) : '—'],
    ['Expiration seconds', c.expirationSeconds !== undefined ? String(c.expirationSeconds) : '—'],
    ['Created', fmtTime(c.created)],
    ['Decision', [c.reason, c.message].filter(Boolean).length ? text([c.reason, c.message].filter(Boolean).join(': '), Infinity) : '—'],
    ['Certificate', c.certificateError ? el('span', { class: 'no' }, 'unreadable: ', text(c.certificateError, Infinity)) : c.certificate ? el('span', { class: 'mono' }, c.certificate) : '—'],
  ];
  const fill = () => {
    if (d.querySelector('dl')) return;
    const dl = el('dl');
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    d.append(dl);
  };
  const open = (state.open ??= new Set());
  if (open.has(c.name)) {
    fill();
    d.open = true;
  }
  d.addEventListener('toggle', () => {
    if (d.open) {
      fill();
      open.add(c.name);
    } else open.delete(c.name);
  });
  return d;
}

function list(items: string[]): HTMLElement {
  const ul = el('ul');
  for (const i of items) ul.append(el('li', {}, text(i, Infinity)));
  return ul;
}

export function renderCsrs(s: DashboardSnapshot, main: HTMLElement, state: CsrPageState, decide: Decide, rerender: () => void): void {
  const now = Date.parse(s.generated);
  const filter = state.filter ?? 'All';
  const query = state.query ?? '';
  const counts = new Map<string, number>();
  for (const c of s.csrs) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const toolbar = el('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filter by state' });
  for (const st of STATES) {
    const n = st === 'All' ? s.csrs.length : counts.get(st) ?? 0;
    const b = el('button', { type: 'button', 'aria-pressed': String(st === filter), 'data-key': `filter-${st}` }, `${st} (${n})`);
    b.addEventListener('click', () => {
      state.filter = st;
      state.limit = PAGE;
      rerender();
    });
    toolbar.append(b);
  }
  const search = el('input', { type: 'search', id: 'csr-search', 'data-key': 'csr-search', 'aria-label': 'Search CSRs by name, requestor, subject or signer', placeholder: 'search' });
  search.value = query;
  search.addEventListener('input', () => {
    state.query = search.value;
    state.limit = PAGE;
    rerender();
  });
  toolbar.append(search);

  const table = el('table', { id: 'csr-table', 'aria-label': 'Certificate signing requests' });
  table.append(el('thead', {}, el('tr', {}, ...['Name', 'State', 'Requestor', 'Signer', 'Subject', 'Usages', 'Created', 'Decision'].map((h) => el('th', { scope: 'col' }, h)))));
  const tbody = el('tbody');
  const all = s.csrs.filter((c) => (filter === 'All' || c.state === filter) && matches(c, query)).sort((a, b) => String(b.created).localeCompare(String(a.created)) || String(a.name).localeCompare(String(b.name)));
  const limit = state.limit ?? PAGE;
  const rows = all.slice(0, limit);
  for (const c of rows) {
    const cell = el('td');
    const decision = el('div', { class: 'actions' });
    cell.append(decision);
    if (c.state === 'Pending') {
      const input = el('input', { type: 'text', 'aria-label': `Reason for ${visible(c.name)}`, placeholder: 'reason (optional)', 'data-key': `reason-${c.name}`, maxlength: '1024' });
      input.value = state.reasons.get(c.name) ?? '';
      input.addEventListener('input', () => state.reasons.set(c.name, input.value));
      const act = (approve: boolean) => async () => {
        const out = await decide(c.name, approve, input.value);
        state.outcomes.set(c.name, out);
        if (out.ok) state.reasons.delete(c.name);
        rerender();
      };
      const approve = el('button', { type: 'button', class: 'approve', 'data-key': `approve-${c.name}`, 'aria-label': `Approve ${visible(c.name)}` }, 'Approve');
      const deny = el('button', { type: 'button', class: 'deny', 'data-key': `deny-${c.name}`, 'aria-label': `Deny ${visible(c.name)}` }, 'Deny');
      approve.addEventListener('click', act(true));
      deny.addEventListener('click', act(false));
      decision.append(approve, deny, input);
    } else {
      const why = [c.reason, c.message].filter(Boolean).join(': ');
      decision.append(el('span', { class: 'muted' }, why ? text(why, 120) : '—'));
    }
    const out = state.outcomes.get(c.name);
    if (out) cell.append(el('div', { class: out.ok ? 'yes' : 'no', role: out.ok ? 'status' : 'alert', 'data-outcome': c.name }, text(out.text, 400)));
    const stateCell = el('td', {}, el('span', { class: `state ${c.state}` }, c.state));
    if (c.certificateError) stateCell.append(el('div', { class: 'no', 'data-certificate-error': c.name }, 'certificate unreadable'));
    tbody.append(
      el(
        'tr',
        { 'data-csr': c.name },
        el('td', { class: 'mono' }, text(c.name, 40), more(c, state)),
        stateCell,
        el('td', {}, text(c.requestor, 40)),
        el('td', { class: 'mono' }, text(c.signerName, 48)),
        el('td', {}, text(c.subject, 80)),
        el('td', {}, text(c.usages.join(', '), 80)),
        el('td', { title: fmtTime(c.created) }, c.created ? relative(c.created, now) : '—'),
        cell,
      ),
    );
  }
  table.append(tbody);
  const shown = el('p', { class: 'muted', id: 'csr-shown' }, `Showing ${rows.length} of ${all.length}${all.length !== s.csrs.length ? ` (${s.csrs.length} in all)` : ''}.`);
  let moreButton: HTMLElement | '' = '';
  if (all.length > rows.length) {
    moreButton = el('button', { type: 'button', id: 'csr-more', 'data-key': 'csr-more' }, `Show ${Math.min(PAGE, all.length - rows.length)} more`);
    moreButton.addEventListener('click', () => {
      state.limit = limit + PAGE;
      rerender();
    });
  }
  const empty = rows.length === 0 ? el('p', { class: 'muted' }, s.errors['certificatesigningrequests'] ? 'The CSR list could not be read (see above).' : s.csrs.length ? 'No CSR matches.' : 'No certificate signing requests.') : '';
  main.replaceChildren(el('h2', {}, 'Certificate signing requests'), toolbar, el('div', { class: 'tablewrap', role: 'region', 'aria-label': 'Certificate signing requests table', tabindex: '0' }, table), empty, shown, el('div', { class: 'more' }, moreButton));
}
