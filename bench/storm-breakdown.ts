// Where the server's CPU goes during a storm: `perf record` on the serve process (every thread: the event
// loop, the controllers' worker, the request-check worker, libuv's pool, V8's GC and compiler threads), each
// sample put in one bucket by its innermost frame that says what it is (a JSON builtin, SQLite, OpenSSL under
// the TLS layer, a kubepki source file...). serve must run with --perf-basic-prof so JIT frames have names.
// Used by bench/storm.ts --breakdown; needs /usr/bin/perf (Linux), otherwise the breakdown is skipped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

export interface PerfSession {
  /** Stops recording and returns CPU ms per bucket (all threads). */
  stop(): Promise<Map<string, number>>;
}

/** One sample per millisecond of CPU of any thread of `pid`, with call stacks. */
export function startPerf(pid: number, outFile: string): PerfSession | undefined {
  if (!existsSync('/usr/bin/perf')) return undefined;
  const perf: ChildProcess = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-c', '1000000', '-g', '-p', String(pid), '-o', outFile], { stdio: 'ignore' });
  return {
    async stop() {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
      dedupePerfMap(pid);
      const script = spawnSync('perf', ['script', '-i', outFile, '-F', 'tid,ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      rmSync(`/tmp/perf-${pid}.map`, { force: true });
      // BENCH_PERF_SCRIPT=<file> keeps the symbolized samples for a closer look (e.g. one thread's hottest frames).
      const keep = process.env['BENCH_PERF_SCRIPT'];
      if (keep) writeFileSync(keep, `# main pid ${pid}\n${script.stdout}`);
      return categorize(script.stdout, pid);
    },
  };
}

/**
 * V8 writes a map line for every code object it ever made; when the GC frees one and another isolate (a
 * worker) reuses the address, perf would name the sample after the first. Keep, per address, the last line.
 */
function dedupePerfMap(pid: number): void {
  const file = `/tmp/perf-${pid}.map`;
  if (!existsSync(file)) return;
  const byStart = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const start = line.slice(0, line.indexOf(' '));
    if (start) byStart.set(start, line);
  }
  writeFileSync(file, [...byStart.values()].join('\n') + '\n');
}

type Rule = [RegExp, string];

// Native frames, checked from the leaf up; the first frame that matches any rule (native or JS) decides.
const NATIVE: Rule[] = [
  [/Heap::|Scavenge|MarkCompact|ConcurrentMarking|IncrementalMarking|GCTracer|MemoryAllocator|Sweeper|GlobalHandles::Process/, 'GC'],
  [/compiler::|OptimizingCompile|Compiler::|Deoptimiz|Maglev|baseline::|BytecodeGenerator|interpreter::|Parser::Parse|PreParser/, 'JIT compile'],
  [/JsonParse|JsonStringif|JsonParser|FastJsonStringifier/, 'JSON'],
  [/ValueSerializer|ValueDeserializer/, 'structured clone / postMessage'],
  [/sqlite3|Statement::JS_|Database::JS_/, 'storage'],
  [/TLSWrap|^SSL_|^ssl3_|^tls_|^ossl_statem|ssl_|aesni|gcm_|_gcm|ChaCha|chacha|poly1305|ecp_nistz|x25519|sha256_block|sha512_block/, 'TLS'],
  [/SignTraits|RSA_sign|rsa_ossl|BN_mod_exp|ECDSA_do_sign|ossl_ecdsa/, 'signing (CA signature)'],
  [/llhttp|Parser::Execute|Parser::on_/, 'HTTP'],
];

// JS frames (by source file).
const JS: Rule[] = [
  [/dist\/src\/api\/(managed-fields|fieldpath)\.js/, 'managedFields'],
  [/dist\/src\/(storage\/watch-hub|api\/watch|api\/watch-event|api\/cacher)\.js/, 'watch fan-out'],
  [/dist\/src\/storage\//, 'storage'],
  [/dist\/src\/auth\//, 'authn + authz'],
  [/dist\/src\/(resources|x509)\/|dist\/src\/api\/(validation|schema)\.js/, 'validation + admission'],
  [/dist\/src\/controllers\/signer|dist\/src\/x509\/(certificate|sign-options|der)\.js/, 'signing (CA signature)'],
  [/dist\/src\/api\/|dist\/src\/server\//, 'API handlers'],
  [/node_modules\/(pino|prom-client)/, 'logging + metrics'],
  [/node:_tls|node:tls/, 'TLS'],
  [/node:_http|node:http|node:net|node:internal\/(streams|stream_base)/, 'HTTP'],
];

/**
 * serve runs from esbuild's bundles (dist/bundle/*.js), so a JS frame names a bundle line; esbuild heads each
 * module's code with a `// dist/src/<module>.js` comment. Names the frame after that module instead, so the
 * JS rules (by source file) apply: `JS:*handle file:///…/dist/bundle/cmd-serve.js:8875:15` becomes
 * `JS:*handle dist/src/controllers/signer/controller.js`.
 */
const bundleModules = new Map<string, { line: number; module: string }[]>();

function unbundle(frame: string): string {
  const m = /^((?:JS|Eval):\S*) file:\/\/(\/\S+\/dist\/bundle\/[^:]+):(\d+)/.exec(frame);
  if (!m) return frame;
  const [, name, file, lineText] = m as unknown as [string, string, string, string];
  let modules = bundleModules.get(file);
  if (!modules) {
    modules = [];
    try {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((l, i) => {
          const head = /^\/\/ ((?:dist\/src|node_modules)\/\S+)$/.exec(l);
          if (head) modules!.push({ line: i + 1, module: head[1]! });
        });
    } catch {
      // The bundle is gone: keep the frame as it is.
    }
    bundleModules.set(file, modules);
  }
  // The last module heading at or above the frame's (1-based) line.
  const line = Number(lineText);
  let lo = 0;
  let hi = modules.length - 1;
  let found: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (modules[mid]!.line <= line) {
      found = modules[mid]!.module;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found ? `${name} ${found}` : frame;
}

/** CPU ms per bucket from `perf script -F tid,ip,sym` output (1 sample = 1 ms). */
export function categorize(script: string, mainPid: number): Map<string, number> {
  const samples: { tid: string; frames: string[] }[] = [];
  for (const block of script.split('\n\n')) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const frames = lines.slice(1).map((l) => unbundle(l.trim().replace(/^[0-9a-f]+ /, '').replace(/ \([^)]*\)$/, '')));
    samples.push({ tid: lines[0]!.trim(), frames });
  }
  // Each thread's role, from any of its samples (a sample in OpenSSL's or glibc's assembly may carry no
  // stack): the JS worker that speaks HTTP as a client is the controllers' worker, any other JS worker the
  // request-check pool (CSR parse + signature check, certificate parse); libuv's pool signs certificates.
  const role = new Map<string, string>();
  for (const s of samples) {
    if (s.tid === String(mainPid)) continue;
    if (s.frames.some((f) => f.includes('Worker::Run'))) {
      if (s.frames.some((f) => f.includes('dist/src/client/') || f.includes('node:_http_client') || f.includes('llhttp'))) role.set(s.tid, 'controllers (in-process API client thread)');
      else if (!role.has(s.tid)) role.set(s.tid, 'request checks (CSR signature, cert parse) thread');
    } else if (s.frames.some((f) => f.includes('ThreadPoolWork'))) role.set(s.tid, 'signing (CA signature)');
    else if (s.frames.some((f) => f.includes('PlatformWorkerThread') || f.includes('DefaultJobWorker'))) role.set(s.tid, 'GC');
  }
  const out = new Map<string, number>();
  const add = (k: string) => out.set(k, (out.get(k) ?? 0) + 1);
  for (const s of samples) {
    const f = s.frames;
    if (s.tid === String(mainPid)) {
      add(bucket(f, NATIVE, JS) ?? (f.some((x) => x.startsWith('entry_SYSCALL') || x.includes('do_syscall')) ? 'syscalls (socket I/O)' : 'other (event loop)'));
      continue;
    }
    const r = role.get(s.tid) ?? 'other threads';
    add(r === 'signing (CA signature)' ? r : (bucket(f, NATIVE.slice(0, 2), []) ?? r));
  }
  return out;
}

function bucket(frames: string[], native: Rule[], js: Rule[]): string | undefined {
  for (const f of frames) {
    const isJs = f.startsWith('JS:') || f.startsWith('Eval:');
    for (const [re, name] of isJs ? js : native) if (re.test(f)) return name;
  }
  return undefined;
}
