// Slow and idle clients against the API server's connection limits (issue 11 item 8): p50/p99 of normal
// requests (GET /version over mutual TLS, 8 at a time) alone, then while 1,000 idle TLS connections and 200
// slow-header connections (one byte every 500 ms) are held open. Loopback only, bounded in time.
//   node dist/bench/slowloris.js [requests=400] [idle=1000] [slow=200]
import { fork } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REQUESTS = Number(process.argv[2] ?? 400);
const IDLE = Number(process.argv[3] ?? 1000);
const SLOW = Number(process.argv[4] ?? 200);

async function serverMode(dir: string): Promise<void> {
  const { makeTestPki } = await import('../test/api/helpers.js');
  const { ApiServer } = await import('../src/server/server.js');
  const { MemoryStorage } = await import('../src/storage/memory.js');
  const { x509Authenticator } = await import('../src/auth/authn/x509.js');
  const { unionAuthenticator } = await import('../src/auth/authn/union.js');
  const { alwaysAllowMasters } = await import('../src/auth/authz/minimal.js');
  const { parseCertificatesPem } = await import('../src/x509/certificate.js');
  const pki = await makeTestPki(dir);
  const server = new ApiServer({
    storage: new MemoryStorage(),
    tls: { cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca },
    authenticator: unionAuthenticator({ authenticators: [x509Authenticator({ roots: parseCertificatesPem(pki.ca) })], anonymous: false }),
    authorizer: alwaysAllowMasters,
    port: 0,
  });
  const { port } = await server.start();
  process.send!({ port, pki: { ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key } });
}

const pct = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

async function normal(port: number, agent: https.Agent): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      https.get({ host: '127.0.0.1', port, path: '/version', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          lat.push(performance.now() - t0);
          resolve();
        });
      }).on('error', reject);
    });
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next++ < REQUESTS) await one();
  }));
  return lat;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubepki-bench-slowloris-'));
  const child = fork(fileURLToPath(import.meta.url), ['--server', dir], { stdio: 'inherit' });
  const { port, pki } = await new Promise<{ port: number; pki: { ca: string; cert: string; key: string } }>((r) => child.once('message', r as never));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: pki.ca, cert: pki.cert, key: pki.key });
  const hostile: tls.TLSSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await normal(port, agent); // warm-up
    const quiet = await normal(port, agent);
    for (let i = 0; i < IDLE; i++) {
      hostile.push(await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, ca: pki.ca }, () => resolve(s));
        s.on('error', reject);
      }));
    }
    for (let i = 0; i < SLOW; i++) {
      const s = tls.connect({ host: '127.0.0.1', port, ca: pki.ca });
      s.on('error', () => undefined);
      hostile.push(s);
      const header = 'GET /version HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(1000);
      let at = 0;
      timers.push(setInterval(() => s.write(header[at++ % header.length]!), 500));
    }
    const loaded = await normal(port, agent);
    const open = hostile.filter((s) => !s.destroyed).length;
    console.log(`normal requests: GET /version over mutual TLS, 8 concurrent, ${REQUESTS} each run`);
    console.log(`alone:                           p50 ${pct(quiet, 50).toFixed(1)} ms  p99 ${pct(quiet, 99).toFixed(1)} ms`);
    console.log(`with ${IDLE} idle + ${SLOW} slow conns: p50 ${pct(loaded, 50).toFixed(1)} ms  p99 ${pct(loaded, 99).toFixed(1)} ms  (hostile connections still open: ${open})`);
    console.log(`load average: ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`);
  } finally {
    timers.forEach(clearInterval);
    hostile.forEach((s) => s.destroy());
    agent.destroy();
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') void serverMode(process.argv[3]!);
else await main();
