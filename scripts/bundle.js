// Bundles the compiled CLI (dist/, from tsc) into dist/bundle/ with esbuild, which bin/kubepki.js runs: one
// file per command. dist/bundle/entry.js only picks the invoked command (src/cli/invoked-command.ts) and imports
// cmd-<command>.js: the whole CLI (src/cli/entry.ts, main.ts, commander) with that one command's module graph,
// the other commands' modules left out (main.ts never loads them in that process); cmd-none.js serves --help,
// --version and unknown commands. A command start so reads three files instead of a graph of 50–150 modules
// and package.json lookups, which were most of the CLI's start-up (bench:cli). Run by `npm run build`.
// Left out (loaded from node_modules at run time): native or worker-thread packages that cannot be bundled
// (better-sqlite3's addon, pino's transport workers).
import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { COMMANDS } from '../dist/src/cli/main.js';

const OUT = 'dist/bundle';
const MAIN = path.resolve('dist/src/cli/main.js');
const names = COMMANDS.map((c) => c.term.split(' ')[0]);

const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'pino'],
  // yaml's Node entry is CommonJS, and a bundled `await import('yaml')` of CommonJS gets only a default export
  // (Node adds the named ones); its ESM build (the same code, no Node specifics) keeps the named exports.
  alias: { yaml: './node_modules/yaml/browser/index.js' },
  // CommonJS dependencies bundled into ESM call require() for Node's built-ins.
  banner: { js: "import { createRequire as __kubepkiRequire } from 'node:module'; const require = __kubepkiRequire(import.meta.url);" },
  logLevel: 'warning',
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
 * commander requires node:child_process at load time (about 10 ms) for executable subcommands, which kubepki
 * does not use: it gets a stand-in that loads the module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "let cp; module.exports = { spawn: (...a) => (cp ??= require('node:child_process')).spawn(...a) };",
      loader: 'js',
    }));
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

/** The entry: invokedCommandName (compiled, no imports) and a static import per command bundle. */
async function writeEntry() {
  const invoked = await readFile('dist/src/cli/invoked-command.js', 'utf8');
  const table = names.map((n) => `  ${JSON.stringify(n)}: () => import('./cmd-${n}.js'),`).join('\n');
  await writeFile(
    path.join(OUT, 'entry.js'),
    `// Generated by scripts/bundle.js: starts the bundle of the invoked command.\n${invoked.replace(/\/\/# sourceMappingURL=.*\n?/, '')}
const BUNDLES = {\n${table}\n};
const invoked = invokedCommandName(process.argv.slice(2));
await (invoked !== undefined && Object.hasOwn(BUNDLES, invoked) ? BUNDLES[invoked] : () => import('./cmd-none.js'))();
`,
  );
}

await rm(OUT, { recursive: true, force: true });
await Promise.all([
  ...[...names, 'none'].map((only) =>
    build({ ...common, entryPoints: ['dist/src/cli/entry.js'], outfile: path.join(OUT, `cmd-${only}.js`), plugins: [onlyCommand(only), lazyChildProcess] }),
  ),
  build({ ...common, entryPoints: await workerEntries(), outdir: OUT }),
]);
await writeEntry();
await copyAssetDirs();
