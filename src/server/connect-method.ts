// CONNECT is not a request kube-apiserver serves: Go's server hands it to the handler chain, which answers
// 405 MethodNotAllowed. Node instead emits 'connect' and, with no listener, drops the connection without a
// word; this listener answers with kube's Status and closes.
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { methodNotAllowed } from '../api/status.js';

export function answerConnectWith405(server: Pick<Server, 'on'>): void {
  server.on('connect', (_req: unknown, socket: Duplex) => {
    const body = JSON.stringify(methodNotAllowed().status);
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
