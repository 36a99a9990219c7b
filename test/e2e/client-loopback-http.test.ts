// The controllers' loopback HTTP client (src/client/loopback-http.ts) against Node's own HTTP server (what
// serve's loopback socket runs): every framing that server writes (Content-Length, chunked with trailers, no
// body, Connection: close, 1xx before the response), keep-alive reuse within maxSockets, and failures that
// reject the request in flight without breaking the next one.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { LoopbackHttpClient } from '../../src/client/loopback-http.js';
import { tempDir } from '../helpers/tmp.js';

async function server(
  t: TestContext,
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
  keepAliveTimeout?: number,
): Promise<{ socketPath: string; connections: () => number }> {
  const socketPath = path.join(await tempDir(t), 'api.sock');
  let connections = 0;
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  if (keepAliveTimeout !== undefined) s.keepAliveTimeout = keepAliveTimeout;
  s.on('connection', () => connections++);
  await new Promise<void>((r) => s.listen(socketPath, r));
  t.after(
    () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  );
  return { socketPath, connections: () => connections };
}

const echo = (req: IncomingMessage, res: ServerResponse, body: string) => {
  const out = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
};

test('a request goes out with the fixed headers and its body by byte length; the response is read whole', async (t) => {
  const { socketPath, connections } = await server(t, echo);
  const client = new LoopbackHttpClient({ socketPath, headers: { 'user-agent': 'test', authorization: 'Bearer secret' } });
  t.after(() => client.close());
  const body = JSON.stringify({ name: 'grüße ✓' });
  const r = await client.request('PUT', '/apis/x/v1/things/a?dryRun=All', body, { 'content-type': 'application/json' });
  assert.equal(r.status, 200);
  assert.equal(r.statusMessage, 'OK');
  const seen = JSON.parse(r.body);
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.url, '/apis/x/v1/things/a?dryRun=All');
  assert.equal(seen.body, body);
  assert.equal(seen.headers['authorization'], 'Bearer secret');
  assert.equal(seen.headers['user-agent'], 'test');
  assert.equal(seen.headers['content-length'], String(Buffer.byteLength(body)));
  // Sequential requests reuse the one keep-alive connection.
  for (let i = 0; i < 5; i++) assert.equal((await client.request('GET', `/n/${i}`)).status, 200);
  assert.equal(connections(), 1);
});

test('chunked bodies (with trailers), bodiless statuses and a large body are read as sent', async (t) => {
  const big = 'x'.repeat(3 * 1024 * 1024);
  const { socketPath, connections } = await server(t, (req, res) => {
    if (req.url === '/chunked') {
      res.writeHead(201, { 'content-type': 'application/json', trailer: 'x-done' });
      res.write('{"a":');
      res.write('"' + 'é'.repeat(5000) + '"');
      res.addTrailers({ 'x-done': 'yes' });
      res.end('}');
    } else if (req.url === '/none') {
      res.writeHead(204);
      res.end();
    } else if (req.url === '/big') {
      res.writeHead(200, { 'content-length': Buffer.byteLength(big) });
      res.end(big);
    } else if (req.url === '/continue') {
      res.writeContinue();
      res.writeProcessing();
      res.writeHead(200, { 'content-length': 2 });
      res.end('ok');
    }
  });
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  t.after(() => client.close());
  const chunked = await client.request('GET', '/chunked');
  assert.equal(chunked.status, 201);
  assert.equal(JSON.parse(chunked.body).a, 'é'.repeat(5000));
  const none = await client.request('DELETE', '/none');
  assert.deepEqual([none.status, none.body], [204, '']);
  assert.equal((await client.request('GET', '/big')).body, big);
  assert.deepEqual(await client.request('GET', '/continue'), { status: 200, statusMessage: 'OK', body: 'ok' });
  assert.equal(connections(), 1, 'every framing leaves the connection usable');
});

