import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { keySpecOf, parseCsrJson, subjectOf, validateCsrJson } from '../../src/cfssl/index.js';
import { isKubepkiError } from '../../src/util/errors.js';
import { SEED002 } from './helpers.js';

const rejects = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (e: unknown) => isKubepkiError(e) && re.test(e.message) && !e.message.includes('\n'));

test('reads the seed\'s kubelet-csr.json.json as cfssl does: CN, hosts and names.O', async () => {
  const text = await readFile(path.join(SEED002(), 'kubernetes', 'kubelet-csr.json.json'), 'utf8');
  const req = parseCsrJson(text, 'kubelet-csr.json');
  assert.equal(req.CN, 'system:node:<nodeName>');
  assert.deepEqual(req.hosts, ['127.0.0.1', 'localhost', 'HOST_IP']);
  assert.deepEqual(req.key, { algo: 'rsa', size: 2048 });
  assert.deepEqual(subjectOf(req), { commonName: 'system:node:<nodeName>', organization: ['system:nodes'] });
  assert.deepEqual(keySpecOf(req), { type: 'RSA', bits: 2048 });
});

test('reads the seed\'s kubernetes CA request with its "ca" expiry of 876000h', async () => {
  const req = parseCsrJson(await readFile(path.join(SEED002(), 'kubernetes', 'ca-csr.json'), 'utf8'), 'ca-csr.json');
  assert.equal(req.ca?.expiryMs, 876000 * 3_600_000);
  assert.equal(req.hosts, undefined);
});

test('matches field names case-insensitively and ignores unknown fields, as Go\'s encoding/json', () => {
  const req = parseCsrJson('{"cn":"x","HOSTS":["a"],"Names":[{"o":"g1","c":"CN"}],"whatever":{"deep":1}}', 'r.json');
  assert.equal(req.CN, 'x');
  assert.deepEqual(req.hosts, ['a']);
  assert.deepEqual(subjectOf(req), { commonName: 'x', country: ['CN'], organization: ['g1'] });
});

test('builds the subject from every names entry in order, skipping empty values', () => {
  const req = parseCsrJson('{"CN":"c","names":[{"C":"US","ST":"CA","L":"SF","O":"o1","OU":"u1"},{"O":"o2","OU":""}],"serialnumber":"42"}', 'r.json');
  assert.deepEqual(subjectOf(req), {
    commonName: 'c', country: ['US'], province: ['CA'], locality: ['SF'], organization: ['o1', 'o2'], organizationalUnit: ['u1'], serialNumber: '42',
  });
});

test('chooses cfssl\'s key defaults: ECDSA P-256 without "key", without "algo" or without an ECDSA size', () => {
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a"}', 'r')), { type: 'ECDSA', curve: 'P-256' });
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a","key":{}}', 'r')), { type: 'ECDSA', curve: 'P-256' });
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"ecdsa"}}', 'r')), { type: 'ECDSA', curve: 'P-256' });
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"ecdsa","size":384}}', 'r')), { type: 'ECDSA', curve: 'P-384' });
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"ecdsa","size":521}}', 'r')), { type: 'ECDSA', curve: 'P-521' });
  assert.deepEqual(keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"rsa","size":8192}}', 'r')), { type: 'RSA', bits: 8192 });
});

test('refuses key requests cfssl refuses, naming the file and the limit', () => {
  rejects(() => keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"rsa","size":1024}}', 'r.json')), /^r\.json: "key": RSA key size 1024 is too weak/);
  rejects(() => keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"rsa"}}', 'r.json')), /RSA key size 0 is too weak/);
  rejects(() => keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"rsa","size":9000}}', 'r.json')), /too large \(use 2048 to 8192 bits\)/);
  rejects(() => keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"ecdsa","size":2048}}', 'r.json')), /invalid ECDSA curve size 2048/);
  rejects(() => keySpecOf(parseCsrJson('{"CN":"a","key":{"algo":"ed25519"}}', 'r.json')), /invalid algorithm "ed25519"/);
});

test('rejects bad JSON and wrong types with one line naming the file and field', () => {
  rejects(() => parseCsrJson('{"CN": "a",', 'bad.json'), /^bad\.json: invalid JSON: /);
  rejects(() => parseCsrJson('[1]', 'bad.json'), /^bad\.json: expected a JSON object/);
  rejects(() => parseCsrJson('{"CN": 5}', 'bad.json'), /^bad\.json: "CN" must be a string, not number 5/);
  rejects(() => parseCsrJson('{"CN":"a","hosts":"x"}', 'bad.json'), /"hosts" must be a list/);
  rejects(() => parseCsrJson('{"CN":"a","hosts":[1]}', 'bad.json'), /"hosts\[0\]" must be a string/);
  rejects(() => parseCsrJson('{"CN":"a","key":{"size":"2048"}}', 'bad.json'), /"key\.size" must be an integer/);
  rejects(() => parseCsrJson('{"CN":"a","ca":{"expiry":"10 years"}}', 'bad.json'), /^bad\.json: "ca\.expiry": invalid duration "10 years"/);
  rejects(() => parseCsrJson('{"CN":"a","ca":{"expiry":"-1h"}}', 'bad.json'), /must be positive/);
  rejects(() => parseCsrJson('{"CN":"a","ca":{"expiry":"9999999h"}}', 'bad.json'), /out of range/);
});

test('a seed template with its placeholders left in is not JSON, and says so', async () => {
  const text = await readFile(path.join(SEED002(), 'etcd', 'peer-csr.json.sed'), 'utf8');
  rejects(() => parseCsrJson(text, 'peer-csr.json'), /^peer-csr\.json: invalid JSON: /);
});

test('requires subject information, as cfssl\'s validator', () => {
  rejects(() => validateCsrJson(parseCsrJson('{"hosts":["a"]}', 'r.json')), /^r\.json: missing subject information/);
  rejects(() => validateCsrJson(parseCsrJson('{"names":[{"O":" "}]}', 'r.json')), /missing subject information/);
  assert.doesNotThrow(() => validateCsrJson(parseCsrJson('{"names":[{"O":"org"}]}', 'r.json')));
});
