// The page's HTML shell and stylesheet. The scripts are compiled from ./page (its own tsconfig, DOM types).
// The CSRF token goes into a <meta> that only a same-origin script can read.

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

export function indexHtml(csrfToken: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${escapeAttr(csrfToken)}">
<title>kubepki dashboard</title>
<link rel="stylesheet" href="/static/style.css">
<script type="module" src="/static/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <h1>kubepki</h1>
  <nav role="tablist" aria-label="Dashboard pages">
    <button role="tab" id="tab-graph" aria-controls="main" data-page="graph" accesskey="1">Trust graph</button>
    <button role="tab" id="tab-timeline" aria-controls="main" data-page="timeline" accesskey="2">Expiry timeline</button>
    <button role="tab" id="tab-csrs" aria-controls="main" data-page="csrs" accesskey="3">CSR queue <span id="pending-count" class="badge"></span></button>
    <button role="tab" id="tab-nodes" aria-controls="main" data-page="nodes" accesskey="4">Nodes</button>
    <button role="tab" id="tab-rotation" aria-controls="main" data-page="rotation" accesskey="5">CA rotation</button>
  </nav>
  <div id="status" role="status" aria-live="polite">connecting…</div>
</header>
<div id="errors" role="alert"></div>
<main id="main" tabindex="-1"></main>
<div id="toast" role="status" aria-live="assertive"></div>
</body>
</html>
`;
}

export const STYLE_CSS = `
:root { --bg:#fbfbfd; --fg:#1b1f24; --muted:#5b6470; --line:#d5d9e0; --ok:#2e7d32; --warn:#e07b00; --bad:#c62828; --ca:#3949ab; --accent:#0b57d0; --soon:rgba(224,123,0,.12); }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--fg); background:var(--bg); }
.skip { position:absolute; left:-999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px; z-index:9; }
header { display:flex; align-items:center; gap:16px; padding:8px 16px; border-bottom:1px solid var(--line); background:#fff; position:sticky; top:0; z-index:5; }
h1 { font-size:18px; margin:0; }
h2 { font-size:16px; margin:0 0 8px; }
table + h2, p + h2, ul + h2, ol + h2 { margin-top:18px; }
nav { display:flex; gap:4px; }
nav button { font:inherit; padding:6px 12px; border:1px solid var(--line); background:#fff; border-radius:6px; cursor:pointer; }
nav button[aria-selected="true"] { background:var(--accent); color:#fff; border-color:var(--accent); }
button:focus-visible, [tabindex]:focus-visible, input:focus-visible, select:focus-visible { outline:3px solid #f9a825; outline-offset:2px; }
#status { margin-left:auto; color:var(--muted); font-size:12px; text-align:right; }
#status.live::before { content:"● "; color:var(--ok); }
#status.down::before { content:"● "; color:var(--bad); }
#errors:not(:empty) { margin:8px 16px; padding:8px 12px; border:1px solid var(--bad); background:#fdecea; color:#7f1d1d; border-radius:6px; }
#errors p { margin:2px 0; }
main { padding:12px 16px; }
.badge:not(:empty) { background:var(--warn); color:#fff; border-radius:9px; padding:0 6px; font-size:12px; margin-left:4px; }
.split { display:grid; grid-template-columns: minmax(0,1fr) 360px; gap:12px; }
.panel { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.details { max-height: calc(100vh - 120px); overflow:auto; font-size:13px; }
.details dt { font-weight:600; margin-top:6px; color:var(--muted); }
.details dd { margin:0; word-break:break-all; }
.svgwrap { overflow:auto; max-height: calc(100vh - 150px); background:#fff; border:1px solid var(--line); border-radius:8px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg .ca rect { fill:#e8eaf6; stroke:var(--ca); stroke-width:1.5; }
svg .ca.current rect { stroke-width:3; }
svg .ca.old rect { fill:#fff3e0; stroke:var(--warn); stroke-dasharray:4 2; }
svg .leaf { stroke:#fff; stroke-width:1; }
svg .ok { fill:var(--ok); } svg .soon { fill:var(--warn); } svg .expired { fill:var(--bad); }
svg .edge { stroke:#9aa3b0; fill:none; } svg .edge.cross { stroke:var(--ca); stroke-dasharray:5 3; }
svg .selected { stroke:#000 !important; stroke-width:3 !important; }
svg .axis line { stroke:var(--line); } svg .axis line.plot-start { stroke:#9aa3b0; } svg .axis text { fill:var(--muted); }
svg .now { stroke:var(--bad); stroke-width:1.5; }
svg .next30 { fill:var(--soon); }
svg .calife { fill:rgba(57,73,171,.08); stroke:rgba(57,73,171,.35); }
svg .window { fill:url(#hatch); }
svg .bar.ok { fill:#66bb6a; } svg .bar.soon { fill:#ffa726; } svg .bar.expired { fill:#e57373; } svg .bar.ca { fill:#7986cb; }
.legend { display:flex; gap:14px; flex-wrap:wrap; color:var(--muted); font-size:12px; margin:6px 0; }
svg text.on-leaf { fill:#fff; }
.lg-ca { background:#e8eaf6; border:1px solid #3949ab; } .lg-old { background:#fff3e0; border:1px dashed #e07b00; }
.lg-ok { background:#2e7d32; } .lg-soon { background:#e07b00; } .lg-bad { background:#c62828; }
.lg-calife { background:rgba(57,73,171,.15); border:1px solid rgba(57,73,171,.4); } .lg-window { background:repeating-linear-gradient(45deg,#1b1f24 0 2px,transparent 2px 5px); } .lg-next30 { background:rgba(224,123,0,.25); }
.legend i { display:inline-block; width:12px; height:12px; vertical-align:-2px; margin-right:4px; border-radius:2px; }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { position:sticky; top:0; background:#f1f3f6; font-weight:600; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
.state { font-weight:600; } .state.Pending { color:var(--warn); } .state.Issued, .state.Approved { color:var(--ok); } .state.Denied, .state.Failed { color:var(--bad); }
.actions { display:flex; gap:6px; flex-wrap:wrap; }
.actions button, .toolbar button, form button { font:inherit; padding:3px 10px; border-radius:5px; border:1px solid var(--line); background:#fff; cursor:pointer; }
.actions button.approve { border-color:var(--ok); color:var(--ok); } .actions button.deny { border-color:var(--bad); color:var(--bad); }
.actions input { font:inherit; width:180px; padding:2px 6px; }
.toolbar { display:flex; gap:8px; align-items:center; margin-bottom:8px; flex-wrap:wrap; }
.toolbar button[aria-pressed="true"] { background:var(--accent); color:#fff; }
#toast:not(:empty) { position:fixed; bottom:16px; right:16px; background:#263238; color:#fff; padding:8px 14px; border-radius:6px; max-width:520px; }
#toast.error { background:var(--bad); }
.muted { color:var(--muted); }
.yes { color:var(--ok); font-weight:600; } .no { color:var(--bad); font-weight:600; } .unknown { color:var(--muted); font-style:italic; }
ol.steps li { margin:4px 0; }
`;
