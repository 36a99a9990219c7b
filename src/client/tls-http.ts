// loopback-http.ts's minimal HTTP/1.1 client over TLS, for a process that makes a request or two and exits
// (`kubepki token create|list`, RestKubeClientOptions.minimalHttp): node:https's Agent, ClientRequest and
// IncomingMessage are not needed for that, and loading node:http and node:https alone was a large part of such a
// command's start (bench:cli). TLS is set up as node:https sets it up for the same options: the kubeconfig's CA,
// client certificate and key, SNI with the server's host name (never an IP address) or its tls-server-name, and
// the server's certificate checked against that name (tls.connect's checkServerIdentity).
import { isIP } from 'node:net';
import tls from 'node:tls';
import { LoopbackHttpClient } from './loopback-http.js';
import { socketHost } from '../util/socket-host.js';

export type TlsClientOptions = Pick<tls.ConnectionOptions, 'ca' | 'cert' | 'key' | 'servername' | 'rejectUnauthorized'>;

export interface TlsHttpOptions {
  /** The server's https: URL (the kubeconfig's cluster.server). */
  base: URL;
  tls: TlsClientOptions;
  /** Sent with every request (see LoopbackHttpOptions.headers). */
  headers: Record<string, string>;
  maxSockets?: number;
  requestTimeoutMs?: number;
}

export function tlsHttpClient(options: TlsHttpOptions): LoopbackHttpClient {
  const { base } = options;
  if (base.protocol !== 'https:') throw new Error(`tls-http: not an https URL: ${base.href}`);
  const host = socketHost(base);
  const port = base.port === '' ? 443 : Number(base.port);
  // node:https's rule (_http_agent.js calculateServerName): no SNI for an IP address; checkServerIdentity then
  // checks the certificate against `servername || host`.
  const servername = options.tls.servername ?? (isIP(host) ? '' : host);
  const { ca, cert, key, rejectUnauthorized } = options.tls;
  const connectOptions: tls.ConnectionOptions = { host, port, servername, ca, cert, key, ...(rejectUnauthorized === false ? { rejectUnauthorized } : {}) };
  return new LoopbackHttpClient({
    connect: () => tls.connect(connectOptions),
    // As node:http writes it: host[:port], the port left out when it is https' default, IPv6 in brackets.
    host: base.host,
    headers: options.headers,
    ...(options.maxSockets !== undefined ? { maxSockets: options.maxSockets } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
  });
}
