// ResourceClient.updateWithoutResult (src/client/rest.ts) over the loopback socket against Node's own HTTP
// server: the same PUT as update(), a success's body left undecoded, a failure still the API's Status.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { RestKubeClient } from '../../src/client/rest.js';
import { RESOURCES } from '../../src/client/interface.js';
import { ApiError } from '../../src/apis/status.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';
import { tempDir } from '../helpers/tmp.js';

async function apiServer(t: TestContext, answer: { code: number; body: string }) {
  const socketPath = path.join(await tempDir(t), 'api.sock');
  const seen: { method: string; url: string; body: string }[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answer.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer.body) });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => s.listen(socketPath, r));
  t.after(() => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))));
  const client = new RestKubeClient({ cluster: { server: 'https://192.0.2.1:6443' }, user: {} }, { loopback: { socketPath, token: 'loopback-token' } });
  t.after(() => client.close());
  return { seen, csrs: client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests) };
}

const csr = { metadata: { name: 'node-csr-1', resourceVersion: '7' }, spec: { request: 'cmVx', signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }, status: { certificate: 'Y2VydA==' } } as CertificateSigningRequest;
const stored = JSON.stringify({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', ...csr, metadata: { ...csr.metadata, resourceVersion: '8' } });

/** How many times JSON.parse runs during `fn` (on this thread). */
async function jsonParses(fn: () => Promise<unknown>): Promise<number> {
  const original = JSON.parse;
  let n = 0;
  JSON.parse = ((...args: Parameters<typeof JSON.parse>) => (n++, original(...args))) as typeof JSON.parse;
  try {
    await fn();
  } finally {
    JSON.parse = original;
  }
  return n;
}

test('updateWithoutResult sends the same PUT as update and does not decode the stored object it gets back', async (t) => {
  const { seen, csrs } = await apiServer(t, { code: 200, body: stored });
  assert.equal(await jsonParses(() => csrs.update(csr, 'status')), 1, 'update decodes the answer');
  let result: unknown = 'unset';
  assert.equal(await jsonParses(async () => (result = await csrs.updateWithoutResult(csr, 'status'))), 0);
  assert.equal(result, undefined);
  assert.equal(seen.length, 2);
  assert.deepEqual(seen[1], seen[0]);
  assert.equal(seen[1]!.method, 'PUT');
  assert.equal(seen[1]!.url, '/apis/certificates.k8s.io/v1/certificatesigningrequests/node-csr-1/status');
});

test('updateWithoutResult still rejects with the API Status of a failed write', async (t) => {
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409, message: 'Operation cannot be fulfilled on certificatesigningrequests.certificates.k8s.io "node-csr-1": the object has been modified; please apply your changes to the latest version and try again' };
  const { csrs } = await apiServer(t, { code: 409, body: JSON.stringify(status) });
  await assert.rejects(csrs.updateWithoutResult(csr, 'status'), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status.code, 409);
    assert.equal(err.status.reason, 'Conflict');
    assert.match(err.message, /the object has been modified/);
    return true;
  });
});
