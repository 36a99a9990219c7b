// The API server's loopback listener, as kube-apiserver's loopback client config: this process's own clients
// (serve's in-process controllers) come in with a random token that only this process knows, standing for
// one identity fixed when the listener opens. Plain HTTP on a Unix socket in a private (0700) directory: the
// bytes never leave the host, and TLS on top costs a bootstrap storm about a tenth of the server's CPU
// (bench:storm).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bearerTokenAuthenticator } from '../auth/authn/bearer-token.js';
import { singleTokenAuthenticator } from '../auth/authn/tokenfile.js';
import type { Authenticator } from '../auth/types.js';
import type { UserInfo } from '../apis/authorization.js';
import { loopbackDirPrefix, removeStaleLoopbackDirs } from './loopback-sweep.js';

export interface LoopbackListener {
  socketPath: string;
  /** The bearer token every request must carry. Never logged. */
  token: string;
  /** Stops listening, closes the connections and removes the socket's directory. */
  close(): Promise<void>;
}

/**
 * Opens the socket (in a new directory under the system's temporary directory) and serves it with `serve`,
 * which is handed the authenticator that accepts only the token, as `user`. Fails with nothing left behind
 * when the socket cannot be made (say, a TMPDIR too long for a socket path).
 */
export async function openLoopback(
  user: UserInfo,
  serve: (req: IncomingMessage, res: ServerResponse, authenticator: Authenticator) => void,
  timeouts: { keepAliveTimeout: number; headersTimeout: number },
): Promise<LoopbackListener> {
  const token = randomBytes(32).toString('base64url');
  const authenticator = bearerTokenAuthenticator({ tokenAuthenticators: [singleTokenAuthenticator(token, user)], apiAudiences: [] });
  await removeStaleLoopbackDirs({ tmp: tmpdir() });
  const dir = await mkdtemp(join(tmpdir(), loopbackDirPrefix()));
  const socketPath = join(dir, 'apiserver.sock');
  const server = http.createServer((req, res) => serve(req, res, authenticator));
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  server.headersTimeout = timeouts.headersTimeout;
  server.requestTimeout = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(socketPath, 0o600);
  } catch (err) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    socketPath,
    token,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await rm(dir, { recursive: true, force: true });
    },
  };
}