test('a Content-Length body arriving in many reads is assembled in one buffer of its size, not re-concatenated on every read', async (t) => {
  // A raw server, so that the body arrives in pieces: a multi-byte character split across two writes, then the rest.
  const socketPath = path.join(await tempDir(t), 'raw.sock');
  const body = Buffer.from(JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => `grüße-${i}`) }));
  const split = body.indexOf(Buffer.from('ü')) + 1;
  const sockets = new Set<net.Socket>();
  const s = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', async (req) => {
      const extra = req.toString().startsWith('GET /extra') ? 3 : 0;
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length - extra}\r\n\r\n`);
      socket.write(body.subarray(0, split));
      for (let at = split; at < body.length; at += 16 * 1024) {
        await new Promise((r) => setTimeout(r, 1));
        socket.write(body.subarray(at, at + 16 * 1024));
      }
    });
  });
  await new Promise<void>((r) => s.listen(socketPath, r));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    s.close();
  });
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  t.after(() => client.close());
  const concat = t.mock.method(Buffer, 'concat');
  const r = await client.request('GET', '/whole');
  assert.equal(r.body, body.toString('utf8'));
  assert.ok(concat.mock.callCount() <= 2, `Buffer.concat called ${concat.mock.callCount()} times for ${Math.ceil(body.length / 16384)} reads`);
  await assert.rejects(client.request('GET', '/extra'), /more bytes than Content-Length/);
});

test('Connection: close ends the connection after its response; the next request opens a new one', async (t) => {
  const { socketPath, connections } = await server(t, (req, res) => {
    res.shouldKeepAlive = req.url !== '/last';
    res.writeHead(200, { 'content-length': 1 });
    res.end('1');
  });
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  t.after(() => client.close());
  assert.equal((await client.request('GET', '/last')).body, '1');
  assert.equal((await client.request('GET', '/next')).body, '1');
  assert.equal(connections(), 2);
});

test("an idle connection is dropped a second before the server's Keep-Alive timeout, not written into as the server closes it", async (t) => {
  const { socketPath, connections } = await server(t, echo, 2000); // Keep-Alive: timeout=2
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  t.after(() => client.close());
  await client.request('GET', '/1');
  await client.request('GET', '/2');
  assert.equal(connections(), 1, 'reused while fresh');
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal((await client.request('GET', '/3')).status, 200);
  assert.equal(connections(), 2, 'a new connection once within a second of the timeout');
});

test('at most maxSockets connections carry concurrent requests; the rest wait their turn', async (t) => {
  let inFlight = 0;
  let most = 0;
  const { socketPath, connections } = await server(t, (req, res, body) => {
    inFlight++;
    most = Math.max(most, inFlight);
    setTimeout(() => {
      inFlight--;
      echo(req, res, body);
    }, 5);
  });
  const client = new LoopbackHttpClient({ socketPath, headers: {}, maxSockets: 3 });
  t.after(() => client.close());
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => client.request('POST', `/r/${i}`, `{"i":${i}}`)));
  results.forEach((r, i) => assert.equal(JSON.parse(r.body).body, `{"i":${i}}`));
  assert.equal(most, 3);
  assert.equal(connections(), 3);
});

test('a connection the server drops mid-response rejects its request; the next request succeeds', async (t) => {
  const { socketPath } = await server(t, (req, res) => {
    if (req.url === '/drop') {
      res.writeHead(200, { 'content-length': 100 });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 10);
      return;
    }
    res.writeHead(200, { 'content-length': 2 });
    res.end('ok');
  });
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  t.after(() => client.close());
  await assert.rejects(client.request('GET', '/drop'), /socket hang up|ECONNRESET/);
  assert.equal((await client.request('GET', '/after')).body, 'ok');
});

test('close() fails the requests in flight; a missing socket rejects; CR or LF in a header or a bad path is refused', async (t) => {
  const { socketPath } = await server(t, () => undefined); // never answers
  const client = new LoopbackHttpClient({ socketPath, headers: {} });
  const stuck = client.request('GET', '/hang');
  await new Promise((r) => setTimeout(r, 20));
  client.close();
  await assert.rejects(stuck, /socket hang up/);
  await assert.rejects(client.request('GET', '/x'), /closed/);

  const gone = new LoopbackHttpClient({ socketPath: path.join(path.dirname(socketPath), 'missing.sock'), headers: {} });
  await assert.rejects(gone.request('GET', '/x'), { code: 'ENOENT' });
  gone.close();

  assert.throws(() => new LoopbackHttpClient({ socketPath, headers: { authorization: 'Bearer a\r\nx-injected: 1' } }), /CR or LF/);
  const ok = new LoopbackHttpClient({ socketPath, headers: {} });
  await assert.rejects(ok.request('GET', '/a b'), /bad request path/);
  await assert.rejects(ok.request('GET', '/a', undefined, { 'x-a': 'b\nc' }), /CR or LF/);
  ok.close();
});
