// YAML nested past the limit is refused before the yaml package composes it (past about a thousand levels V8
// aborted the whole process, "RegExpCompiler Allocation failed"); cycles through aliases are refused and aliases
// are copies; the kubeconfig and config-file readers go through the same check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_YAML_NESTING, parseUntrustedYaml, yamlNestingProblem } from '../../src/util/yaml-nesting.js';
import { parseKubeconfigYaml } from '../../src/cluster/kubeconfig.js';
import { parseConfigFile } from '../../src/cluster/config.js';
import { readSimpleYaml } from '../../src/util/simple-yaml.js';
import { KubepkiError } from '../../src/util/errors.js';

const SHAPES: Record<string, (n: number) => string> = {
  'flow mappings': (n) => `${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}`,
  'flow sequences': (n) => `${'['.repeat(n)}${']'.repeat(n)}`,
  'block mappings': (n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} x`,
  'compact sequences': (n) => `${'- '.repeat(n)}x`,
};

test('every shape of nesting parses up to the limit and is refused past it, however deep, without composing it', () => {
  for (const [shape, text] of Object.entries(SHAPES)) {
    assert.equal(yamlNestingProblem(text(MAX_YAML_NESTING)), undefined, `${shape} at the limit`);
    assert.notEqual(parseUntrustedYaml(text(MAX_YAML_NESTING)), undefined, `${shape} at the limit parses`);
    assert.match(yamlNestingProblem(text(MAX_YAML_NESTING + 2)) ?? '', /exceeded max depth/, `${shape} past the limit`);
    // Deep enough that composing it aborted the process.
    assert.throws(() => parseUntrustedYaml(text(shape === 'block mappings' ? 3000 : 200_000)), /exceeded max depth/, shape);
  }
});

test('an alias to a node that contains it is refused; other aliases are copies, as YAML turned into JSON', () => {
  assert.throws(() => parseUntrustedYaml('&a [*a]'), /an alias refers to a node that contains it/);
  assert.throws(() => parseUntrustedYaml('a: &x {b: *x}'), /an alias refers to a node that contains it/);
  const v = parseUntrustedYaml('a: &x {b: 1}\nc: *x\n') as { a: { b: number }; c: { b: number } };
  assert.deepEqual(v, { a: { b: 1 }, c: { b: 1 } });
  assert.notEqual(v.a, v.c, 'a copy, not the same object twice');
});

test('kubeconfig and config-file readers refuse deep YAML with their own clear error', async () => {
  const deepKubeconfig = `apiVersion: v1\nkind: Config\nclusters: ${SHAPES['flow sequences']!(100_000)}\n`;
  assert.throws(
    () => parseKubeconfigYaml(deepKubeconfig, 'deep.conf'),
    (err: unknown) => err instanceof KubepkiError && err.code === 'FileInvalid' && /^deep\.conf: not a valid kubeconfig \(YAML error: exceeded max depth/.test(err.message),
  );
  // Block nesting deeper than simple-yaml.ts goes is left to the yaml package, and its check.
  const deepBlock = `apiVersion: v1\nclusters:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}a${i}:`).join('\n')} x\n`;
  assert.equal(readSimpleYaml(deepBlock), undefined);
  assert.throws(() => parseKubeconfigYaml(deepBlock, 'block.conf'), /exceeded max depth/);
  await assert.rejects(parseConfigFile(`a: ${SHAPES['flow mappings']!(100_000)}\n`, 'kubeadm.yaml'), /kubeadm\.yaml: not valid YAML: exceeded max depth/);
});
