// The page's HTML shell and stylesheet. The scripts are compiled from ./page (its own tsconfig, DOM types).
// The CSRF token goes into a <meta> that only a same-origin script can read.

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The document's start up to <body>: both pages share it; `extra` goes last in <head>. */
const head = (title: string, extra = '') => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${title}</title>
<link rel="stylesheet" href="/static/style.css">
${extra}</head>
`;

export function indexHtml(csrfToken: string): string {
  return `${head('kubepki dashboard', `<meta name="csrf-token" content="${escapeAttr(csrfToken)}">\n<script type="module" src="/static/app.js"></script>\n`)}<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>kubepki</h1>
  <nav aria-label="Dashboard pages"><div role="tablist" aria-label="Dashboard pages">
    <button type="button" role="tab" id="tab-graph" aria-controls="main" data-page="graph" aria-keyshortcuts="Alt+1">Trust graph</button>
    <button type="button" role="tab" id="tab-timeline" aria-controls="main" data-page="timeline" aria-keyshortcuts="Alt+2">Expiry timeline</button>
    <button type="button" role="tab" id="tab-csrs" aria-controls="main" data-page="csrs" aria-keyshortcuts="Alt+3">CSR queue <span id="pending-count" class="badge"></span></button>
    <button type="button" role="tab" id="tab-nodes" aria-controls="main" data-page="nodes" aria-keyshortcuts="Alt+4">Nodes</button>
    <button type="button" role="tab" id="tab-rotation" aria-controls="main" data-page="rotation" aria-keyshortcuts="Alt+5">CA rotation</button>
  </div></nav>
  <div id="status" role="status" aria-live="polite">connecting…</div>
</header>
<div id="connection" role="alert"></div>
<div id="errors" role="alert"></div>
<main id="main" role="tabpanel" aria-labelledby="tab-graph" tabindex="-1"></main>
<div id="toast" role="status" aria-live="assertive"></div>
</body>
</html>
`;
}

/** The page a browser gets without a session: how to get one, and nothing about the cluster. */
export function signInHtml(problem?: string): string {
  return `${head('kubepki dashboard: access link needed')}<body>
