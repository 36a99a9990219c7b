#!/usr/bin/env node
// Entry point for `npx kubepki`: the compiled CLI lives in dist/ (built by `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`error: ${err?.message ?? err}`); process.exitCode = 1; },
);
