// Benchmark: `kubepki init` against the cfssl way of seed 002 (every `cfssl gencert ... | cfssljson -bare` of that
// page, RSA-2048, with the real /usr/bin/cfssl and /usr/bin/cfssljson), in the same run, interleaved, several
// repetitions. Prints the medians and the ratios. Goals: RSA-2048 <= 0.5x cfssl, ECDSA-P256 <= 0.1x cfssl.
//
//   npm run bench:init            (BENCH_REPS=7 for more repetitions)
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/kubepki.js');
const REPS = Number(process.env['BENCH_REPS'] ?? 5);

// The JSON files of seed 002, as they stand there. The ".sed" templates get concrete addresses for one node.
const NODE_IP = '10.0.0.5';
const rsa = { algo: 'rsa', size: 2048 };
const serverClient = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
const client = ['digital signature', 'key encipherment', 'client auth'];
const ETCD_FILES: Record<string, unknown> = {
  'ca-config.json': { signing: { profiles: { server: { expiry: '876000h', usages: serverClient }, client: { expiry: '876000h', usages: client } } } },
  'ca-csr.json': { CN: 'etcd-ca', hosts: [], key: rsa },
  'healthcheck-client-csr.json': { CN: 'kube-etcd-healthcheck-client', hosts: [], key: rsa },
  'peer-csr.json': { CN: 'kube-etcd-peer', hosts: ['localhost', '127.0.0.1', NODE_IP], key: rsa },
  'server-csr.json': { CN: 'kube-etcd', hosts: ['localhost', '127.0.0.1', NODE_IP], key: rsa },
};
const K8S_FILES: Record<string, unknown> = {
  'ca-config.json': { signing: { default: { expiry: '876000h' }, profiles: { server: { usages: serverClient, expiry: '876000h' }, client: { usages: client, expiry: '876000h' } } } },
  'ca-csr.json': { CN: 'kubernetes-ca', key: rsa, ca: { expiry: '876000h' } },
  'apiserver-csr.json': {
    CN: 'kube-apiserver',
    hosts: ['localhost', '127.0.0.1', NODE_IP, 'master-1', '10.96.0.1', '10.0.0.100', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster', 'kubernetes.default.svc.cluster.local'],
    key: rsa,
  },
  'apiserver-kubelet-client-csr.json': { CN: 'kube-apiserver-kubelet-client', hosts: [], key: rsa, names: [{ O: 'system:masters' }] },
  'apiserver-etcd-client-csr.json': { CN: 'kube-apiserver-etcd-client', hosts: [], key: rsa, names: [{ O: 'system:masters' }] },
  'front-proxy-ca-config.json': { signing: { default: { expiry: '876000h' }, profiles: { client: { expiry: '876000h', usages: client } } } },
  'front-proxy-ca-csr.json': { CN: 'kubernetes-front-proxy-ca', key: rsa, ca: { expiry: '876000h' } },
  'front-proxy-client-csr.json': { CN: 'front-proxy-client', hosts: [], key: rsa },
  'admin-csr.json': { CN: 'kubernetes-admin', hosts: [], key: rsa, names: [{ O: 'system:masters' }] },
  'kubelet-csr.json': { CN: 'system:node:master-1', hosts: ['127.0.0.1', 'localhost', NODE_IP], key: rsa, names: [{ O: 'system:nodes' }] },
  'scheduler-csr.json': { CN: 'system:kube-scheduler', hosts: [], key: rsa },
  'controller-manager-csr.json': { CN: 'system:kube-controller-manager', hosts: [], key: rsa },
};

// The fourteen commands of the page, in its order (the sa key is made with openssl there, not cfssl: left out).
const CFSSL_SCRIPT = `set -e
cd etcd
cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client healthcheck-client-csr.json 2>/dev/null | cfssljson -bare healthcheck-client
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server peer-csr.json 2>/dev/null | cfssljson -bare peer
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server server-csr.json 2>/dev/null | cfssljson -bare server
cd ..
cfssl gencert -initca ca-csr.json 2>/dev/null | cfssljson -bare ca
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server apiserver-csr.json 2>/dev/null | cfssljson -bare apiserver
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client apiserver-kubelet-client-csr.json 2>/dev/null | cfssljson -bare apiserver-kubelet-client
cfssl gencert -ca=etcd/ca.pem -ca-key=etcd/ca-key.pem -config=etcd/ca-config.json -profile=client apiserver-etcd-client-csr.json 2>/dev/null | cfssljson -bare apiserver-etcd-client
cfssl gencert -initca front-proxy-ca-csr.json 2>/dev/null | cfssljson -bare front-proxy-ca
cfssl gencert -ca=front-proxy-ca.pem -ca-key=front-proxy-ca-key.pem -config=front-proxy-ca-config.json -profile=client front-proxy-client-csr.json 2>/dev/null | cfssljson -bare front-proxy-client
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client admin-csr.json 2>/dev/null | cfssljson -bare admin
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server kubelet-csr.json 2>/dev/null | cfssljson -bare kubelet
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client scheduler-csr.json 2>/dev/null | cfssljson -bare scheduler
cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client controller-manager-csr.json 2>/dev/null | cfssljson -bare controller-manager
`;

interface Sample {
  wallMs: number;
  /** user + system CPU time of the process and its children: what the work costs, whatever the machine's load. */
  cpuMs: number;
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** Runs a command under bash's `time` (which counts the CPU of every child) and measures the wall time around it. */
function timed(argv: string[], cwd: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const errFile = path.join(cwd, '.stderr');
    const script = `TIMEFORMAT='%3U %3S'; time { ${argv.map(quote).join(' ')} >/dev/null 2>${quote(errFile)}; }`;
    const start = process.hrtime.bigint();
    const child = spawn('bash', ['-c', script], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) {
        readFile(errFile, 'utf8').then((e) => reject(new Error(`${argv.join(' ')} exited ${code}: ${e.trim()}`)), reject);
        return;
      }
      const [user, sys] = err.trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ wallMs, cpuMs: (user! + sys!) * 1000 });
    });
  });
}

