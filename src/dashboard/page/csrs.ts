// Page 3, the CSR queue: every CertificateSigningRequest by state, newest first; Approve / Deny (with a
// reason) on pending ones. The decision goes to the dashboard server, which writes the /approval
// subresource as the kubeconfig's identity: the API server decides, and its refusal is shown as it is.
import type { CsrState, DashboardSnapshot } from '../view.js';
import { el, fmtTime, relative, truncate } from './dom.js';

export interface CsrPageState {
  filter?: CsrState | 'All';
  /** Reason text typed per CSR, kept across live re-renders. */
  reasons: Map<string, string>;
  /** The last outcome per CSR (e.g. the API's "forbidden"), shown in its row. */
  outcomes: Map<string, { ok: boolean; text: string }>;
}

export type Decide = (name: string, approve: boolean, message: string) => Promise<{ ok: boolean; text: string }>;

const STATES: (CsrState | 'All')[] = ['All', 'Pending', 'Approved', 'Issued', 'Denied', 'Failed'];

export function renderCsrs(s: DashboardSnapshot, main: HTMLElement, state: CsrPageState, decide: Decide, rerender: () => void): void {
  const now = Date.parse(s.generated);
  const filter = state.filter ?? 'All';
  const counts = new Map<string, number>();
  for (const c of s.csrs) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const toolbar = el('div', { class: 'toolbar', role: 'group', 'aria-label': 'Filter by state' });
  for (const st of STATES) {
    const n = st === 'All' ? s.csrs.length : counts.get(st) ?? 0;
    const b = el('button', { type: 'button', 'aria-pressed': String(st === filter), 'data-key': `filter-${st}` }, `${st} (${n})`);
    b.addEventListener('click', () => {
      state.filter = st;
      rerender();
    });
    toolbar.append(b);
  }
  const table = el('table', { id: 'csr-table', 'aria-label': 'Certificate signing requests' });
  table.append(el('thead', {}, el('tr', {}, ...['Name', 'State', 'Requestor', 'Signer', 'Subject', 'Usages', 'Created', 'Decision'].map((h) => el('th', { scope: 'col' }, h)))));
  const tbody = el('tbody');
  const rows = s.csrs.filter((c) => filter === 'All' || c.state === filter).sort((a, b) => b.created.localeCompare(a.created) || a.name.localeCompare(b.name));
  for (const c of rows) {
    const cell = el('td');
    const decision = el('div', { class: 'actions' });
    cell.append(decision);
    if (c.state === 'Pending') {
      const input = el('input', { type: 'text', 'aria-label': `Reason for ${c.name}`, placeholder: 'reason (optional)', 'data-key': `reason-${c.name}` });
      input.value = state.reasons.get(c.name) ?? '';
      input.addEventListener('input', () => state.reasons.set(c.name, input.value));
      const act = (approve: boolean) => async () => {
        const out = await decide(c.name, approve, input.value);
        state.outcomes.set(c.name, out);
        if (out.ok) state.reasons.delete(c.name);
        rerender();
      };
      const approve = el('button', { type: 'button', class: 'approve', 'data-key': `approve-${c.name}`, 'aria-label': `Approve ${c.name}` }, 'Approve');
      const deny = el('button', { type: 'button', class: 'deny', 'data-key': `deny-${c.name}`, 'aria-label': `Deny ${c.name}` }, 'Deny');
      approve.addEventListener('click', act(true));
      deny.addEventListener('click', act(false));
      decision.append(approve, deny, input);
    } else {
      decision.append(el('span', { class: 'muted' }, [c.reason, c.message].filter(Boolean).join(': ') || '—'));
    }
    const out = state.outcomes.get(c.name);
    if (out) cell.append(el('div', { class: out.ok ? 'yes' : 'no', role: out.ok ? 'status' : 'alert', 'data-outcome': c.name }, out.text));
    tbody.append(
      el(
        'tr',
        { 'data-csr': c.name },
        el('td', { class: 'mono' }, c.name),
        el('td', {}, el('span', { class: `state ${c.state}` }, c.state)),
        el('td', {}, truncate(c.requestor, 40)),
        el('td', { class: 'mono' }, c.signerName),
        el('td', {}, c.subject),
        el('td', {}, c.usages.join(', ')),
        el('td', { title: fmtTime(c.created) }, c.created ? relative(c.created, now) : '—'),
        cell,
      ),
    );
  }
  table.append(tbody);
  const empty = rows.length === 0 ? el('p', { class: 'muted' }, s.errors['certificatesigningrequests'] ? 'The CSR list could not be read (see above).' : 'No certificate signing requests.') : '';
  main.replaceChildren(el('h2', {}, 'Certificate signing requests'), toolbar, table, empty);
}
