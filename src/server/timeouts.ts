// kube-apiserver's connection limits (k8s.io/apiserver secure_serving.go and the timeout filter), so slow or
// idle clients cannot hold the server: headers (and the TLS handshake before them) must arrive within
// ReadHeaderTimeout 32 s, an idle keep-alive connection is closed after IdleTimeout 90 s, headers may be up
// to MaxHeaderBytes 1 MiB (Node's default is 16 KiB), and a request that is not long-running (anything
// but a watch) that has not been answered after --request-timeout 60 s — a body that trickles in, say —
// gets kube's 504 Status (reason Timeout) and its connection is closed. Watches keep their own timeout
// (--min-request-timeout, timeoutSeconds; api/handler.ts). Tests pass short durations.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type https from 'node:https';
import { timeout } from '../api/status.js';
import { writeStatus } from '../api/handler.js';

export interface ConnectionLimits {
  readHeaderTimeoutMs: number;
  idleTimeoutMs: number;
  requestTimeoutMs: number;
  maxHeaderBytes: number;
}

export const KUBE_CONNECTION_LIMITS: ConnectionLimits = {
  readHeaderTimeoutMs: 32_000,
  idleTimeoutMs: 90_000,
  requestTimeoutMs: 60_000,
  maxHeaderBytes: 1 << 20,
};

/** Options for https.createServer: header size, handshake deadline, how often Node checks the deadlines. */
export function serverConnectionOptions(limits: ConnectionLimits): Pick<https.ServerOptions, 'maxHeaderSize' | 'handshakeTimeout' | 'connectionsCheckingInterval'> {
  return {
    maxHeaderSize: limits.maxHeaderBytes,
    // Go bounds the handshake by the header deadline too; Node's default would leave it 120 s.
    handshakeTimeout: limits.readHeaderTimeoutMs,
    // Node only looks at headersTimeout every interval (default 30 s): check often enough to be near 32 s.
    connectionsCheckingInterval: Math.max(100, Math.min(2000, Math.floor(limits.readHeaderTimeoutMs / 8))),
  };
}

/** The deadlines Node enforces itself, set on the server (and on the loopback listener with the same values). */
export function applyConnectionLimits(server: { keepAliveTimeout: number; headersTimeout: number; requestTimeout: number; timeout: number }, limits: ConnectionLimits): void {
  server.keepAliveTimeout = limits.idleTimeoutMs;
  server.headersTimeout = limits.readHeaderTimeoutMs;
  // Node's own requestTimeout answers 408 and cannot tell a watch apart: the deadline is armRequestTimeout's.
  server.requestTimeout = 0;
  server.timeout = 0;
}

const TIMED_OUT = Symbol('kubepki.timedOut');

/** Whether this response was already answered 504 by the request timeout (later writes are dropped). */
export const timedOut = (res: ServerResponse): boolean => (res as ServerResponse & { [TIMED_OUT]?: boolean })[TIMED_OUT] === true;

/**
 * kube's WithTimeoutForNonLongRunningRequests: unless the response is complete within `ms`, answer 504
 * "request did not complete within requested timeout" and close the connection (its body may still be
 * trickling in). Long-running requests (watches) are not timed here.
 */
export function armRequestTimeout(req: IncomingMessage, res: ServerResponse, options: { ms: number; longRunning: boolean }): void {
  if (options.longRunning || options.ms <= 0) return;
  const timer = setTimeout(() => {
    if (res.writableEnded) return;
    (res as ServerResponse & { [TIMED_OUT]?: boolean })[TIMED_OUT] = true;
    if (res.headersSent) {
      req.socket.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    res.once('finish', () => req.socket.destroy());
    writeStatus(res, timeout('Timeout: request did not complete within requested timeout - context deadline exceeded', 0).status);
  }, options.ms);
  timer.unref();
  res.once('close', () => clearTimeout(timer));
}
