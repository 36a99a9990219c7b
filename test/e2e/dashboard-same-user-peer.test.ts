// peerIsSameUser against the kernel's socket table: a loopback connection from this process is this user's, over
// IPv4, IPv6 and an IPv4 client of a dual-stack listener (::ffff:127.0.0.1 in /proc/net/tcp6); one from a process
// running as `nobody` is not.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { peerIsSameUser } from '../../src/dashboard/same-user-peer.js';

const execFileAsync = promisify(execFile);

/** Listens on `listen`, and resolves with the verdict on the first connection's peer. */
async function verdict(listen: string, connect: (port: number) => Promise<unknown>): Promise<boolean> {
  const server = net.createServer();
  const first = new Promise<boolean>((resolve, reject) => server.once('connection', (socket) => peerIsSameUser(socket).then(resolve, reject).finally(() => socket.destroy())));
  await new Promise<void>((resolve) => server.listen(0, listen, resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const [result] = await Promise.all([first, connect(port)]);
    return result;
  } finally {
    server.close();
  }
}

const connectFromHere = (host: string) => (port: number) =>
  new Promise<void>((resolve, reject) => {
    const s = net.connect(port, host, () => {
      // Stay open until the server has looked the connection up.
      s.on('close', () => resolve());
    });
    s.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err)));
  });

test('a loopback connection from this process is of the same user: IPv4, IPv6, and IPv4 to a dual-stack listener', async () => {
  assert.equal(await verdict('127.0.0.1', connectFromHere('127.0.0.1')), true);
  assert.equal(await verdict('::1', connectFromHere('::1')), true);
  assert.equal(await verdict('::', connectFromHere('127.0.0.1')), true);
});

// Runs a client as `nobody` with setpriv, so this needs root, as CI is.
test('a loopback connection from a process of another user is not', async () => {
  // bash's /dev/tcp as `nobody`: holds the connection open until the server closes it.
  const fromNobody = (port: number) =>
    execFileAsync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port}; cat <&3 >/dev/null`]).catch(() => undefined);
  assert.equal(await verdict('127.0.0.1', fromNobody), false);
});
