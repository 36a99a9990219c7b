// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/ with esbuild, which bin/kubepki.js runs: one
// file per command. dist/bundle/entry.cjs only picks the invoked command (src/cli/invoked-command.ts) and runs
// cmd-<command>.cjs: the whole CLI (src/cli/entry.ts, main.ts, commander) with that one command's module graph,
// the other commands' modules left out (main.ts never loads them in that process); cmd-none.cjs serves --help,
// --version and unknown commands. A command start so reads a few files instead of a graph of 50–150 modules
// and package.json lookups, which were most of the CLI's start-up (bench:cli). Everything a start runs is
// CommonJS (no ES module loader) and compiled from a V8 code cache made here (cmd-<command>.code-cache).
// Run by `npm run build`.
// Left out (loaded from node_modules at run time): native or worker-thread packages that cannot be bundled
// (better-sqlite3's addon, pino's transport workers).
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { COMMANDS } from '../dist/src/cli/main.js';

const OUT = 'dist/bundle';
const MAIN = path.resolve('dist/src/cli/main.js');
const names = COMMANDS.map((c) => c.term.split(' ')[0]);
const execFileAsync = promisify(execFile);

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pino'],
  // yaml's ES module build (the same code, no Node specifics): esbuild drops what a bundle does not use (token
  // uses only stringify) and a bundled `await import('yaml')` keeps its named exports (of yaml's CommonJS entry,
  // an ES module bundle would get only a default export).
  alias: { yaml: './node_modules/yaml/browser/index.js' },
  logLevel: 'warning',
};

/**
 * The command bundles are CommonJS (.cjs): Node loads a CommonJS program without starting its ES module loader,
 * which alone costs about 25 ms of a command's start (bench:cli). Each file is the function Node wraps a CommonJS
 * module in, which dist/bundle/entry.cjs compiles (with the bundle's V8 code cache) and calls: V8 compiles the
 * file's text as it is, without a wrapped copy of it. `import.meta.url` (worker files, the dashboard's page/
 * directory, createRequire) becomes the bundle's own file URL.
 */
const commandConfig = {
  ...common,
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // `import('node:path')` becomes require(): a CommonJS bundle never starts the ES module loader.
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__kubepkiModuleUrl' },
  banner: {
    js: [
      '// A kubepki command bundle (scripts/bundle.js): a CommonJS module in the function Node wraps one in, run by entry.cjs.',
      '(function (exports, require, module, __filename, __dirname) {',
      // Strict, as the ES modules bundled here are (esbuild's own "use strict" follows this banner).
      "'use strict';",
      "const __kubepkiModuleUrl = require('node:url').pathToFileURL(__filename).href;",
    ].join('\n'),
  },
  footer: { js: '})' },
};

/**
 * Worker threads stay ES modules (.js, the package's type): they start with the server, not with a command, and
 * use top-level await.
 */
const workerConfig = {
  ...common,
  format: 'esm',
  // CommonJS dependencies bundled into ESM call require() for Node's built-ins.
  banner: { js: "import { createRequire as __kubepkiRequire } from 'node:module'; const require = __kubepkiRequire(import.meta.url);" },
};

/**
 * In the bundle of command `only`, main.ts's loaders of the other commands import a stub: main.ts loads only the
 * invoked command's module, so they are never called there.
 */
function onlyCommand(only) {
  return {
    name: 'only-command',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
        if (args.importer !== MAIN || args.kind !== 'dynamic-import' || args.path === `./${only}.js`) return undefined;
        return { path: args.path, namespace: 'other-command' };
      });
      b.onLoad({ filter: /.*/, namespace: 'other-command' }, (args) => ({
        contents: `export function register() { throw new Error('${args.path} is not in this bundle'); }`,
        loader: 'js',
      }));
    },
  };
}

/**
 * The `yaml` package is a bundle of its own, dist/bundle/yaml.cjs, required when a module first needs it (certs
 * -o yaml, --config files, the agent's and the server's YAML): a command that never reads or writes YAML does
 * not read yaml's 90–240 KB of source at each start.
 */
const yamlApart = {
  name: 'yaml-apart',
  setup(b) {
    b.onResolve({ filter: /^yaml$/ }, () => ({ path: './yaml.cjs', external: true }));
  },
};

/**
 * `token create --print-join-command`'s module (the CA pins need kubepki's X.509 parser, about 30% of the token
 * bundle) is a bundle of its own, dist/bundle/join-command.cjs, required when that flag is given: `token create`
 * and `token list` do not read it at each start. It shares no state with the command (it reads a kubeconfig and
 * returns a string); its errors are printed as any other.
 */
