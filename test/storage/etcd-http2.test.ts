// The etcd client's HTTP/2 connection (src/storage/etcd-http2.ts) against Node's own HTTP/2 server as the
// peer, for what a healthy etcd rarely does: a concurrent-stream limit, a stream reset, GOAWAY with calls the
// server never took, its PINGs, a header block split over CONTINUATION frames. (test/e2e/storage-etcd.test.ts
// drives the same client against a real etcd.)
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Http2Connection, Http2Error, type Http2StreamHandlers } from '../../src/storage/etcd-http2.js';

interface Answer {
  status?: string;
  headers: Record<string, string>[];
  body: string;
  err?: Http2Error;
}

async function serve(t: TestContext, onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void, settings: http2.Settings = {}): Promise<{ server: http2.Http2Server; url: string }> {
  const server = http2.createServer({ settings });
  server.on('stream', (stream, headers) => {
    // A stream this side resets, or one left open at the end, errors on the server: expected here.
    stream.on('error', () => undefined);
    onStream(stream, headers);
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function connect(t: TestContext, url: string, events: { goaway?: () => void } = {}): Promise<Http2Connection> {
  const conn = new Http2Connection({ url, window: 1 << 20, onClose: () => undefined, onGoaway: () => events.goaway?.() });
  t.after(() => conn.destroy());
  await conn.ready;
  return conn;
}

function call(conn: Http2Connection, path: string, body = 'ping'): Promise<Answer> {
  return new Promise((resolve) => {
    const answer: Answer = { headers: [], body: '' };
    const handlers: Http2StreamHandlers = {
      onHeaders: (h) => {
        answer.status ??= h[':status'];
        answer.headers.push(h);
      },
      onData: (chunk) => (answer.body += chunk.toString()),
      onClose: (err) => {
        if (err) answer.err = err;
        resolve(answer);
      },
    };
    conn.request(path, handlers, Buffer.from(body), true);
  });
}

/** Answers every stream with its request body, upper-cased, after `delayMs`. */
function echo(delayMs = 0) {
  return (stream: http2.ServerHttp2Stream) => {
    let body = '';
    stream.on('data', (d: Buffer) => (body += d.toString()));
    stream.on('end', () =>
      setTimeout(() => {
        if (stream.closed) return;
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(body.toUpperCase());
      }, delayMs),
    );
  };
}

describe('Http2Connection', () => {
  it('keeps to the server’s limit of concurrent streams, queuing the calls beyond it', async (t) => {
    let open = 0;
    let most = 0;
    const handler = echo(20);
    const { url } = await serve(
      t,
      (stream, headers) => {
        most = Math.max(most, ++open);
        stream.on('close', () => open--);
        handler(stream);
        void headers;
      },
      { maxConcurrentStreams: 2 },
    );
    const conn = await connect(t, url);
    // The server's SETTINGS arrive with its first bytes; the first calls may go out before them.
    await call(conn, '/warm-up');
    most = 0;
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => call(conn, `/echo/${i}`, `call ${i}`)));
    assert.deepEqual(answers.map((a) => a.body), Array.from({ length: 6 }, (_, i) => `CALL ${i}`));
    assert.ok(answers.every((a) => a.status === '200' && a.headers[1]?.['grpc-status'] === '0' && !a.err));
    assert.equal(most, 2);
  });

  it('ends a stream the server resets with an Http2Error, and goes on with the others', async (t) => {
    const handler = echo();
    const { url } = await serve(t, (stream, headers) => {
      if (headers[':path'] === '/reset') stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else handler(stream);
    });
    const conn = await connect(t, url);
    const [reset, fine] = await Promise.all([call(conn, '/reset'), call(conn, '/ok', 'fine')]);
    assert.ok(reset.err instanceof Http2Error && /reset by the server \(HTTP\/2 error 2\)/.test(reset.err.message), String(reset.err));
    assert.equal(fine.body, 'FINE');
    assert.equal((await call(conn, '/again', 'again')).body, 'AGAIN');
  });

  it('on GOAWAY fails the calls the server did not take, finishes the one it took, and takes no new calls', async (t) => {
    let first: http2.ServerHttp2Stream | undefined;
    const { url } = await serve(t, (stream) => {
      if (!first) {
        first = stream;
        // Stream 1 is taken; the server then says it will take nothing after it.
        setTimeout(() => {
          stream.session!.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
          echo()(stream);
        }, 50);
      }
    });
    let goaways = 0;
    const conn = await connect(t, url, { goaway: () => goaways++ });
    const taken = call(conn, '/first', 'first');
    await new Promise((r) => setTimeout(r, 10));
    const refused = await Promise.all([call(conn, '/second'), call(conn, '/third')]);
    assert.ok(refused.every((a) => a.err && /GOAWAY/.test(a.err.message)), refused.map((a) => String(a.err)).join('; '));
    assert.equal((await taken).body, 'FIRST');
    assert.equal(goaways, 1);
    assert.equal(conn.usable, false);
    const late = await call(conn, '/late');
    assert.ok(late.err, 'a call on a connection that got GOAWAY fails');
  });

  it('answers the server’s PINGs and gets answers to its own', async (t) => {
    let session: http2.ServerHttp2Session | undefined;
    const { server, url } = await serve(t, echo());
    server.on('session', (s) => (session = s));
    const conn = await connect(t, url);
    await call(conn, '/x');
    const rtt = await new Promise<number>((resolve, reject) => session!.ping((err, ms) => (err ? reject(err) : resolve(ms))));
    assert.ok(rtt >= 0);
    const acked = await new Promise<Error | undefined>((resolve) => assert.ok(conn.ping(resolve)));
    assert.equal(acked, undefined);
  });

  it('reads a header block split over CONTINUATION frames (a 40 kB header)', async (t) => {
    const big = 'v'.repeat(40_000);
    const { url } = await serve(t, (stream) => {
      stream.respond({ ':status': 200, 'x-big': big }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end('done');
    }, { maxHeaderListSize: 100_000 });
    const conn = await connect(t, url);
    const a = await call(conn, '/big');
    assert.equal(a.headers[0]?.['x-big'], big);
    assert.equal(a.body, 'done');
    assert.equal((await call(conn, '/big')).headers[0]?.['x-big'], big, 'the dynamic table stayed in step');
  });

  it('ends the connection when a header block grows past 1 MiB (an endless CONTINUATION run is not buffered)', { timeout: 20_000 }, async (t) => {
    const frame = (type: number, flags: number, id: number, payload: Buffer) => {
      const h = Buffer.alloc(9);
      h.writeUIntBE(payload.length, 0, 3);
      h[3] = type;
      h[4] = flags;
      h.writeUInt32BE(id, 5);
      return Buffer.concat([h, payload]);
    };
    let continuations = 0;
    const server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      let answered = false;
      sock.on('data', () => {
        if (answered) return;
        answered = true;
        sock.write(frame(4, 0, 0, Buffer.alloc(0))); // SETTINGS
        sock.write(frame(1, 0, 1, Buffer.from([0x88]))); // HEADERS on stream 1 (:status 200), no END_HEADERS
        const more = () => {
          while (continuations < 100 && sock.writable) {
            continuations++;
            if (!sock.write(frame(9, 0, 1, Buffer.alloc(16_384)))) return void sock.once('drain', more);
          }
        };
        more();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const conn = new Http2Connection({ url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, window: 1 << 20, onClose: () => undefined, onGoaway: () => undefined });
    t.after(() => conn.destroy());
    await conn.ready;
    const a = await call(conn, '/flood');
    assert.match(a.err?.message ?? '', /header block above 1048576 bytes/);
  });

  /** A peer that completes the HTTP/2 handshake (its SETTINGS) and then never answers anything: a vanished etcd. */
  async function silentPeer(t: TestContext, handshake: boolean): Promise<string> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => undefined);
      if (handshake) sock.once('data', () => sock.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => {
      for (const sock of sockets) sock.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  it('fails the connection when the socket is not up within connectTimeoutMs (a TLS handshake never answered)', { timeout: 10_000 }, async (t) => {
    const peer = await silentPeer(t, false);
    const conn = new Http2Connection({ url: `https://${peer}`, window: 1 << 20, onClose: () => undefined, onGoaway: () => undefined, connectTimeoutMs: 300 });
    t.after(() => conn.destroy());
    await assert.rejects(conn.ready, /no connection within 300 ms/);
    assert.equal(conn.closed, true);
  });

  it('keepalive: a stream on a peer that stops answering PINGs ends with an error', { timeout: 10_000 }, async (t) => {
    const peer = await silentPeer(t, true);
    const conn = new Http2Connection({ url: `http://${peer}`, window: 1 << 20, onClose: () => undefined, onGoaway: () => undefined, keepalive: { intervalMs: 100, timeoutMs: 200 } });
    t.after(() => conn.destroy());
    await conn.ready;
    const a = await call(conn, '/watch');
    assert.match(a.err?.message ?? '', /keepalive PING not answered within 200 ms/);
  });

  it('keepalive: PINGs the peer answers keep a quiet stream open', { timeout: 10_000 }, async (t) => {
    let pings = 0;
    let gotPings: () => void = () => undefined;
    const enough = new Promise<void>((r) => (gotPings = r));
    let stream: http2.ServerHttp2Stream | undefined;
    const { server, url } = await serve(t, (s) => (stream = s));
    server.on('session', (session) =>
      session.on('ping', () => {
        if (++pings === 3) gotPings();
      }),
    );
    const conn = new Http2Connection({ url, window: 1 << 20, onClose: () => undefined, onGoaway: () => undefined, keepalive: { intervalMs: 50, timeoutMs: 2_000 } });
    t.after(() => conn.destroy());
    await conn.ready;
    const answer = call(conn, '/quiet');
    await enough;
    stream!.respond({ ':status': 200 });
    stream!.end('still here');
    const a = await answer;
    assert.equal(a.err, undefined);
    assert.equal(a.body, 'still here');
  });
});
