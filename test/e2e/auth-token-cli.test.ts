import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTokenList } from '../../src/cli/token.js';
import { kubepki } from '../helpers/cli.js';

test('token list prints kubeadm\'s table: padded TTL, usages and description, <forever>/<never>/<none>', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const out = formatTokenList(
    [
      {
        token: 'abcdef.0123456789abcdef',
        description: '',
        expires: new Date('2026-01-01T23:59:30Z'),
        usages: ['authentication', 'signing'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
      { token: 'zzzzzz.0123456789abcdef', description: 'for node-2', usages: ['signing'], groups: [] },
    ],
    now,
  );
  const lines = out.split('\n');
  assert.equal(
    lines[0],
    'TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION                                                EXTRA GROUPS',
  );
  assert.equal(
    lines[1],
    'abcdef.0123456789abcdef   23h         2026-01-01T23:59:30Z   authentication,signing   <none>                                                     system:bootstrappers:kubeadm:default-node-token',
  );
  assert.match(lines[2]!, /^zzzzzz\.0123456789abcdef   <forever>   <never>   signing {18}for node-2 {49}<none>$/);
  assert.equal(lines[3], '');
  assert.equal(formatTokenList([], now), 'TOKEN     TTL       EXPIRES   USAGES    DESCRIPTION   EXTRA GROUPS\n');
});

test('kubepki token generate prints one random token and nothing else', async () => {
  const a = await kubepki(['token', 'generate']);
  const b = await kubepki(['token', 'generate']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stdout, /^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
  assert.notEqual(a.stdout, b.stdout);
});

test('bad token arguments fail with one line before contacting any server', async () => {
  const bad = await kubepki(['token', 'create', 'not-a-token', '--kubeconfig', '/nonexistent']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^error: the bootstrap token "not-a-token" was not of the form/);
  const usage = await kubepki(['token', 'create', '--usages', 'signing,bogus', '--kubeconfig', '/nonexistent']);
  assert.equal(usage.code, 1);
  assert.equal(usage.stderr, 'error: invalid bootstrap token usage string: bogus, valid usage options: signing,authentication\n');
  const group = await kubepki(['token', 'create', '--groups', 'system:masters', '--kubeconfig', '/nonexistent']);
  assert.match(group.stderr, /bootstrap group "system:masters" is invalid/);
  const ttl = await kubepki(['token', 'create', '--ttl', 'soon', '--kubeconfig', '/nonexistent']);
  assert.match(ttl.stderr, /invalid duration "soon"/);
  const del = await kubepki(['token', 'delete', 'ABC', '--kubeconfig', '/nonexistent']);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /given token didn't match pattern/);
  const missing = await kubepki(['token', 'list', '--kubeconfig', '/nonexistent/admin.conf']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: failed to load admin kubeconfig: \/nonexistent\/admin.conf/);
});
