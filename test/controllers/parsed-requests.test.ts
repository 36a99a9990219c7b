import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { parseSpecRequest, sharedParsedRequests } from '../../src/controllers/csr.js';
import { ParsedRequests } from '../../src/controllers/parsed-requests.js';
import type { CertificateRequest } from '../../src/x509/certificate-request.js';
import { FakeKubeClient, settle } from './fake-client.js';
import { csrObject, NODE_SUBJECT, requestPem } from './fixtures.js';
import { startApproverAndSigner } from './approver-and-signer.js';

const fakeParse = (label: string) => () => ({ pem: label }) as unknown as CertificateRequest;

test('a kept parse is returned to the next reader and taken out by the last one', () => {
  const cache = new ParsedRequests();
  const first = cache.get('req', fakeParse('a'), true);
  assert.equal(cache.get('req', fakeParse('b'), false), first, 'the last reader gets the kept parse');
  assert.equal(cache.size, 0);
  assert.notEqual(cache.get('req', fakeParse('c'), false), first, 'once taken, the next read parses again');
  assert.deepEqual(cache.stats, { parses: 2, hits: 1 });
});

test('the cache holds at most its bound, dropping the oldest; a parse that throws is not kept', () => {
  const cache = new ParsedRequests(2);
  cache.get('r1', fakeParse('1'), true);
  cache.get('r2', fakeParse('2'), true);
  cache.get('r3', fakeParse('3'), true);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('r1', fakeParse('1 again'), false).pem, '1 again', 'r1 was dropped');
  assert.throws(() =>
    cache.get('bad', () => {
      throw new Error('PEM block type must be CERTIFICATE REQUEST');
    }, true),
  );
  assert.equal(cache.get('bad', fakeParse('ok'), false).pem, 'ok');
});

test('different request bytes never share a parse, whatever the object', async () => {
  const a = csrObject('same-name', await requestPem(NODE_SUBJECT('node-a')));
  const b = csrObject('same-name', await requestPem(NODE_SUBJECT('node-b')));
  const pa = parseSpecRequest(a, 'keep');
  const pb = parseSpecRequest(b, 'last');
  assert.equal(pa.subject.commonName, 'system:node:node-a');
  assert.equal(pb.subject.commonName, 'system:node:node-b');
  assert.equal(parseSpecRequest(a, 'last'), pa);
});

test('the approver and the signer parse a bootstrap request once between them, the signer leaves nothing cached, and neither decodes its write back', async (t) => {
  const clock = new FakeClock(new Date('2026-02-01T00:00:00Z'));
  const client = new FakeKubeClient();
  client.authorize = (r) => r.spec.resourceAttributes?.subresource === 'nodeclient';
  const { approver, signer, csrs } = await startApproverAndSigner(t, { client, clock });
  await csrs.create(csrObject('node-csr-1', await requestPem(NODE_SUBJECT('node-1'))));
  await settle();
  const before = { ...sharedParsedRequests.stats };
  assert.equal((await approver.reconcile('node-csr-1')).type, 'terminal');
  await settle();
  assert.equal((await signer.reconcile('node-csr-1')).type, 'terminal');
  assert.ok((await csrs.get('node-csr-1')).status?.certificate, 'issued');
  assert.deepEqual({ parses: sharedParsedRequests.stats.parses - before.parses, hits: sharedParsedRequests.stats.hits - before.hits }, { parses: 1, hits: 1 });
  assert.equal(sharedParsedRequests.size, 0);
  assert.equal(client.updatesWithoutResult, 2, 'the approval and the certificate are written without decoding the stored object back');
});
