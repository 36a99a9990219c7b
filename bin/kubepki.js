#!/usr/bin/env node
// `npx kubepki`: runs the bundled CLI (built into dist/ by `npm ci` through the prepare script: tsc, then
// scripts/bundle.js). dist/src/cli/entry.js, unbundled, behaves the same; the bundle starts faster (bench:cli).
// CommonJS (bin/package.json), like the bundle: Node runs it without starting its ES module loader.
require('../dist/bundle/entry.cjs');
