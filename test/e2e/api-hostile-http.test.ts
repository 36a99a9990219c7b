// HTTP-level abuse over a raw TLS socket: every request gets an HTTP answer (kube's Status where kube's
// handler chain would answer), never a silently dropped connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { startTestServer } from '../api/helpers.js';

function exchange(url: string, pki: { ca: string; admin: { cert: string; key: string } }, request: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca: pki.ca, cert: pki.admin.cert, key: pki.admin.key, servername: 'localhost' }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => reject(new Error('no answer within 10 s')));
  });
}

test('CONNECT is answered 405 with a Status, then the connection is closed', async (t) => {
  const s = await startTestServer(t);
  const answer = await exchange(s.url, s.pki, 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
  assert.match(answer, /^HTTP\/1\.1 405 /);
  const status = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
  assert.equal(status.kind, 'Status');
  assert.equal(status.code, 405);
  assert.equal(status.reason, 'MethodNotAllowed');
  // The server still serves.
  assert.equal((await s.request('GET', '/version')).status, 200);
});
