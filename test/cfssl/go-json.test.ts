import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCfsslResponse, goJsonStringify } from '../../src/cfssl/index.js';
import { normaliseGoFlags } from '../../src/cli/cfssl.js';
import { Command } from 'commander';

test('escapes <, > and & and control characters as Go\'s encoding/json does', () => {
  assert.equal(goJsonStringify({ a: 'system:node:<n> & "q"\\\b\f\u2028' }), '{"a":"system:node:\\u003cn\\u003e \\u0026 \\"q\\"\\\\\\u0008\\u000c\\u2028"}');
  assert.equal(goJsonStringify({ a: [1, 'x'], b: {}, c: [] }, '  '), '{\n  "a": [\n    1,\n    "x"\n  ],\n  "b": {},\n  "c": []\n}');
});

test('prints cfssl\'s response as a sorted compact map with a trailing newline', () => {
  assert.equal(formatCfsslResponse({ key: 'K\n', cert: 'C\n', csr: 'R\n' }), '{"cert":"C\\n","csr":"R\\n","key":"K\\n"}\n');
  assert.equal(formatCfsslResponse({ csr: 'R', key: 'K' }), '{"csr":"R","key":"K"}\n');
});

test('turns cfssl\'s single-dash flags into the long options the command defines, and only those', () => {
  const cmd = new Command('gencert').option('--initca').option('--ca <f>').option('--ca-key <f>').option('--profile <p>');
  assert.deepEqual(
    normaliseGoFlags(['-initca', '-ca=ca.pem', '-ca-key', 'k.pem', '--profile=server', '-', 'csr.json', '-other=1', '-initca=false'], cmd),
    ['--initca', '--ca=ca.pem', '--ca-key', 'k.pem', '--profile=server', '-', 'csr.json', '-other=1'],
  );
  assert.deepEqual(normaliseGoFlags(['-initca=true', '-h', '--', '-ca=x'], cmd), ['--initca', '--help', '--', '-ca=x']);
  assert.throws(() => normaliseGoFlags(['-initca=maybe'], cmd), /invalid boolean value "maybe" for -initca/);
});

test('bad JSON is described on one line with line, column and what was expected', async () => {
  const { parseCsrJson } = await import('../../src/cfssl/index.js');
  const msg = (text: string) => {
    try {
      parseCsrJson(text, 'r.json');
    } catch (e) {
      return (e as Error).message;
    }
    return 'parsed';
  };
  assert.equal(msg('{"CN":"a",\n"hosts": [\n<X>]}'), 'r.json: invalid JSON: unexpected "<" at line 3, column 1 (expected a value)');
  assert.equal(msg('{"CN": "a",'), 'r.json: invalid JSON: unexpected end of input (expected a double-quoted string)');
  assert.equal(msg('{"a":1,}'), 'r.json: invalid JSON: unexpected "}" at line 1, column 8 (expected a double-quoted string)');
  assert.equal(msg('{"a":1} x'), 'r.json: invalid JSON: unexpected "x" at line 1, column 9 (expected nothing after the JSON value)');
  assert.equal(msg('  '), 'r.json: invalid JSON: the input is empty');
  assert.equal(msg('{"CN":"\\u00e9"}'), 'parsed');
});
