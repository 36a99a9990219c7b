import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oid, sequence, tlv, utf8String } from '../../src/x509/der.js';
import { encodePem } from '../../src/x509/pem.js';
import { csrObject, startTestServer } from '../api/helpers.js';
import { goodSubject, handBuiltRequest, OIDS, rdn } from '../x509/hand-built-csr.js';

const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';
const SIGNERS = [
  'kubernetes.io/kube-apiserver-client',
  'kubernetes.io/kube-apiserver-client-kubelet',
  'kubernetes.io/kubelet-serving',
  'kubernetes.io/legacy-unknown',
  'example.com/custom',
];

/** Validly self-signed requests whose DER is malformed inside the signed part, and Go's error for each. */
const MALFORMED: [string, Buffer, string][] = [
  [
    'a broken attribute OID in the subject',
    handBuiltRequest({ subject: sequence(rdn(oid(OIDS.o), utf8String('system:nodes')), rdn(tlv(0x06, Buffer.from([0x55, 0x04, 0x83])), utf8String('system:node:n1'))) }),
    'asn1: syntax error: truncated base 128 integer',
  ],
  ['a non-minimal length', handBuiltRequest({ subject: Buffer.concat([Buffer.from([0x30, 0x81, goodSubject().length - 2]), goodSubject().subarray(2)]) }), 'asn1: structure error: non-minimal length'],
  ['a UTF8String that is not UTF-8', handBuiltRequest({ subject: sequence(rdn(oid(OIDS.cn), tlv(0x0c, Buffer.from([0xc3, 0x28])))) }), 'asn1: syntax error: invalid UTF-8 string'],
];

test('a CSR whose DER is malformed anywhere is refused at create with 422 for every signer', async (t) => {
  const s = await startTestServer(t);
  for (const [what, der, goError] of MALFORMED) {
    const b64 = Buffer.from(encodePem('CERTIFICATE REQUEST', der)).toString('base64');
    for (const signerName of SIGNERS) {
      await t.test(`${what}, ${signerName}`, async () => {
        const usages = signerName.endsWith('client') || signerName.endsWith('kubelet') ? ['digital signature', 'client auth'] : ['digital signature', 'server auth'];
        const name = `bad-${MALFORMED.findIndex((m) => m[0] === what)}-${signerName.replace(/[^a-z]/g, '-')}`;
        const r = await s.request('POST', CSRS, { body: csrObject(name, b64, { signerName, usages }) });
        assert.equal(r.status, 422, r.text);
        assert.equal(r.json.kind, 'Status');
        assert.equal(r.json.reason, 'Invalid');
        const cause = r.json.details.causes.find((c: { field: string }) => c.field === 'spec.request');
        assert.ok(cause, r.text);
        assert.equal(cause.reason, 'FieldValueInvalid');
        assert.match(r.json.message, new RegExp(`spec\\.request: Invalid value: "<certificate request data>": ${goError.replace(/[().]/g, '\\$&')}`));
        assert.equal((await s.request('GET', `${CSRS}/${name}`)).status, 404, 'nothing was stored');
      });
    }
  }
});

test('the same request well formed is accepted (the refusals above are for the malformed piece alone)', async (t) => {
  const s = await startTestServer(t);
  const b64 = Buffer.from(encodePem('CERTIFICATE REQUEST', handBuiltRequest())).toString('base64');
  const r = await s.request('POST', CSRS, { body: csrObject('good', b64, { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] }) });
  assert.equal(r.status, 201, r.text);
});
