// An operator's typo: every command (and subcommand) answers an unknown flag or a missing required argument
// with one line on stderr, nothing on stdout, a non-zero exit, and nothing written in the working directory.
// An unknown flag is named even when a required flag is missing too (pflag reports it first as well).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const COMMANDS = [
  [], ['init'], ['serve'], ['controllers'], ['agent'], ['doctor'], ['dashboard'],
  ['certs', 'check-expiration'], ['certs', 'renew'], ['certs', 'inspect'], ['certs', 'verify'],
  ['cfssl', 'gencert'], ['cfssl', 'sign'], ['cfssl', 'genkey'], ['cfssl', 'certinfo'],
  ['token', 'create'], ['token', 'list'], ['token', 'delete'], ['token', 'generate'],
  ['trust', 'status'], ['trust', 'set'], ['ca', 'rotate'], ['ca', 'rotate', 'status'],
];

const MISSING: [string[], RegExp][] = [
  [['certs', 'renew'], /^error: missing required argument 'name'$/],
  [['certs', 'inspect'], /^error: missing required argument 'file'$/],
  [['certs', 'verify'], /^error: missing required argument 'cert'$/],
  [['cfssl', 'gencert'], /^error: missing required argument 'csrjson'$/],
  [['cfssl', 'sign'], /^error: missing required argument 'csr'$/],
  [['token', 'delete'], /^error: missing required argument 'token-value'$/],
  [['trust', 'set'], /^error: missing required argument 'file'$/],
  [['agent'], /^error: --kubeconfig is required: /],
  [['dashboard'], /^error: --kubeconfig is required: /],
  [['controllers'], /^error: --kubeconfig is required: /],
  [['ca', 'rotate'], /^error: --data-dir is required: /],
  [['init', '--cert-dir'], /^error: option '--cert-dir <dir>' argument missing$/],
];

test('an unknown flag: one line naming it, exit 2, nothing written, whatever else is missing', async (t) => {
  const cwd = await tempDir(t, 'kubepki-usage-');
  for (const command of COMMANDS) {
    const r = await kubepki([...command, '--no-such-flag'], { cwd });
    const what = `kubepki ${command.join(' ')} --no-such-flag`;
    assert.equal(r.code, 2, what);
    assert.equal(r.stdout, '', what);
    assert.equal(r.stderr, "error: unknown option '--no-such-flag'\n", what);
  }
  assert.deepEqual(await readdir(cwd), []);
});

test('a missing required argument or flag: one line naming it, non-zero exit, nothing written', async (t) => {
  const cwd = await tempDir(t, 'kubepki-usage-');
  for (const [args, message] of MISSING) {
    const r = await kubepki(args, { cwd });
    const what = `kubepki ${args.join(' ')}`;
    assert.notEqual(r.code, 0, what);
    assert.equal(r.stdout, '', what);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr.trimEnd(), message, what);
  }
  assert.deepEqual(await readdir(cwd), []);
});
