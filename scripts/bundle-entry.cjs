// Template of dist/bundle/entry.cjs (scripts/bundle.js fills in the two marked lines): starts the bundle of the
// invoked command, compiled with the V8 code cache scripts/bundle.js made for it, so V8 deserializes the
// functions a start runs instead of parsing and compiling them (bench:cli). CommonJS, like the bundles: Node runs
// it without starting its ES module loader.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire, wrap } = require('node:module');
const { pathToFileURL } = require('node:url');

/* INVOKED_COMMAND */
/* COMMAND_NAMES */

/** Set by scripts/bundle.js alone: run the bundle, then write its code cache with what the run compiled. */
const TRAIN = process.env.KUBEPKI_CODE_CACHE_TRAIN === '1';

/**
 * The code cache of `file` if it was written after it. V8 checks the cache's V8 version and flags (a cache of
 * another Node, or a run with other V8 flags, is rejected and the bundle compiled as usual) but of the source only
 * its length: an edited bundle with an older cache must not use it.
 */
function codeCacheOf(file, cacheFile) {
  try {
    return statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs ? readFileSync(cacheFile) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs bundle `name` (cmd-<command>) as Node runs a CommonJS module, compiled with its code cache. */
function run(name) {
  const file = path.join(__dirname, `${name}.cjs`);
  const cacheFile = path.join(__dirname, `${name}.code-cache`);
  const script = new vm.Script(wrap(readFileSync(file, 'utf8')), {
    // Named by its file URL, as the bundle's frames were when it was an ES module (bench/storm-breakdown.ts).
    filename: pathToFileURL(file).href,
    cachedData: TRAIN ? undefined : codeCacheOf(file, cacheFile),
    importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (TRAIN) process.once('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  const mod = { exports: {}, filename: file, id: file };
  script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname);
}

const invoked = invokedCommandName(process.argv.slice(2));
run(invoked !== undefined && COMMAND_NAMES.includes(invoked) ? `cmd-${invoked}` : 'cmd-none');