const ecdsa = { algo: 'ecdsa', size: 256 };

/**
 * The page's fourteen commands, one process each, piped into the real cfssljson: with the real cfssl, or with
 * `kubepki cfssl` in its place (`node bin/kubepki.js cfssl`, as `npx kubepki` runs it); RSA-2048 as on the page,
 * or every csr.json's key made ECDSA P-256.
 */
async function cfsslRun(options: { tool?: 'cfssl' | 'kubepki'; key?: typeof rsa | typeof ecdsa } = {}): Promise<Sample> {
  const { tool = 'cfssl', key = rsa } = options;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-cfssl-'));
  const json = (body: unknown) => JSON.stringify(body, (k, v: unknown) => (k === 'key' ? key : v), 2);
  try {
    await mkdir(path.join(dir, 'etcd'));
    for (const [name, body] of Object.entries(ETCD_FILES)) await writeFile(path.join(dir, 'etcd', name), json(body));
    for (const [name, body] of Object.entries(K8S_FILES)) await writeFile(path.join(dir, name), json(body));
    const script = tool === 'cfssl' ? CFSSL_SCRIPT : CFSSL_SCRIPT.replaceAll('cfssl gencert ', `${quote(process.execPath)} ${quote(CLI)} cfssl gencert `);
    await writeFile(path.join(dir, 'gen.sh'), script);
    return await timed(['bash', 'gen.sh'], dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The floor of any one-Node-process-per-command tool: fourteen `node -e 0` processes, one after another (no
 * work, no cfssljson). Against cfssl's time in the same run it says whether a goal is reachable at all.
 */
async function nodeFloorRun(): Promise<Sample> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-floor-'));
  try {
    const commands = CFSSL_SCRIPT.split('\n').filter((line) => line.includes('cfssl gencert ')).length;
    await writeFile(path.join(dir, 'floor.sh'), `${quote(process.execPath)} -e 0\n`.repeat(commands));
    return await timed(['bash', 'floor.sh'], dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function kubepkiRun(algorithm: string): Promise<Sample> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-kubepki-'));
  try {
    return await timed([process.execPath, CLI, 'init', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, '--node-name', 'master-1', '--apiserver-advertise-address', NODE_IP, '--encryption-algorithm', algorithm], dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function inProcessRun(algorithm: 'RSA-2048' | 'ECDSA-P256'): Promise<Sample> {
  const { initClusterPki } = await import('../src/cluster/init.js');
  const { resolveClusterConfig } = await import('../src/cluster/config.js');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-inproc-'));
  try {
    const config = resolveClusterConfig({ nodeName: 'master-1', advertiseAddress: NODE_IP, encryptionAlgorithm: algorithm });
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    await initClusterPki({ certDir: path.join(dir, 'pki'), kubeconfigDir: dir, config });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = process.cpuUsage(cpu0); // every thread of this process, the libuv pool included
    return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;

async function main(): Promise<void> {
  console.log(`kubepki init vs cfssl (seed 002: 14 x cfssl gencert | cfssljson, RSA-2048) — ${REPS} repetitions, interleaved, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`);
  await perCommandCase();
  // Warm the page cache and the module graph once, unmeasured.
  await cfsslRun();
  await kubepkiRun('ECDSA-P256');
  const runs: [string, () => Promise<Sample>][] = [
    ['cfssl', cfsslRun],
    ['kubepki RSA-2048', () => kubepkiRun('RSA-2048')],
    ['kubepki ECDSA-P256', () => kubepkiRun('ECDSA-P256')],
    ['in-process RSA-2048', () => inProcessRun('RSA-2048')],
    ['in-process ECDSA-P256', () => inProcessRun('ECDSA-P256')],
  ];
  const samples: Record<string, Sample[]> = Object.fromEntries(runs.map(([name]) => [name, []]));
  for (let i = 0; i < REPS; i++) {
    for (const [name, run] of runs) samples[name]!.push(await run());
    process.stdout.write(`  rep ${i + 1}: ${runs.map(([name]) => `${name} ${samples[name]![i]!.wallMs.toFixed(0)}`).join(', ')} (wall ms)\n`);
  }
  const med = (name: string, k: keyof Sample) => median(samples[name]!.map((s) => s[k]));
  const best = (name: string) => Math.min(...samples[name]!.map((s) => s.wallMs));
  const cfsslWall = med('cfssl', 'wallMs');
  const cfsslCpu = med('cfssl', 'cpuMs');
  console.log('\nmedians: wall time [best of the run] and CPU time (user+sys, all threads and children). The machine is shared;');
  console.log('the wall median is the figure, the CPU time says what the work costs regardless of load.');
  console.log(`  ${'cfssl (anchor)'.padEnd(27)} wall ${fmt(cfsslWall)} [${fmt(best('cfssl'))}]   cpu ${fmt(cfsslCpu)}`);
  const goals: Record<string, number> = { 'kubepki RSA-2048': 0.5, 'kubepki ECDSA-P256': 0.1 };
  for (const [name] of runs.slice(1)) {
    const wall = med(name, 'wallMs');
    const cpu = med(name, 'cpuMs');
    const goal = goals[name];
    const verdict = goal === undefined ? '' : wall / cfsslWall <= goal ? `  goal <= ${goal}x: met` : `  goal <= ${goal}x: NOT met`;
    const label = name.startsWith('kubepki') ? `${name} (CLI)` : name;
    console.log(`  ${label.padEnd(27)} wall ${fmt(wall)} [${fmt(best(name))}]   cpu ${fmt(cpu)}   ratio wall ${(wall / cfsslWall).toFixed(3)}x, cpu ${(cpu / cfsslCpu).toFixed(3)}x${verdict}`);
  }
}

/**
 * The seed's workflow as a user runs it: fourteen `kubepki cfssl gencert ... | cfssljson -bare ...` processes
 * against the fourteen `cfssl gencert` ones, per key type. Goals: RSA-2048 <= 0.5x cfssl, ECDSA-P256 <= 0.1x.
 */
async function perCommandCase(): Promise<void> {
  const runs: [string, () => Promise<Sample>][] = [
    ['cfssl RSA-2048', () => cfsslRun({ tool: 'cfssl', key: rsa })],
    ['kubepki cfssl RSA-2048', () => cfsslRun({ tool: 'kubepki', key: rsa })],
    ['cfssl ECDSA-P256', () => cfsslRun({ tool: 'cfssl', key: ecdsa })],
    ['kubepki cfssl ECDSA-P256', () => cfsslRun({ tool: 'kubepki', key: ecdsa })],
    ['node -e 0 (floor)', nodeFloorRun],
  ];
  await cfsslRun({ tool: 'kubepki', key: ecdsa }); // warm the page cache, unmeasured
  const samples: Record<string, Sample[]> = Object.fromEntries(runs.map(([name]) => [name, []]));
  for (let i = 0; i < REPS; i++) {
    for (const [name, run] of runs) samples[name]!.push(await run());
    process.stdout.write(`  rep ${i + 1}: ${runs.map(([name]) => `${name} ${samples[name]![i]!.wallMs.toFixed(0)}`).join(', ')} (wall ms)\n`);
  }
  const med = (name: string, k: keyof Sample) => median(samples[name]!.map((s) => s[k]));
  console.log('\nper command (seed 002 as written: 14 processes piped into the real cfssljson), medians:');
  for (const [anchor, ours, goal] of [['cfssl RSA-2048', 'kubepki cfssl RSA-2048', 0.5], ['cfssl ECDSA-P256', 'kubepki cfssl ECDSA-P256', 0.1]] as const) {
    const ratio = med(ours, 'wallMs') / med(anchor, 'wallMs');
    console.log(`  ${anchor.padEnd(27)} wall ${fmt(med(anchor, 'wallMs'))}   cpu ${fmt(med(anchor, 'cpuMs'))}`);
    console.log(`  ${ours.padEnd(27)} wall ${fmt(med(ours, 'wallMs'))}   cpu ${fmt(med(ours, 'cpuMs'))}   ratio wall ${ratio.toFixed(3)}x  goal <= ${goal}x: ${ratio <= goal ? 'met' : 'NOT met'}`);
    const floor = med('node -e 0 (floor)', 'wallMs') / med(anchor, 'wallMs');
    console.log(`  ${'  floor: same count of node -e 0'.padEnd(27)} wall ${fmt(med('node -e 0 (floor)', 'wallMs'))}   cpu ${fmt(med('node -e 0 (floor)', 'cpuMs'))}   ratio wall ${floor.toFixed(3)}x  (${floor <= goal ? 'under' : 'OVER'} the goal: one Node process per command ${floor <= goal ? 'can' : 'cannot'} reach it)`);
  }
  console.log('\nwhole init (one process) vs the same fourteen cfssl processes:');
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${(err as Error).message}`);
  process.exitCode = 1;
});