const joinCommandApart = {
  name: 'join-command-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/join-command\.js$/ }, (args) => (args.kind === 'dynamic-import' ? { path: './join-command.cjs', external: true } : undefined));
  },
};

/**
 * Node built-ins that cost a command's start when required but that most modules use only in a function called
 * later, if at all: node:net for `net.isIP`, node:os, node:child_process (commander's executable subcommands,
 * kubeconfig exec plugins), node:http and node:https (src/client/rest.ts: `kubepki token` makes its requests
 * without them, through tls-http.ts), node:module (createRequire for yaml, which loads Node's ES module loader).
 * Bundled code gets a stand-in whose properties load the module on first use.
 */
const LAZY_BUILTINS = ['child_process', 'net', 'os', 'http', 'https', 'module'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      // The stand-in's own require() gets the real module.
      return LAZY_BUILTINS.includes(name) && args.namespace !== 'lazy-builtin' ? { path: name, namespace: 'lazy-builtin' } : undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, async (args) => {
      const { default: real } = await import(`node:${args.path}`);
      const getters = Object.keys(real).map((k) => `  get ${JSON.stringify(k)}() { return (real ??= require('node:${args.path}'))[${JSON.stringify(k)}]; },`);
      return { contents: `let real;\nmodule.exports = {\n${getters.join('\n')}\n};\n`, loader: 'js' };
    });
  },
};

/**
 * Worker threads are started as `new Worker(new URL('./name.js', import.meta.url))`: each such file becomes a
 * bundle of its own, named as it is, so that URL (now relative to a file in dist/bundle/) finds it.
 */
async function workerEntries() {
  const entries = {};
  for (const file of await readdir('dist/src', { recursive: true })) {
    if (!file.endsWith('.js')) continue;
    const text = await readFile(path.join('dist/src', file), 'utf8');
    for (const m of text.matchAll(/new URL\('\.\/([\w-]+)\.js', import\.meta\.url\)/g)) {
      const name = m[1];
      const source = path.join('dist/src', path.dirname(file), `${name}.js`);
      if (entries[name] !== undefined && entries[name] !== source) throw new Error(`two worker files named ${name}.js`);
      entries[name] = source;
    }
  }
  return entries;
}

/**
 * Files read at run time from a directory next to the module (`new URL('./page/', import.meta.url)`): each such
 * directory of dist/src is copied into dist/bundle/, where that URL points from a bundle.
 */
async function copyAssetDirs() {
  for (const file of await readdir('dist/src', { recursive: true })) {
    if (!file.endsWith('.js')) continue;
    const text = await readFile(path.join('dist/src', file), 'utf8');
    for (const m of text.matchAll(/new URL\('\.\/([\w-]+)\/', import\.meta\.url\)/g)) {
      const from = path.join('dist/src', path.dirname(file), m[1]);
      if ((await stat(from).catch(() => undefined))?.isDirectory()) await cp(from, path.join(OUT, m[1]), { recursive: true });
    }
  }
}

/**
 * esbuild escapes non-ASCII characters in strings but leaves them in regular expressions and comments (`µs` in
 * src/util/duration.ts): one such character makes V8 hold the whole bundle's source as a two-byte string, twice the
 * memory to read and scan at each start. Escaped as \uXXXX, which means the same in a regular expression, an
 * identifier or a comment.
 */
async function escapeNonAscii(file) {
  const text = await readFile(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) await writeFile(file, ascii);
}

/**
 * The entry, dist/bundle/entry.cjs: scripts/bundle-entry.cjs with invokedCommandName (compiled, no imports) and
 * the command names filled in.
 */
