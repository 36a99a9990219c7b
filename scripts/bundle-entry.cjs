// Template of dist/bundle/entry.cjs (scripts/bundle.js fills in the two marked lines): starts the bundle of the
// invoked command, compiled with the V8 code cache scripts/bundle.js made for it, so V8 deserializes the
// functions a start runs instead of parsing and compiling them (bench:cli). CommonJS, like the bundles: Node runs
// it without starting its ES module loader.
'use strict';
const { readFileSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { pathToFileURL } = require('node:url');

/* INVOKED_COMMAND */
/* COMMAND_NAMES */

/** The bundle (dist/bundle/<name>.cjs) that serves an argument list. */
function bundleFor(argv) {
  const invoked = invokedCommandName(argv);
  return invoked !== undefined && COMMAND_NAMES.includes(invoked) ? `cmd-${invoked}` : 'cmd-none';
}

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

/** Compiles bundle `name`: its text is a function expression, the CommonJS module wrapper (scripts/bundle.js). */
function compile(name, cachedData) {
  const file = path.join(__dirname, `${name}.cjs`);
  // Named by its file URL, as the bundle's frames were when it was an ES module (bench/storm-breakdown.ts).
  const options = { filename: pathToFileURL(file).href, cachedData, importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER };
  // latin1: the bundles are ASCII (scripts/bundle.js escapes anything else), and a latin1 read makes the same
  // one-byte string without UTF-8 decoding.
  return { file, script: new vm.Script(readFileSync(file, 'latin1'), options) };
}

/**
 * Runs a compiled bundle as Node runs a CommonJS module. Its `require` is this file's: the bundles are in this
 * directory, so it resolves what theirs would (node:module's createRequire would load Node's ES module loader).
 */
function start({ file, script }) {
  const mod = { exports: {}, filename: file, id: file };
  script.runInThisContext()(mod.exports, require, mod, file, __dirname);
}

/**
 * Build time only (scripts/bundle.js): runs one bundle for each argument list in turn, in this process, each when
 * the previous one is done, then writes the bundle's code cache with every function those runs compiled.
 */
function train(runs) {
  const name = bundleFor(runs[0]);
  const compiled = compile(name, undefined);
  const [node, entry] = process.argv;
  const next = () => {
    const args = runs.shift();
    if (args === undefined) {
      writeFileSync(path.join(__dirname, `${name}.code-cache`), compiled.script.createCachedData());
      process.exitCode = 0;
      return;
    }
    process.argv = [node, entry, ...args];
    process.once('beforeExit', next);
    // From an immediate: Node emits beforeExit again only if the loop had work after the last one.
    setImmediate(() => start(compiled));
  };
  next();
}

const runs = process.env.KUBEPKI_CODE_CACHE_TRAIN;
if (runs) train(JSON.parse(runs));
else {
  const name = bundleFor(process.argv.slice(2));
  start(compile(name, codeCacheOf(path.join(__dirname, `${name}.cjs`), path.join(__dirname, `${name}.code-cache`))));
}
