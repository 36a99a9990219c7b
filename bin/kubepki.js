#!/usr/bin/env node
// `npx kubepki`: runs the compiled CLI (built into dist/ by `npm ci` through the prepare script).
import '../dist/src/cli/entry.js';
