// `kubepki dashboard` and `kubepki serve --dashboard`, driven in the real page by Debian's headless
// Chromium (playwright-core, executablePath /usr/bin/chromium): CSRs approved and denied through the page
// and checked with kubectl, new CSRs appearing live, a user without rights seeing "forbidden" and unable
// to approve, the Host check (DNS rebinding, in the browser too), the CSRF token (a cross-site page in
// the same browser cannot approve), no key or token in any response, the security headers, screenshots of
// each page as artefacts, and a 1,000-certificate cluster rendered in under a second (performance.now()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/poll.js';
import { startDashboard } from '../helpers/dashboard.js';
import { freePorts } from '../helpers/ports.js';
import { launchChromium } from '../helpers/chromium.js';
import { kubectlWith, startServe } from '../api/helpers.js';
import { csrManifest, nodeCsr, userKubeconfig } from './controllers-helpers.js';
import { opensslCa, opensslLeaf } from '../helpers/openssl.js';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import type { Secret } from '../../src/apis/index.js';
import { generateKeyPair, privateKeyToPem } from '../../src/x509/keys.js';
import { issueCertificate } from '../../src/x509/certificate.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../../src/x509/usages.js';

const ARTIFACTS = process.env.KUBEPKI_TEST_ARTIFACTS ?? path.join(os.tmpdir(), 'kubepki-dashboard-artifacts');
const PAGES = ['graph', 'timeline', 'csrs', 'nodes', 'rotation'] as const;


/** The trust graph's box for a certificate, by the name written on it. */
const leaf = (page: Page, name: string) => page.locator('#graph g[data-id]').filter({ has: page.locator('css=text.on-leaf', { hasText: new RegExp(`^${name.replace(/[.]/g, '\\.')}$`) }) }).first();

