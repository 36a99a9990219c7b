// The static command table of src/cli/main.ts (what `kubepki --help` prints without loading any command module)
// must say what each module really registers, and a run must load only the invoked command's module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { COMMANDS, buildProgram } from '../../src/cli/main.js';
import { kubepki } from '../helpers/cli.js';

test('each table row names, describes and prints (term) the command its module registers', async () => {
  for (const entry of COMMANDS) {
    const { register } = await entry.load();
    const program = buildProgram([register]);
    const registered = program.commands.filter((c: Command) => c.name() !== 'help');
    assert.equal(registered.length, 1, `${entry.term}: its module registers exactly one top-level command`);
    const cmd = registered[0]!;
    assert.equal(cmd.name(), entry.term.split(' ')[0]);
    assert.equal(cmd.description(), entry.description, `${entry.term}: description`);
    assert.equal(program.createHelp().subcommandTerm(cmd), entry.term, `${entry.term}: help term`);
  }
});

test('kubepki --help lists every command of the table, with the terms and descriptions its modules give', async () => {
  const { code, stdout } = await kubepki(['--help']);
  assert.equal(code, 0);
  const full = buildProgram(await Promise.all(COMMANDS.map(async (c) => (await c.load()).register)));
  assert.equal(stdout, full.helpInformation());
});

test('kubepki help <command> shows that command\'s own help (its module is loaded)', async () => {
  const { code, stdout } = await kubepki(['help', 'init']);
  assert.equal(code, 0);
  assert.match(stdout, /Usage: kubepki init \[options\]/);
  assert.match(stdout, /--cert-dir <dir>/);
});

test('kubepki <unknown> is an error naming the command, exit code 2', async () => {
  const { code, stderr } = await kubepki(['bogus']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown command 'bogus'/);
});

test('a help flag before a command prints the top-level help with every command, as without the command', async () => {
  const top = await kubepki(['--help']);
  const before = await kubepki(['-h', 'token']);
  assert.equal(before.code, 0);
  assert.equal(before.stdout, top.stdout);
  // After the command, the flag is the command's own.
  assert.match((await kubepki(['token', '--help'])).stdout, /^Usage: kubepki token \[options\] \[command\]/);
});