async function writeEntry() {
  const invoked = (await readFile('dist/src/cli/invoked-command.js', 'utf8')).replace(/\/\/# sourceMappingURL=.*\n?/, '').replace(/^export function /m, 'function ');
  const template = await readFile('scripts/bundle-entry.cjs', 'utf8');
  const filled = template
    .replace(/^\/\/ Template of dist\/bundle\/entry\.cjs \(scripts\/bundle\.js fills in the two marked lines\)/, '// Generated by scripts/bundle.js from scripts/bundle-entry.cjs')
    .replace('/* INVOKED_COMMAND */\n', () => invoked)
    .replace('/* COMMAND_NAMES */', () => `const COMMAND_NAMES = ${JSON.stringify(names)};`);
  if (filled.includes('/* INVOKED_COMMAND */') || filled.includes('/* COMMAND_NAMES */')) throw new Error('scripts/bundle-entry.cjs: a marker was not filled in');
  await writeFile(path.join(OUT, 'entry.cjs'), filled);
}

/** A TCP port nothing listens on (it was free a moment ago): a connection to it is refused at once. */
function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The V8 code cache of each command bundle (cmd-<command>.code-cache, read by entry.cjs), made by running the
 * bundle the way bench:cli does, in a temporary directory: V8 caches every function those runs compiled, so a start
 * deserializes them instead of compiling them. init writes an ECDSA PKI that certs reads and cfssl gencert makes a
 * CA; token create and list read that PKI's admin.conf, pointed at a closed port (they run up to the connection);
 * every other command runs `<command> --help`. Functions no run reached are compiled when first called, as
 * without a cache.
 */
async function writeCodeCaches() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kubepki-code-cache-'));
  try {
    const pki = path.join(dir, 'pki');
    const csr = path.join(dir, 'csr.json');
    const offline = path.join(dir, 'offline.conf');
    await writeFile(csr, JSON.stringify({ CN: 'kubepki-code-cache', key: { algo: 'ecdsa', size: 256 } }));
    const train = (runs) =>
      execFileAsync(process.execPath, [path.resolve(OUT, 'entry.cjs')], { cwd: dir, env: { ...process.env, KUBEPKI_CODE_CACHE_TRAIN: JSON.stringify(runs) } });
    await train([['init', '--cert-dir', pki, '--kubeconfig-dir', dir, '--node-name', 'node-1', '--encryption-algorithm', 'ECDSA-P256']]);
    const admin = await readFile(path.join(dir, 'admin.conf'), 'utf8');
    await writeFile(offline, admin.replace(/server: \S+/, `server: https://127.0.0.1:${await closedPort()}`));
    const queue = [
      [['--help'], ['--version']],
      [['certs', 'inspect', path.join(pki, 'apiserver.crt')], ['certs', 'check-expiration', '--cert-dir', pki, '--kubeconfig-dir', dir]],
      [['cfssl', 'gencert', '-initca', csr]],
      [['token', 'create', '--kubeconfig', offline], ['token', 'list', '--kubeconfig', offline]],
      ...names.filter((n) => !['init', 'certs', 'cfssl', 'token'].includes(n)).map((n) => [[n, '--help']]),
    ];
    // Two runs at a time (the machine's two cores).
    const worker = async () => {
      for (let runs = queue.shift(); runs !== undefined; runs = queue.shift()) await train(runs);
    };
    await Promise.all([worker(), worker()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await rm(OUT, { recursive: true, force: true });
/**
 * A start reads its bundle's whole text and V8 keeps it as a string: without comments and indentation a bundle is
 * about 40% smaller (commander's JSDoc is half of cmd-token.cjs). Names stay, so stack frames still say which
 * function ran. cmd-serve.cjs is kept as it is: bench/storm-breakdown.ts maps its frames' lines to the
 * `// dist/src/<module>.js` headings esbuild writes, and the server starts once.
 */
const minifyWhitespace = (only) => only !== 'serve';

await Promise.all([
  ...[...names, 'none'].map((only) =>
    build({
      ...commandConfig,
      entryPoints: ['dist/src/cli/entry.js'],
      outfile: path.join(OUT, `cmd-${only}.cjs`),
      minifyWhitespace: minifyWhitespace(only),
      plugins: [onlyCommand(only), lazyBuiltins, yamlApart, joinCommandApart],
    }),
  ),
  build({
    ...common,
    format: 'cjs',
    minifyWhitespace: true,
    entryPoints: ['dist/src/cli/join-command.js'],
    outfile: path.join(OUT, 'join-command.cjs'),
    define: { 'import.meta.url': '__kubepkiModuleUrl' },
    banner: { js: "const __kubepkiModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    plugins: [lazyBuiltins, yamlApart],
  }),
  build({ ...workerConfig, entryPoints: await workerEntries(), outdir: OUT }),
  build({ ...common, format: 'cjs', entryPoints: ['yaml'], outfile: path.join(OUT, 'yaml.cjs') }),
]);
const commandBundles = [...names, 'none'].map((only) => path.join(OUT, `cmd-${only}.cjs`));
await Promise.all([...commandBundles, path.join(OUT, 'yaml.cjs'), path.join(OUT, 'join-command.cjs')].map(escapeNonAscii));
await writeEntry();
await copyAssetDirs();
await writeCodeCaches();