/** A plain HTTP request with any Host header (a browser cannot forge one; a rebinding attacker's is theirs). */
function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The first snapshot of the event stream, read with a session cookie. */
function firstSnapshot(url: string, cookie: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL('/api/events', url), { headers: { cookie } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`GET /api/events: ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        const m = /event: snapshot\ndata: (.*)\n\n/.exec(buf);
        if (m) {
          req.destroy();
          resolve(m[1]!);
        }
      });
    });
    req.on('error', (e) => (e.message === 'socket hang up' ? undefined : reject(e)));
    req.setTimeout(15_000, () => req.destroy(new Error('no snapshot within 15 s')));
  });
}


test('kubepki dashboard in headless Chromium: live trust pages, CSR decisions through the API, and a page built like a credential', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-dashboard-');
  await mkdir(ARTIFACTS, { recursive: true });
  const dataDir = path.join(dir, 'data');
  const [apiPort, dashPort, viewerPort, nobodyPort, attackerPort] = await freePorts(5);
  const viewerToken = randomBytes(16).toString('hex');
  const nobodyToken = randomBytes(16).toString('hex');
  const tokenFile = path.join(dir, 'tokens.csv');
  await writeFile(tokenFile, `${viewerToken},viewer,uid-viewer\n${nobodyToken},nobody,uid-nobody\n`, { mode: 0o600 });

  const serve = await startServe(t, ['--token-auth-file', tokenFile, '--dashboard', String(dashPort)], { dataDir, port: apiPort! });
  const dashUrl = await until(() => /kubepki dashboard: listening on (http:\/\/\S+)/.exec(serve.stderr())?.[1], 'serve --dashboard', { timeoutMs: 30_000, intervalMs: 50 });
  assert.match(dashUrl, new RegExp(`^http://127\\.0\\.0\\.1:${dashPort}/\\?token=[A-Za-z0-9_-]{43}$`), 'serve --dashboard listens on loopback only, behind its access link');
  assert.match(serve.stderr(), /kubepki dashboard: listening on \S+ as kubernetes-admin/, 'serve --dashboard acts as admin.conf\'s user');
  const kubectl = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  // Who may do what: viewer reads CSRs but may not approve; nobody has no rights at all.
  await ok(['create', 'clusterrole', 'csr-viewer', '--verb=get,list,watch', '--resource=certificatesigningrequests']);
  await ok(['create', 'clusterrolebinding', 'csr-viewer', '--clusterrole=csr-viewer', '--user=viewer']);
  const viewerConf = await userKubeconfig(serve.kubeconfig, dir, 'viewer', { token: viewerToken });
  const nobodyConf = await userKubeconfig(serve.kubeconfig, dir, 'nobody', { token: nobodyToken });

  // What the cluster holds: node1's client and serving certificates, a TLS Secret (with its key!), an opaque
  // Secret, a certificate expiring in 10 days, and CSRs for the page to decide on.
  const createCsr = async (name: string, subject: string, signer: string, usages: string[], sans?: string) => {
    const { b64 } = await nodeCsr(dir, name, subject, sans ? { sans } : {});
    await ok(['create', '-f', '-'], csrManifest(name, b64, signer, usages));
  };
  await createCsr('node1-client', '/O=system:nodes/CN=system:node:node1', 'kubernetes.io/kube-apiserver-client-kubelet', ['digital signature', 'client auth']);
  await createCsr('node1-serving', '/O=system:nodes/CN=system:node:node1', 'kubernetes.io/kubelet-serving', ['digital signature', 'server auth'], 'DNS:node1,IP:10.0.0.11');
  await ok(['certificate', 'approve', 'node1-client', 'node1-serving']);
  const webCa = await opensslCa(dir, 'web-ca', { subject: '/CN=web-ca', days: 365, keyUsage: 'critical,keyCertSign,cRLSign' });
  const web = await opensslLeaf(dir, 'web', { ca: { cert: webCa.certFile, key: webCa.keyFile }, subject: '/CN=web.example', days: 10, ext: 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:web.example\n' });
  await ok(['create', 'secret', 'tls', 'web-tls', '--cert', web.certFile, '--key', web.keyFile]);
  const opaqueValue = `s3cret-${randomBytes(12).toString('hex')}`;
  await ok(['create', 'secret', 'generic', 'app-password', `--from-literal=password=${opaqueValue}`]);
  await createCsr('to-approve', '/CN=alice/O=devs', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
  await createCsr('to-deny', '/CN=mallory', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
  await createCsr('viewer-tries', '/CN=bob', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
  await createCsr('csrf-target', '/CN=eve', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
  const csrJson = async (name: string) => JSON.parse(await ok(['get', 'csr', name, '-o', 'json'])) as { status?: { certificate?: string; conditions?: { type: string; reason?: string; message?: string }[] } };
  await until(async () => (await csrJson('node1-client')).status?.certificate && (await csrJson('node1-serving')).status?.certificate, 'node certificates issued', { timeoutMs: 15_000, intervalMs: 50 });

  const browser = await launchChromium(t, { hostResolverRules: 'MAP rebind.test 127.0.0.1' });
  // Every response the browser gets from a dashboard, for the header and secret checks at the end.
  const responses: Promise<{ url: string; headers: Record<string, string>; body: string }>[] = [];
  browser.on('response', (r) => {
    if (!/^http:\/\/127\.0\.0\.1:(\d+)\//.test(r.url()) || r.url().includes(`:${attackerPort}/`)) return;
    const stream = (r.headers()['content-type'] ?? '').startsWith('text/event-stream');
    const body = stream ? Promise.resolve('') : Promise.race([r.text().catch(() => ''), new Promise<string>((res) => setTimeout(() => res(''), 10_000))]);
    responses.push(body.then((text) => ({ url: r.url(), headers: r.headers(), body: text })));
  });
  const cspViolations: string[] = [];
  const open = async (url: string, pageName: string): Promise<Page> => {
    const page = await browser.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
    await page.goto(`${url}#${pageName}`);
    await page.waitForSelector(`main[data-page="${pageName}"]`);
    return page;
  };
  const admin = await open(dashUrl, 'csrs');

  await t.test('the CSR queue shows what the API holds, by state', async () => {
    await admin.waitForSelector('tr[data-csr="csrf-target"]');
    const api = JSON.parse(await ok(['get', 'csr', '-o', 'json'])) as { items: { metadata: { name: string } }[] };
    const rows = await admin.$$eval('#csr-table tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-csr')));
    assert.deepEqual([...rows].sort(), api.items.map((i) => i.metadata.name).sort());
    assert.equal(await admin.textContent('tr[data-csr="node1-client"] .state'), 'Issued');
    assert.equal(await admin.textContent('tr[data-csr="to-approve"] .state'), 'Pending');
    assert.match((await admin.textContent('tr[data-csr="to-approve"]'))!, /CN=alice, O=devs|O=devs.*CN=alice|CN=alice/);
  });

  await t.test('approve by keyboard: the API records the decision and the signer issues, live on the page', async () => {
    await admin.focus('[data-key="approve-to-approve"]');
    await admin.keyboard.press('Enter');
    await admin.locator('tr[data-csr="to-approve"] .state', { hasText: /^Issued$/ }).waitFor({ timeout: 15_000 });
    const csr = await csrJson('to-approve');
    const approved = csr.status?.conditions?.find((c) => c.type === 'Approved');
    assert.equal(approved?.reason, 'DashboardApprove');
    assert.ok(csr.status?.certificate, 'the signer issued the certificate');
  });

  await t.test('deny with a reason by click: the reason reaches the API', async () => {
    await admin.fill('[data-key="reason-to-deny"]', 'not a known user');
    await admin.click('[data-key="deny-to-deny"]');
    await admin.locator('tr[data-csr="to-deny"] .state', { hasText: /^Denied$/ }).waitFor({ timeout: 15_000 });
    const denied = (await csrJson('to-deny')).status?.conditions?.find((c) => c.type === 'Denied');
    assert.equal(denied?.reason, 'DashboardDeny');
    assert.equal(denied?.message, 'not a known user');
  });

  await t.test('a new CSR appears without a reload', async () => {
    await admin.evaluate('window.noReload = 42');
    await createCsr('arrives-live', '/CN=carol', 'kubernetes.io/kube-apiserver-client', ['digital signature', 'client auth']);
    await admin.waitForSelector('tr[data-csr="arrives-live"]', { timeout: 15_000 });
    assert.equal(await admin.evaluate('window.noReload'), 42, 'the page was not reloaded');
  });

  await t.test('nodes: node1\'s certificates as the API issued them, on the current CA', async () => {
    await admin.click('#tab-nodes');
    await admin.waitForSelector('tr[data-node="node1"]');
    const row = (await admin.textContent('tr[data-node="node1"]'))!;
    const issued = new X509Certificate(Buffer.from((await csrJson('node1-client')).status!.certificate!, 'base64'));
    const notAfter = new Date(issued.validTo).toISOString().slice(0, 16).replace('T', ' ');
    assert.ok(row.includes(`expires ${notAfter} UTC`), `node1 row shows the client certificate's expiry ${notAfter}: ${row}`);
    assert.match(row, /system:node:node1/);
    assert.equal(await admin.textContent('tr[data-node="node1"] td:nth-of-type(4)'), 'yes', 'node1 is on the current CA');
  });

  await t.test('trust graph: the CAs the cluster knows, and a certificate\'s details by keyboard', async () => {
    await admin.click('#tab-graph');
    const legend = (await admin.textContent('.legend'))!;
    // kubeadm's three CAs (ca, front-proxy-ca, etcd/ca); web-ca is not one of them: the TLS Secret holds only
    // its leaf, so web-ca shows as an issuer unknown to the dashboard.
    assert.match(legend, /3 CAs/);
    await admin.focus('#graph');
    await admin.keyboard.press('ArrowRight');
    await admin.waitForSelector('#details h2');
    assert.match((await admin.textContent('#details'))!, /CA: CN=/);
    await leaf(admin, 'web.example').click();
    const details = (await admin.textContent('#details'))!;
    assert.match(details, /DNS:web\.example/);
    assert.match(details, /Secret default\/web-tls \(tls\.crt\)/);
    assert.match(details, /CN=web-ca \(not known to the dashboard\)/);
  });

  await t.test('expiry timeline: the certificate expiring in 10 days is called out', async () => {
    await admin.click('#tab-timeline');
    assert.match((await admin.textContent('#next30-count'))!, /^1 expire in the next 30 days$/);
    assert.match((await admin.textContent('#next30'))!, /web\.example/);
  });

  await t.test('screenshots of every page (test artefacts and docs/screenshots)', async () => {
    await admin.click('#tab-graph');
    await leaf(admin, 'system:node:node1').click();
    await admin.evaluate(`document.getElementById('toast').textContent = ''`); // the last decision's toast
    for (const p of PAGES) {
      await admin.click(`#tab-${p}`);
      await admin.waitForSelector(`main[data-page="${p}"]`);
      const file = path.join(ARTIFACTS, `dashboard-${p}.png`);
      await admin.screenshot({ path: file });
      assert.ok((await readFile(file)).length > 10_000, `${file} has content`);
    }
    t.diagnostic(`screenshots in ${ARTIFACTS}`);
  });

  await t.test('a user without rights sees "Forbidden" and gets no data', async () => {
    const nobody = await startDashboard(t, ['--kubeconfig', nobodyConf, '--port', String(nobodyPort)]);
    // The bare address, as the issue's operator types it: the browser runs as the dashboard's own OS user.
    const page = await open(`${new URL(nobody.url).origin}/`, 'csrs');
    await page.waitForSelector('#errors [data-error="certificatesigningrequests"]', { timeout: 15_000 });
    assert.match((await page.textContent('#errors [data-error="certificatesigningrequests"]'))!, /^Forbidden — certificatesigningrequests: .*"nobody".*cannot list/);
    assert.equal(await page.$$eval('#csr-table tbody tr', (trs) => trs.length), 0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-forbidden.png') });
    await page.close();
  });

  await t.test('a user who may read but not approve: the API\'s "forbidden" is shown and the CSR stays pending', async () => {
    const viewer = await startDashboard(t, ['--kubeconfig', viewerConf, '--port', String(viewerPort)]);
    const page = await open(`${new URL(viewer.url).origin}/`, 'csrs');
    await page.waitForSelector('[data-key="approve-viewer-tries"]');
    await page.click('[data-key="approve-viewer-tries"]');
    await page.waitForSelector('[data-outcome="viewer-tries"]');
    assert.match((await page.textContent('[data-outcome="viewer-tries"]'))!, /^Forbidden: .*"viewer" cannot update resource "certificatesigningrequests\/approval"/);
    assert.equal((await csrJson('viewer-tries')).status?.conditions, undefined, 'still pending in the API');
    await page.close();
  });

  await t.test('Host header: only accepted hosts are served (DNS rebinding), in the browser too', async () => {
    for (const host of ['evil.example', `evil.example:${dashPort}`, `127.0.0.1.evil.example:${dashPort}`, '']) {
      const r = await request(dashUrl, { headers: host ? { host } : {} });
      if (host === '') continue; // Node always sends a Host header; an empty one is refused below
      assert.equal(r.status, 403, `Host ${host}`);
      assert.doesNotMatch(r.body, /csrf-token/);
    }
    // Accepted: the access URL trades its token for a session (303 to /).
    for (const host of [`localhost:${dashPort}`, `127.0.0.1:${dashPort}`, `[::1]:${dashPort}`]) assert.equal((await request(dashUrl, { headers: { host } })).status, 303, `Host ${host}`);
    const page = await browser.newPage();
    const res = await page.goto(`http://rebind.test:${dashPort}/`);
    assert.equal(res?.status(), 403, 'a rebinding name resolving to 127.0.0.1 is refused');
    assert.match((await page.textContent('body'))!, /Host header not accepted/);
    await page.close();
  });

  await t.test('CSRF: a state change needs the session\'s token; a cross-site page in the same browser cannot approve', async () => {
    const login = await request(dashUrl);
    const cookie = /^([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
    assert.match(String(login.headers['set-cookie']), /HttpOnly; SameSite=Strict/);
    const home = await request(new URL('/', dashUrl).href, { headers: { cookie } });
    const token = /name="csrf-token" content="([^"]+)"/.exec(home.body)![1]!;
    const post = (headers: Record<string, string>) =>
      request(new URL('/api/csr/csrf-target/approve', dashUrl).href, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"message":"x"}' });
    assert.equal((await post({})).status, 403, 'no cookie, no token');
    assert.equal((await post({ cookie })).status, 403, 'cookie without token');
    assert.equal((await post({ cookie, 'x-csrf-token': token.slice(0, -2) + 'xx' })).status, 403, 'wrong token');
    assert.equal((await post({ cookie: `kubepki-dashboard-session-${dashPort}=${'A'.repeat(43)}`, 'x-csrf-token': token })).status, 403, 'a session this server never issued');
    assert.equal((await post({ cookie, 'x-csrf-token': token, origin: 'http://evil.example' })).status, 403, 'cross-origin Origin');
    assert.equal((await post({ cookie, 'x-csrf-token': token, 'sec-fetch-site': 'cross-site' })).status, 403, 'Sec-Fetch-Site cross-site');
    assert.equal((await csrJson('csrf-target')).status?.conditions, undefined, 'nothing reached the API');

    // A page on another origin (same site: 127.0.0.1, so even the SameSite cookie goes along) posts blindly;
    // its fetch settles once the dashboard has answered (its 403 is then hidden from it by CORP).
    const attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<script>
        Promise.all([
          fetch('http://127.0.0.1:${dashPort}/api/csr/csrf-target/approve', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"message":"pwned"}' }),
          fetch('http://127.0.0.1:${dashPort}/api/events', { mode: 'cors', credentials: 'include' }).then(() => 'read', () => 'blocked'),
        ].map((p) => p.then((v) => v, () => 'refused'))).then(([, read]) => { document.title = 'done:' + read; });
      </script>`);
    });
    await new Promise<void>((r) => attacker.listen(attackerPort, '127.0.0.1', () => r()));
    t.after(() => new Promise<void>((r) => attacker.close(() => r())));
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await until(async () => (await page.title()).startsWith('done:'), 'the cross-site page\'s requests', { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal(await page.title(), 'done:blocked', 'the other origin cannot read the dashboard');
    assert.equal((await csrJson('csrf-target')).status?.conditions, undefined, 'the cross-site approval did not reach the API');
    await page.close();
  });

  await t.test('a 1,000-certificate cluster renders the graph and the timeline in under 1 s', async () => {
    const client = RestKubeClient.fromFile(serve.kubeconfig);
    t.after(() => client.close());
    await ok(['create', 'namespace', 'perf']);
    const caKey = await generateKeyPair('ECDSA-P256');
    const leafKey = await generateKeyPair('ECDSA-P256');
    const now = Date.now();
    const DAY = 86_400_000;
    const ca = await issueCertificate({
      template: { subject: { commonName: 'perf-ca' }, notBefore: new Date(now - DAY), notAfter: new Date(now + 3 * 365 * DAY), isCA: true, keyUsage: KEY_USAGE_BITS['cert sign'] | KEY_USAGE_BITS['crl sign'], extKeyUsages: [] },
      publicKey: caKey.publicKey,
      issuer: { selfSigned: caKey },
    });
    const keyPem = privateKeyToPem(leafKey.privateKey);
    const secrets = client.resource<Secret>(RESOURCES.secrets);
    const N = 1000;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < N; i = next++) {
        // Lifetimes spread over the year: some expire within 30 days, a few have expired.
        const notAfter = new Date(now + ((i % 400) - 10) * DAY);
        const cert = await issueCertificate({
          template: { subject: { commonName: `svc-${i}.perf.svc` }, sans: { dnsNames: [`svc-${i}.perf.svc`], ipAddresses: [], emailAddresses: [], uris: [] }, notBefore: new Date(now - 30 * DAY), notAfter, keyUsage: KEY_USAGE_BITS['digital signature'], extKeyUsages: [EXT_KEY_USAGE_OIDS['server auth']] },
          publicKey: leafKey.publicKey,
          issuer: { certificate: ca, privateKey: caKey.privateKey },
        });
        await secrets.create({
          metadata: { name: `svc-${i}-tls`, namespace: 'perf' },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': Buffer.from(cert.pem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64'), 'ca.crt': Buffer.from(ca.pem).toString('base64') },
        } as Secret);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await admin.click('#tab-nodes');
    // Wait for the snapshot that holds all of them (the graph's legend counts them).
    await admin.click('#tab-graph');
    await until(async () => Number(/(\d+) certificates/.exec((await admin.textContent('.legend')) ?? '')?.[1] ?? 0) >= N, 'the snapshot with every certificate', { timeoutMs: 60_000, intervalMs: 50 });
    // From the click to the next frame, layout included, measured in the page with performance.now(); the
    // script part is the page's own measure of that render.
    const measure = (p: string): Promise<{ total: number; script: number }> =>
      admin.evaluate(`(async () => {
        document.getElementById('tab-nodes').click();
        const t0 = performance.now();
        document.getElementById('tab-${p}').click();
        const script = window.kubepkiDashboard.timings['${p}'];
        document.querySelector('main svg').getBoundingClientRect();
        await new Promise((r) => requestAnimationFrame(() => r()));
        return { total: performance.now() - t0, script };
      })()`);
    const graph = await measure('graph');
    const graphMs = graph.total;
    const leaves = await admin.$$eval('#graph [data-id]', (gs) => gs.length);
    assert.ok(leaves >= N + 4, `graph draws every certificate and CA (${leaves})`);
    await admin.screenshot({ path: path.join(ARTIFACTS, 'dashboard-graph-1000.png') });
    const timeline = await measure('timeline');
    const timelineMs = timeline.total;
    const bars = await admin.$$eval('#timeline g[data-id]', (gs) => gs.length);
    assert.ok(bars >= N + 4, `timeline draws every certificate (${bars})`);
    await admin.screenshot({ path: path.join(ARTIFACTS, 'dashboard-timeline-1000.png') });
    t.diagnostic(`1,000 certificates: graph ${graphMs.toFixed(0)} ms (script ${graph.script.toFixed(0)} ms), timeline ${timelineMs.toFixed(0)} ms (script ${timeline.script.toFixed(0)} ms); click to next frame, performance.now()`);
    assert.ok(graphMs < 1000, `graph rendered in ${graphMs} ms`);
    assert.ok(timelineMs < 1000, `timeline rendered in ${timelineMs} ms`);
  });

  await t.test('no key, token or Secret value reaches the page; every response carries the security headers', async () => {
    const adminConf = await readFile(serve.kubeconfig, 'utf8');
    const clientKeyB64 = /client-key-data: (\S+)/.exec(adminConf)![1]!;
    const clientKeyPem = Buffer.from(clientKeyB64, 'base64').toString('utf8');
    const webKeyPem = await readFile(web.keyFile, 'utf8');
    const caKeyPem = await readFile(path.join(dataDir, 'pki', 'ca.key'), 'utf8');
    const body = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----'))[1]!;
    const forbidden: [string, string][] = [
      ['PRIVATE KEY', 'PRIVATE KEY'],
      ['admin client key (base64)', clientKeyB64.slice(0, 40)],
      ['admin client key (PEM)', body(clientKeyPem)],
      ['TLS Secret key (PEM)', body(webKeyPem)],
      ['TLS Secret key (base64)', Buffer.from(webKeyPem).toString('base64').slice(0, 40)],
      ['CA key', body(caKeyPem)],
      ['opaque Secret value', opaqueValue],
      ['opaque Secret value (base64)', Buffer.from(opaqueValue).toString('base64')],
      ['viewer token', viewerToken],
      ['nobody token', nobodyToken],
    ];
    const cookie = (await browser.cookies(dashUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
    const seen = [...(await Promise.all(responses)), { url: `${dashUrl}api/events (snapshot)`, headers: {}, body: await firstSnapshot(dashUrl, cookie) }];
    assert.ok(seen.length > 20, `responses recorded: ${seen.length}`);
    assert.ok(seen.at(-1)!.body.includes('svc-999.perf.svc'), 'the snapshot scanned is the full one');
    for (const r of seen) {
      for (const [what, needle] of forbidden) assert.ok(!r.body.includes(needle), `${what} found in ${r.url}`);
      if (!r.url.includes('(snapshot)')) {
        assert.match(r.headers['content-security-policy'] ?? '', /default-src 'none'.*frame-ancestors 'none'/, `CSP on ${r.url}`);
        assert.equal(r.headers['x-frame-options'], 'DENY', `X-Frame-Options on ${r.url}`);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', `nosniff on ${r.url}`);
      }
    }
    assert.deepEqual(cspViolations, [], 'the page runs under its own CSP without violations or errors');
  });

  await t.test('transfer size of the page (all assets, uncompressed)', async () => {
    let total = 0;
    const cookie = /^([^;]+)/.exec(String((await request(dashUrl)).headers['set-cookie']))![1]!;
    const home = await request(new URL('/', dashUrl).href, { headers: { cookie } });
    total += Buffer.byteLength(home.body);
    for (const m of home.body.matchAll(/(?:src|href)="(\/static\/[^"]+)"/g)) total += Buffer.byteLength((await request(new URL(m[1]!, dashUrl).href)).body);
    const app = await request(new URL('/static/app.js', dashUrl).href);
    for (const m of app.body.matchAll(/from '\.\/([a-z]+\.js)'/g)) total += Buffer.byteLength((await request(new URL(`/static/${m[1]!}`, dashUrl).href)).body);
    t.diagnostic(`page transfer size: ${total} bytes`);
    assert.ok(total < 100_000, `the page and its assets are small (${total} bytes)`);
  });
});
