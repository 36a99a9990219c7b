import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadTokenFile, parseCsvLine, parseTokenFile, tokenFileAuthenticator } from '../../src/auth/authn/tokenfile.js';
import { tempDir } from '../helpers/tmp.js';

const FILE = [
  '02b50b05283e98dd0fd71db496ef01e8,kubelet-bootstrap,10001,system:kubelet-bootstrap',
  'admintoken,admin,1,"system:masters,ops"',
  '',
  'plain,nobody,2',
  'quoted,"we""ird",3,"a,b,,c"',
].join('\r\n');

test('the seed 004 format authenticates: one unquoted group, quoted group lists, no group column', async () => {
  const a = tokenFileAuthenticator(parseTokenFile(FILE, 'tokens.csv'), []);
  assert.equal(a.size, 4);
  assert.deepEqual((await a.authenticateToken('02b50b05283e98dd0fd71db496ef01e8', undefined))?.user, {
    username: 'kubelet-bootstrap',
    uid: '10001',
    groups: ['system:kubelet-bootstrap'],
  });
  assert.deepEqual((await a.authenticateToken('admintoken', undefined))?.user.groups, ['system:masters', 'ops']);
  assert.deepEqual((await a.authenticateToken('plain', undefined))?.user, { username: 'nobody', uid: '2', groups: [] });
  const weird = await a.authenticateToken('quoted', undefined);
  assert.equal(weird?.user.username, 'we"ird');
  assert.deepEqual(weird?.user.groups, ['a', 'b', 'c']);
});

test('an unknown token, a prefix of a token, or a longer token is not applicable', async () => {
  const a = tokenFileAuthenticator(parseTokenFile(FILE, 'tokens.csv'), []);
  assert.equal(await a.authenticateToken('nope', undefined), null);
  assert.equal(await a.authenticateToken('admintoke', undefined), null);
  assert.equal(await a.authenticateToken('admintokenX', undefined), null);
});

test('returned users are copies: changing one does not change the file\'s entry', async () => {
  const a = tokenFileAuthenticator(parseTokenFile(FILE, 'tokens.csv'), []);
  const first = await a.authenticateToken('admintoken', undefined);
  first!.user.groups.push('injected');
  assert.deepEqual((await a.authenticateToken('admintoken', undefined))?.user.groups, ['system:masters', 'ops']);
});

test('token-file tokens are valid only for the API audiences when an audience is asked for', async () => {
  const a = tokenFileAuthenticator(parseTokenFile(FILE, 'tokens.csv'), ['https://kubernetes.default.svc']);
  assert.deepEqual((await a.authenticateToken('plain', ['https://kubernetes.default.svc']))?.audiences, ['https://kubernetes.default.svc']);
  assert.equal(await a.authenticateToken('plain', ['vault']), null);
});

test('malformed lines refuse the whole file, naming the line', () => {
  assert.throws(() => parseTokenFile('good,u,1\nonly,two\n', 'f.csv'), {
    message: "token file 'f.csv' line 2: must have at least 3 columns (token, user name, user uid), found 2",
  });
  assert.throws(() => parseTokenFile('a,b,1\nto"ken,u,1', 'f.csv'), { message: /line 2: parse error on column 3: bare " in non-quoted-field/ });
  assert.throws(() => parseTokenFile('a,b,1,"unterminated', 'f.csv'), { message: /line 1: parse error .*extraneous or missing " in quoted-field/ });
  assert.throws(() => parseTokenFile(',u,1', 'f.csv'), { message: /line 1: the token \(column 1\) is empty/ });
  assert.throws(() => parseTokenFile('t,,1', 'f.csv'), { message: /line 1: the user name \(column 2\) is empty/ });
  assert.throws(() => parseTokenFile('t,a,1\nx,b,2\nt,c,3', 'f.csv'), { message: /line 3: duplicate token \(first seen on line 1\)/ });
});

test('Go csv quoting rules: doubled quotes escape, text after a closing quote is an error', () => {
  assert.deepEqual(parseCsvLine('a,"b,c",d'), { fields: ['a', 'b,c', 'd'] });
  assert.deepEqual(parseCsvLine('"x""y",'), { fields: ['x"y', ''] });
  assert.equal('error' in parseCsvLine('"ab"c,d'), true);
});

test('loadTokenFile reads the file and reports an unreadable path', async (t) => {
  const dir = await tempDir(t);
  const f = path.join(dir, 'tokens.csv');
  await writeFile(f, 'secret-token,carol,7,"g1"\n');
  const a = await loadTokenFile(f, []);
  assert.equal((await a.authenticateToken('secret-token', undefined))?.user.username, 'carol');
  await assert.rejects(loadTokenFile(path.join(dir, 'missing.csv'), []), { message: /--token-auth-file: cannot read .*missing.csv.*ENOENT/ });
});

test('errors never contain the token text', () => {
  try {
    parseTokenFile('supersecretvalue,u', 'f.csv');
    assert.fail('expected an error');
  } catch (err) {
    assert.doesNotMatch((err as Error).message, /supersecretvalue/);
  }
});
