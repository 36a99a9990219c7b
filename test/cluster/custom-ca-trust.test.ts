// The custom CA trust rules (seed 001): each silent failure of the seed's troubleshooting section is a
// problem naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { customCaBundleSha256, customCasFromFile, customCasFromSecretData, secretDataOf, MAX_CUSTOM_CA_CERTIFICATES } from '../../src/cluster/custom-ca-trust.js';
import { validateCustomCaTrustSecret } from '../../src/resources/custom-ca-trust-admission.js';
import { fieldErrorString } from '../../src/apis/status.js';
import { DAY, issueLeaf, makeCa } from '../helpers/pki.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const now = new Date();

test('a Secret of CA certificates is accepted, in key order, and the same CA twice is hashed once', async () => {
  const a = await makeCa({ cn: 'registry-ca' });
  const b = await makeCa({ cn: 'proxy-ca' });
  const set = customCasFromSecretData({ 'ca2.crt': b64(b.certificate.pem), 'ca1.crt': b64(a.certificate.pem + '\n' + b.certificate.pem) }, now);
  assert.deepEqual(set.problems, []);
  assert.deepEqual(set.certificates.map((c) => `${c.key}#${c.index}:${c.certificate.subject.commonName}`), ['ca1.crt#0:registry-ca', 'ca1.crt#1:proxy-ca', 'ca2.crt#0:proxy-ca']);
  const once = customCasFromFile(a.certificate.pem + '\n' + b.certificate.pem, now);
  assert.equal(customCaBundleSha256(set.certificates), customCaBundleSha256(once.certificates));
  assert.deepEqual(Object.keys(secretDataOf(set.certificates)), ['ca1.crt', 'ca2.crt']);
});

test('each bad value is a problem naming its key: CRLF, broken or double base64, non-CA, expired, private key, too many', async () => {
  const ca = await makeCa({ cn: 'ok-ca' });
  const leaf = await issueLeaf(ca, { cn: 'server' });
  const old = await makeCa({ cn: 'old-ca', notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) });
  const cases: [string, string, RegExp][] = [
    ['crlf.crt', b64(ca.certificate.pem.replace(/\n/g, '\r\n')), /CR characters/],
    ['broken.crt', b64(ca.certificate.pem).slice(0, 41), /not valid base64/],
    ['twice.crt', b64(b64(ca.certificate.pem)), /base64-encoded twice/],
    ['text.crt', b64('hello'), /not base64 of a PEM certificate/],
    ['truncated.crt', b64(ca.certificate.pem.slice(0, 200)), /not a valid PEM certificate/],
    ['garbage.crt', b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), /does not parse/],
    ['leaf.crt', b64(leaf.certificate.pem), /"server" is not a CA certificate/],
    ['old.crt', b64(old.certificate.pem), /"old-ca" expired at/],
    ['key.crt', b64(ca.certificate.pem + leaf.keyPem!), /certificate 2: holds a "[A-Z ]*PRIVATE KEY" block/],
  ];
  for (const [key, value, detail] of cases) {
    const set = customCasFromSecretData({ [key]: value }, now);
    assert.equal(set.problems.length, 1, `${key}: ${JSON.stringify(set.problems)}`);
    assert.equal(set.problems[0]!.key, key);
    assert.match(set.problems[0]!.detail, detail, key);
  }
  const eleven: Record<string, string> = {};
  for (let i = 0; i <= MAX_CUSTOM_CA_CERTIFICATES; i++) eleven[`ca${i}.crt`] = b64((await makeCa({ cn: `ca-${i}` })).certificate.pem);
  const set = customCasFromSecretData(eleven, now);
  assert.deepEqual(set.problems, [{ key: '', detail: 'holds 11 certificates; at most 10 are allowed in all' }]);
  const errs = validateCustomCaTrustSecret({ metadata: { name: 'custom-ca-trust-secret', namespace: 'kube-system' }, data: eleven }, now);
  assert.deepEqual(errs.map(fieldErrorString), ['data: Invalid value: 11: holds 11 certificates; at most 10 are allowed in all']);
});

test('admission checks only kube-system/custom-ca-trust-secret and names the key in kube field-path style', async () => {
  const ca = await makeCa();
  const leaf = await issueLeaf(ca);
  const data = { 'ca1.crt': b64(leaf.certificate.pem) };
  assert.deepEqual(validateCustomCaTrustSecret({ metadata: { name: 'custom-ca-trust-secret', namespace: 'default' }, data }, now), []);
  assert.deepEqual(validateCustomCaTrustSecret({ metadata: { name: 'other', namespace: 'kube-system' }, data }, now), []);
  const errs = validateCustomCaTrustSecret({ metadata: { name: 'custom-ca-trust-secret', namespace: 'kube-system' }, data }, now);
  assert.deepEqual(errs.map(fieldErrorString), ['data[ca1.crt]: Invalid value: "ca1.crt": "system:node:node-1" is not a CA certificate (basic constraints CA:TRUE required)']);
});

test('the seed file: blank-line-separated PEM, not base64, at most 10', async () => {
  const cas = await Promise.all(Array.from({ length: 3 }, (_, i) => makeCa({ cn: `f-${i}` })));
  const text = cas.map((c) => c.certificate.pem).join('\n');
  assert.equal(customCasFromFile(text, now).certificates.length, 3);
  assert.match(customCasFromFile(b64(text), now, 'cas.txt').problems[0]!.detail, /base64-encoded|not base64 of a PEM/);
});