<main id="main" class="signin">
<h1>kubepki dashboard</h1>
${problem ? `<p id="signin-problem" class="no">${escapeAttr(problem)}</p>\n` : ''}<p>This dashboard acts with its kubeconfig's credentials, so it opens directly only for the operating-system user
who started it; anyone else needs its access link:
the address with <code>?token=…</code> that <code>kubepki dashboard</code> (or <code>kubepki serve --dashboard</code>)
printed when it started. Open that address in this browser.</p>
</main>
</body>
</html>
`;
}

export const STYLE_CSS = `
:root { color-scheme: light dark;
  --bg:#fbfbfd; --panel:#fff; --head:#f1f3f6; --fg:#1b1f24; --muted:#555e6a; --line:#d5d9e0; --ok:#2e7d32; --warn:#a14a00; --bad:#c62828; --notyet:#6a1b9a; --ca:#3949ab; --accent:#0b57d0; --on-accent:#fff;
  --ca-fill:#e8eaf6; --old-fill:#fff3e0; --soon-band:rgba(161,74,0,.12); --err-bg:#fdecea; --err-fg:#7f1d1d; --focus:#0b57d0;
  --fill-ok:#2e7d32; --fill-soon:#a14a00; --fill-bad:#c62828; --fill-notyet:#6a1b9a; --fill-unreadable:#616161; --edge:#8a93a0; }
@media (prefers-color-scheme: dark) { :root {
  --bg:#111418; --panel:#1b1f24; --head:#262b33; --fg:#e6e8eb; --muted:#a7b0bb; --line:#3a414b; --ok:#66bb6a; --warn:#ffb74d; --bad:#ef9a9a; --notyet:#ce93d8; --ca:#9fa8da; --accent:#8ab4f8; --on-accent:#0b0f14;
  --ca-fill:#262b45; --old-fill:#3a2a14; --soon-band:rgba(255,183,77,.14); --err-bg:#3b1517; --err-fg:#ffd7d7; --focus:#8ab4f8; --edge:#6b7480; } }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
/* Text from the cluster: never wider than its box, never reordering the text around it (bdi isolates it).
   Table cells break only what does not fit (their values are cut short), so columns keep whole words. */
dd, li, p, #errors, #toast, #status, summary { overflow-wrap:anywhere; }
td { overflow-wrap:break-word; } th { white-space:nowrap; }
details.more dl { max-width:36ch; overflow-wrap:anywhere; }
.state { white-space:nowrap; }
bdi.v { unicode-bidi:isolate; }
.ctl { color:var(--bad); font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:.85em; }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:var(--panel); padding:4px; z-index:9; }
header { display:flex; align-items:center; gap:8px 16px; padding:8px 16px; border-bottom:1px solid var(--line); background:var(--panel); position:sticky; top:0; z-index:5; flex-wrap:wrap; }
h1 { font-size:18px; margin:0; }
h2 { font-size:16px; margin:0 0 8px; }
table + h2, p + h2, ul + h2, ol + h2, .tablewrap + h2 { margin-top:18px; }
nav, [role="tablist"] { display:flex; gap:4px; min-width:0; }
[role="tablist"] { flex-wrap:wrap; }
[role="tab"] { font:inherit; color:var(--fg); padding:6px 12px; border:1px solid var(--line); background:var(--panel); border-radius:6px; cursor:pointer; }
[role="tab"][aria-selected="true"] { background:var(--accent); color:var(--on-accent); border-color:var(--accent); }
a:focus-visible, button:focus-visible, summary:focus-visible, [tabindex]:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid var(--focus); outline-offset:2px; }
a { color:var(--accent); }
#status { margin-left:auto; color:var(--muted); font-size:12px; text-align:right; min-width:0; }
#status.live::before { content:"● "; color:var(--ok); }
#status.down::before { content:"● "; color:var(--bad); }
#connection:not(:empty), #errors:not(:empty) { margin:8px 16px; padding:8px 12px; border:1px solid var(--bad); background:var(--err-bg); color:var(--err-fg); border-radius:6px; }
#errors p, #connection p { margin:2px 0; }
body.stale main { opacity:.6; }
main { padding:12px 16px; }
main.signin { max-width:640px; margin:40px auto; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.badge:not(:empty) { background:var(--fill-soon); color:#fff; border-radius:9px; padding:0 6px; font-size:12px; margin-left:4px; }
.split { display:grid; grid-template-columns: minmax(0,1fr) minmax(0,360px); gap:12px; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:10px 12px; min-width:0; }
.details { max-height: calc(100vh - 120px); overflow:auto; font-size:13px; }
.details dt { font-weight:600; margin-top:6px; color:var(--muted); }
.details dd { margin:0; }
.details ul { margin:0; padding-left:18px; }
.svgwrap { overflow:auto; max-height: calc(100vh - 150px); background:var(--panel); border:1px solid var(--line); border-radius:8px; }
.tablewrap { overflow-x:auto; max-width:100%; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .ca rect { fill:var(--ca-fill); stroke:var(--ca); stroke-width:1.5; }
svg .ca.current rect { stroke-width:3; }
svg .ca.old rect { fill:var(--old-fill); stroke:var(--warn); stroke-dasharray:4 2; }
svg .leaf { stroke:var(--panel); stroke-width:1; }
svg .ok { fill:var(--fill-ok); } svg .soon { fill:var(--fill-soon); } svg .expired { fill:var(--fill-bad); } svg .notyet { fill:var(--fill-notyet); }
svg .unreadable { fill:var(--fill-unreadable); stroke:var(--bad); stroke-dasharray:3 2; }
svg .edge { stroke:var(--edge); fill:none; } svg .edge.cross { stroke:var(--ca); stroke-dasharray:5 3; }
svg .selected { stroke:var(--fg) !important; stroke-width:3 !important; }
svg .axis line { stroke:var(--line); } svg .axis line.plot-start { stroke:var(--edge); } svg .axis text { fill:var(--muted); }
svg text.muted { fill:var(--muted); }
svg .now { stroke:var(--bad); stroke-width:1.5; }
svg .next30 { fill:var(--soon-band); }
svg .calife { fill:rgba(57,73,171,.08); stroke:rgba(57,73,171,.35); }
svg .window { fill:url(#hatch); }
svg .bar.ok { fill:#66bb6a; } svg .bar.soon { fill:#ffa726; } svg .bar.expired { fill:#e57373; } svg .bar.ca { fill:#7986cb; } svg .bar.notyet { fill:#ba68c8; stroke:var(--notyet); stroke-dasharray:3 2; }
svg text.unreadable-mark { fill:var(--bad); font-weight:600; }
.legend { display:flex; gap:6px 14px; flex-wrap:wrap; color:var(--muted); font-size:12px; margin:6px 0; }
svg text.on-leaf { fill:#fff; }
.lg-ca { background:var(--ca-fill); border:1px solid var(--ca); } .lg-old { background:var(--old-fill); border:1px dashed var(--warn); }
.lg-ok { background:var(--fill-ok); } .lg-soon { background:var(--fill-soon); } .lg-bad { background:var(--fill-bad); } .lg-notyet { background:var(--fill-notyet); } .lg-unreadable { background:var(--fill-unreadable); border:1px dashed var(--bad); }
.lg-calife { background:rgba(57,73,171,.15); border:1px solid rgba(57,73,171,.4); } .lg-window { background:repeating-linear-gradient(45deg,var(--fg) 0 2px,transparent 2px 5px); } .lg-next30 { background:rgba(161,74,0,.25); }
.legend i { display:inline-block; width:12px; height:12px; vertical-align:-2px; margin-right:4px; border-radius:2px; }
table { border-collapse:collapse; width:100%; background:var(--panel); }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
thead th { position:sticky; top:0; background:var(--head); font-weight:600; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
.state { font-weight:600; } .state.Pending { color:var(--warn); } .state.Issued, .state.Approved { color:var(--ok); } .state.Denied, .state.Failed { color:var(--bad); }
.health { font-weight:600; } .health.ok { color:var(--ok); } .health.soon { color:var(--warn); } .health.expired, .health.unreadable { color:var(--bad); } .health.notyet { color:var(--notyet); }
.actions { display:flex; gap:6px; flex-wrap:wrap; }
.actions button, .toolbar button, form button, .more button { font:inherit; color:var(--fg); padding:3px 10px; border-radius:5px; border:1px solid var(--line); background:var(--panel); cursor:pointer; }
.actions button.approve { border-color:var(--ok); color:var(--ok); } .actions button.deny { border-color:var(--bad); color:var(--bad); }
.actions input { font:inherit; width:180px; max-width:100%; padding:2px 6px; color:var(--fg); background:var(--panel); border:1px solid var(--muted); }
details.more summary { cursor:pointer; color:var(--accent); font-size:12px; }
details.more dl { margin:4px 0; font-size:12px; } details.more dt { font-weight:600; color:var(--muted); } details.more dd { margin:0 0 2px; }
.toolbar { display:flex; gap:8px; align-items:center; margin-bottom:8px; flex-wrap:wrap; }
.toolbar button[aria-pressed="true"] { background:var(--accent); color:var(--on-accent); border-color:var(--accent); }
#toast:not(:empty) { position:fixed; bottom:16px; right:16px; left:auto; background:#263238; color:#fff; padding:8px 14px; border-radius:6px; max-width:min(520px, calc(100vw - 32px)); }
#toast.error { background:#b71c1c; }
.muted { color:var(--muted); }
.yes { color:var(--ok); font-weight:600; } .no { color:var(--bad); font-weight:600; } .unknown { color:var(--muted); font-style:italic; }
ol.steps li { margin:4px 0; }
@media (max-width: 760px) {
  header { padding:6px 8px; } main { padding:8px; }
  #status { margin-left:0; text-align:left; flex-basis:100%; }
  .split { grid-template-columns: minmax(0,1fr); }
  .details, .svgwrap { max-height:none; }
  .svgwrap { max-height:70vh; }
}
`;
