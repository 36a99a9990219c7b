// The layering the code is meant to keep (README "Layout", ../shared/design.md): lower layers never import
// higher ones. Reads every src/**/*.ts, resolves each relative import (static, `export … from` and dynamic
// `import('…')`) and fails naming each offending import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/architecture/ → the repository root, where the TypeScript sources are.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = join(ROOT, 'src');

interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Relative imports of one file, as src-relative paths ("api/status.ts"). */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]/g), ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
  const from = relative(SRC, file).split(sep).join('/');
  return specs.map((s) => ({ from, to: relative(SRC, resolve(dirname(file), s)).split(sep).join('/').replace(/\.js$/, '.ts') }));
}

const layerOf = (path: string): string => (path.startsWith('..') ? '(outside src)' : path.split('/')[0]!);

const all = sourceFiles(SRC).flatMap(importsOf);

/** Imports from `layers` whose target's layer is not allowed. */
function violations(layers: string[], allowed: (target: string) => boolean): string[] {
  return all.filter((i) => layers.includes(layerOf(i.from)) && layerOf(i.to) !== layerOf(i.from) && !allowed(layerOf(i.to))).map((i) => `${i.from} → ${i.to}`);
}

test('the scan sees the sources and their imports', () => {
  // Guards the test itself: a wrong root or pattern would find nothing and pass everything.
  assert.ok(all.length > 500, `only ${all.length} imports found under ${SRC}`);
  assert.ok(all.some((i) => i.from === 'api/store.ts' && i.to === 'apis/status.ts'));
  assert.ok(all.some((i) => i.from.startsWith('cli/') && i.to.startsWith('auth/')), 'dynamic imports are seen');
});

test('src/x509 imports nothing of ours above it (only src/util)', () => {
  assert.deepEqual(violations(['x509'], (t) => t === 'util'), []);
});

test('src/apis imports nothing of ours but src/x509', () => {
  assert.deepEqual(violations(['apis'], (t) => t === 'x509'), []);
});

test('src/controllers and src/agent are API clients: they never import src/api, src/resources or src/server', () => {
  assert.deepEqual(violations(['controllers', 'agent'], (t) => !['api', 'resources', 'server'].includes(t)), []);
});

test('src/api does not import src/auth (user info and authorization attributes are src/apis types)', () => {
  assert.deepEqual(violations(['api'], (t) => t !== 'auth'), []);
});
