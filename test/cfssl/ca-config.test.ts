import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCaConfig, profileUsages, selectProfile, defaultSigningPolicy } from '../../src/cfssl/index.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../../src/x509/index.js';
import { isKubepkiError } from '../../src/util/errors.js';
import { SEED002 } from './helpers.js';

const H = 3_600_000;
const rejects = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => isKubepkiError(e) && re.test(e.message) && !e.message.includes('\n'));

for (const [dir, file] of [['etcd', 'ca-config.json'], ['kubernetes', 'ca-config.json'], ['kubernetes', 'front-proxy-ca-config.json']] as const) {
  test(`loads seed 002's ${dir}/${file} with its profiles of 876000h`, async () => {
    const policy = parseCaConfig(await readFile(path.join(SEED002(), dir, file), 'utf8'), file);
    assert.deepEqual(policy.warnings, []);
    const client = selectProfile(policy, 'client');
    assert.equal(client.expiryMs, 876000 * H);
    const u = profileUsages(client);
    assert.equal(u.keyUsage, KEY_USAGE_BITS['digital signature'] | KEY_USAGE_BITS['key encipherment']);
    assert.deepEqual(u.extKeyUsages, [EXT_KEY_USAGE_OIDS['client auth']]);
    if (file === 'ca-config.json') {
      assert.deepEqual(profileUsages(selectProfile(policy, 'server')).extKeyUsages, [EXT_KEY_USAGE_OIDS['server auth'], EXT_KEY_USAGE_OIDS['client auth']]);
    }
  });
}

test('without a "default" the default profile is cfssl\'s built-in one (1 year, server and client auth)', async () => {
  const policy = parseCaConfig(await readFile(path.join(SEED002(), 'etcd', 'ca-config.json'), 'utf8'), 'ca-config.json');
  const d = selectProfile(policy, undefined);
  assert.equal(d.expiryMs, 8760 * H);
  assert.deepEqual(profileUsages(d).extKeyUsages, [EXT_KEY_USAGE_OIDS['server auth'], EXT_KEY_USAGE_OIDS['client auth']]);
  assert.equal(selectProfile(defaultSigningPolicy(), undefined).expiryMs, 8760 * H);
});

test('a default with only an expiry cannot sign by itself: the error lists the profiles to choose from', async () => {
  const policy = parseCaConfig(await readFile(path.join(SEED002(), 'kubernetes', 'ca-config.json'), 'utf8'), 'ca-config.json');
  rejects(() => selectProfile(policy, undefined), /^ca-config\.json: the default profile has no "usages" to sign with; choose a profile with -profile \(client, server\)$/);
});

test('an unknown profile is an error naming the known ones (cfssl would silently use the default)', () => {
  const policy = parseCaConfig('{"signing":{"profiles":{"b":{"expiry":"1h","usages":["client auth"]},"a":{"expiry":"1h","usages":["server auth"]}}}}', 'c.json');
  rejects(() => selectProfile(policy, 'nope'), /^c\.json: unknown profile "nope" \(profiles: a, b\)$/);
  rejects(() => selectProfile(defaultSigningPolicy(), 'client'), /unknown profile "client" \(it defines no profiles\)/);
});

test('reads ca_constraint, backdate and cfssl\'s "content committment" spelling', () => {
  const policy = parseCaConfig(
    '{"signing":{"default":{"expiry":"8760h"},"profiles":{"intermediate":{"expiry":"43800h","backdate":"1h","usages":["cert sign","crl sign","content committment"],"ca_constraint":{"is_ca":true,"max_path_len":0,"max_path_len_zero":true}}}},"auth_keys":{"k":{"type":"standard","key":"00"}}}',
    'c.json',
  );
  const p = selectProfile(policy, 'intermediate');
  assert.deepEqual(p.caConstraint, { isCA: true, maxPathLen: 0, maxPathLenZero: true });
  assert.equal(p.backdateMs, H);
  assert.equal(profileUsages(p).keyUsage, KEY_USAGE_BITS['cert sign'] | KEY_USAGE_BITS['crl sign'] | KEY_USAGE_BITS['content commitment']);
});

test('unknown usages are ignored with a warning as long as one usage is known; none known is an error', () => {
  const policy = parseCaConfig('{"signing":{"profiles":{"p":{"expiry":"1h","usages":["client auth","Server Auth"]}}}}', 'c.json');
  assert.deepEqual(policy.warnings, ['c.json: profile "p": unknown usage "Server Auth" ignored']);
  assert.deepEqual(profileUsages(selectProfile(policy, 'p')).extKeyUsages, [EXT_KEY_USAGE_OIDS['client auth']]);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"expiry":"1h","usages":["foo"]}}}}', 'c.json'), /^c\.json: profile "p" has no known usage \("foo"\)$/);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"expiry":"1h"}}}}', 'c.json'), /^c\.json: profile "p" has no "usages"$/);
});

test('settings kubepki does not write are reported, not silently dropped', () => {
  const policy = parseCaConfig('{"signing":{"default":{"expiry":"1h","ocsp_url":"http://ocsp","crl_url":""}}}', 'c.json');
  assert.deepEqual(policy.warnings, ['c.json: the default profile: "ocsp_url" is not supported by kubepki and is ignored']);
});

test('rejects bad configs with one line: JSON, missing signing, missing or bad expiry, remote signers', () => {
  rejects(() => parseCaConfig('{"signing": {', 'c.json'), /^c\.json: invalid JSON: /);
  rejects(() => parseCaConfig('{}', 'c.json'), /^c\.json: no "signing" section$/);
  rejects(() => parseCaConfig('null', 'c.json'), /^c\.json: expected a JSON object with a "signing" section$/);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"usages":["client auth"]}}}}', 'c.json'), /^c\.json: profile "p" has no "expiry"/);
  rejects(() => parseCaConfig('{"signing":{"default":{"expiry":"10x"}}}', 'c.json'), /^c\.json: the default profile: "expiry": invalid duration "10x"/);
  rejects(() => parseCaConfig('{"signing":{"default":{"expiry":"0s"}}}', 'c.json'), /default profile's expiry must be positive/);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"expiry":"1h","usages":"client auth"}}}}', 'c.json'), /"signing\.profiles\.p\.usages" must be a list/);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"remote":"r","usages":["client auth"]}}}}', 'c.json'), /remote signer/);
  rejects(() => parseCaConfig('{"signing":{"profiles":{"p":{"expiry":"1h","usages":["client auth"],"not_after":"tomorrow"}}}}', 'c.json'), /must be an RFC 3339 time/);
});
