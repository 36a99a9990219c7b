// The worker thread `kubepki serve` runs its in-process controllers in: the same controller manager, an
// API client of the server on the main thread, so the controllers' client work does not compete with
// serving. Protocol (src/cli/controllers.ts ControllersWorkerMessage): posts `started` or `failed` once;
// answers `metrics` requests with its registry's text; on `stop`, stops the controllers and exits.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../util/logger.js';
import { KubepkiError } from '../util/errors.js';
import { startServeControllersHere, type ControllersWorkerMessage, type ServeControllersWorkerData } from './controllers.js';

const data = workerData as ServeControllersWorkerData;
const port = parentPort!;
const post = (m: ControllersWorkerMessage) => port.postMessage(m);
const logger = createLogger({ name: 'kubepki-serve', level: data.logLevel, format: data.logFormat });

try {
  const running = await startServeControllersHere(data, logger);
  port.on('message', (m: { type: 'metrics'; id: number } | { type: 'stop' }) => {
    if (m.type === 'metrics') {
      running.registry.metrics().then(
        (text) => post({ type: 'metrics', id: m.id, text }),
        () => post({ type: 'metrics', id: m.id, text: '' }),
      );
    } else if (m.type === 'stop') {
      running.stop().finally(() => {
        post({ type: 'stopped' });
        port.close();
      });
    }
  });
  post({ type: 'started', signerNames: running.signerNames });
} catch (err) {
  post({ type: 'failed', message: (err as Error).message, ...(err instanceof KubepkiError ? { code: err.code } : {}) });
  port.close();
}
