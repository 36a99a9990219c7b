// Starts real etcd v3.4 members (/usr/bin/etcd) on 127.0.0.1 for tests and benchmarks: one member or a
// cluster, plain or with (mutual) TLS on the client and peer ports, waits until every member reports healthy
// and kills them on stop(). Health is polled on a separate plain-HTTP metrics port, so it works even when the
// client port demands client certificates.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { freePorts } from './ports.js';

export interface EtcdMemberTls {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  clientCertAuth: boolean;
}

export interface EtcdClusterOptions {
  /** Number of members; default 1. */
  members?: number;
  /** Parent directory for the members' data directories (each member gets a unique subdirectory). */
  dataDir: string;
  /** TLS for the client port (server) and optionally for the peer port, per member index. */
  tls?: { server: (i: number) => EtcdMemberTls; peer?: (i: number) => EtcdMemberTls };
  /** Extra etcd flags for every member (e.g. --experimental-watch-progress-notify-interval=1s). */
  extraArgs?: string[];
  /** How long to wait for every member to be healthy; default 20 s. */
  startTimeoutMs?: number;
  /** Path of the etcd binary; default /usr/bin/etcd. */
  binary?: string;
}

export interface EtcdCluster {
  clientUrls: string[];
  peerUrls: string[];
  /** The members' process ids (benchmarks read their CPU time from /proc). */
  pids: number[];
  stop(): Promise<void>;
}

export const ETCD_BINARY = '/usr/bin/etcd';

// etcd 3.4 refuses to start on architectures other than amd64/ppc64le unless ETCD_UNSUPPORTED_ARCH names
// the running Go architecture; setting it on a supported one is harmless.
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

interface Member {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
  hasExited: boolean;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes before stop() must not leave etcd processes behind.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startEtcd(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  // Ports are found free and then handed to etcd, so another process may take one in between: retry.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err;
      if (!/address already in use/i.test(String(err))) throw err;
    }
  }
  throw lastError;
}

async function startOnce(opts: EtcdClusterOptions): Promise<EtcdCluster> {
  installExitHook();
  const n = opts.members ?? 1;
  const ports = await freePorts(3 * n);
  const clientScheme = opts.tls ? 'https' : 'http';
  const peerScheme = opts.tls?.peer ? 'https' : 'http';
  const clientUrls = Array.from({ length: n }, (_, i) => `${clientScheme}://127.0.0.1:${ports[3 * i]}`);
  const peerUrls = Array.from({ length: n }, (_, i) => `${peerScheme}://127.0.0.1:${ports[3 * i + 1]}`);
  const metricsUrls = Array.from({ length: n }, (_, i) => `http://127.0.0.1:${ports[3 * i + 2]}`);
  const token = `kubepki-test-${randomBytes(6).toString('hex')}`;
  const initialCluster = peerUrls.map((u, i) => `m${i}=${u}`).join(',');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    ETCD_UNSUPPORTED_ARCH: GOARCH[process.arch] ?? process.arch,
  };

  const members: Member[] = [];
  const stop = async () => {
    await Promise.all(members.map((m) => killMember(m)));
  };
  try {
    for (let i = 0; i < n; i++) {
      const args = [
        `--name=m${i}`,
        `--data-dir=${path.join(opts.dataDir, `etcd-${token}-m${i}`)}`,
        `--listen-client-urls=${clientUrls[i]}`,
        `--advertise-client-urls=${clientUrls[i]}`,
        `--listen-peer-urls=${peerUrls[i]}`,
        `--initial-advertise-peer-urls=${peerUrls[i]}`,
        `--listen-metrics-urls=${metricsUrls[i]}`,
        `--initial-cluster=${initialCluster}`,
        '--initial-cluster-state=new',
        `--initial-cluster-token=${token}`,
        // Loopback: short raft timings make elections (and so startup) fast.
        '--heartbeat-interval=25',
        '--election-timeout=250',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=warn',
      ];
      if (opts.tls) {
        const s = opts.tls.server(i);
        args.push(`--cert-file=${s.certFile}`, `--key-file=${s.keyFile}`, `--trusted-ca-file=${s.trustedCaFile}`);
        if (s.clientCertAuth) args.push('--client-cert-auth');
        if (opts.tls.peer) {
          const p = opts.tls.peer(i);
          args.push(`--peer-cert-file=${p.certFile}`, `--peer-key-file=${p.keyFile}`, `--peer-trusted-ca-file=${p.trustedCaFile}`);
          if (p.clientCertAuth) args.push('--peer-client-cert-auth');
        }
      }
      args.push(...(opts.extraArgs ?? []));
      members.push(spawnMember(opts.binary ?? ETCD_BINARY, args, env));
    }
    await waitHealthy(members, metricsUrls, opts.startTimeoutMs ?? 20_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { clientUrls, peerUrls, pids: members.map((m) => m.child.pid!), stop };
}

function spawnMember(binary: string, args: string[], env: NodeJS.ProcessEnv): Member {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  const log: string[] = [];
  const member: Member = { child, log, hasExited: false, exited: Promise.resolve(null) };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    log.push(d);
    if (log.length > 50) log.shift();
  });
  member.exited = new Promise((resolve) => {
    child.on('error', (err) => {
      log.push(String(err));
      member.hasExited = true;
      running.delete(child);
      resolve(null);
    });
    child.on('exit', (code) => {
      member.hasExited = true;
      running.delete(child);
      resolve(code);
    });
  });
  return member;
}

async function killMember(m: Member): Promise<void> {
  if (m.hasExited) return;
  m.child.kill('SIGTERM');
  // A member of a stopping cluster may wait for a leader transfer that cannot happen; do not wait long.
  const timer = setTimeout(() => m.child.kill('SIGKILL'), 500);
  await m.exited;
  clearTimeout(timer);
}

async function waitHealthy(members: Member[], metricsUrls: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(metricsUrls.map((_, i) => i));
  while (pending.size > 0) {
    for (const i of [...pending]) {
      const m = members[i]!;
      if (m.hasExited) {
        throw new Error(`etcd member m${i} exited during startup (code ${m.child.exitCode}): ${m.log.join('').slice(-2000)}`);
      }
      if (await healthy(metricsUrls[i]!)) pending.delete(i);
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const logs = [...pending].map((i) => `m${i}: ${members[i]!.log.join('').slice(-1000)}`).join('\n');
      throw new Error(`etcd did not become healthy within ${timeoutMs} ms\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function healthy(metricsUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${metricsUrl}/health`, { timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && (JSON.parse(body) as { health?: string }).health === 'true');
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
