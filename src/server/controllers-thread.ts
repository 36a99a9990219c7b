// The worker thread `kubepki serve` runs its in-process controllers in: the same controller manager, an
// API client of the server on the main thread, so the controllers' client work does not compete with
// serving. Protocol (controllers-worker.ts ControllersWorkerMessage): posts `started` or `failed` once;
// answers `metrics` requests with its registry's text; on `stop`, stops the controllers and exits.
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { Gauge, type Registry } from 'prom-client';
import { RestKubeClient } from '../client/rest.js';
import { loadClientConfig } from '../client/kubeconfig.js';
import { runControllerManager, type RunningControllers } from '../controllers/run.js';
import { createLogger, type Logger } from '../util/logger.js';
import { KubepkiError } from '../util/errors.js';
import type { ControllersWorkerMessage, ServeControllersWorkerData } from './controllers-worker.js';
import { collectHeapAfterBursts, SERVE_HEAP_AFTER_BURSTS } from './heap-after-bursts.js';

/**
 * Serve's controllers on this thread: an API client of the server at `serverUrl` (this very process),
 * through its loopback socket when given, else over HTTPS with the controller-manager kubeconfig's
 * credentials.
 */
async function startHere(data: ServeControllersWorkerData, logger: Logger): Promise<RunningControllers> {
  const config = loadClientConfig(data.kubeconfig);
  // Talk to this very server on the address it listens on; publish the advertised one in cluster-info.
  const local = new URL(data.serverUrl);
  if (local.hostname === '0.0.0.0' || local.hostname === '[::]') local.hostname = '127.0.0.1';
  const client = new RestKubeClient({ ...config, cluster: { ...config.cluster, server: local.origin } }, { userAgent: 'kubepki-serve/controllers', loopback: data.loopback });
  const running = await runControllerManager({
    ...data.managerOptions,
    client,
    rootCA: data.rootCA,
    clusterInfo: { server: config.cluster.server, caPem: data.clientCA },
    logger,
    // This process's own API server checked every request's signature at create.
    requestsVerifiedByServer: true,
  });
  threadHeapMetrics(running.registry);
  // The informers' first list of every CSR is such a burst (see heap-after-bursts.ts).
  const stopCollecting = collectHeapAfterBursts(SERVE_HEAP_AFTER_BURSTS);
  return {
    signerNames: running.signerNames,
    registry: running.registry,
    stop: async () => {
      stopCollecting();
      await running.stop();
      await client.close();
    },
  };
}

/**
 * The thread's own V8 heap (serve's nodejs_heap_* metrics are the main thread's): with many CSRs cached, the
 * controllers' informers are most of serve's memory.
 */
function threadHeapMetrics(registry: Registry): void {
  new Gauge({
    name: 'kubepki_controllers_thread_heap_bytes',
    help: 'V8 heap of serve\'s controllers thread: used, and total (reserved by V8, counted in the process RSS)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const h = getHeapStatistics();
      this.set({ kind: 'used' }, h.used_heap_size);
      this.set({ kind: 'total' }, h.total_heap_size);
      this.set({ kind: 'external' }, h.external_memory);
    },
  });
}

const data = workerData as ServeControllersWorkerData;
const port = parentPort!;
const post = (m: ControllersWorkerMessage) => port.postMessage(m);
const logger = createLogger({ name: 'kubepki-serve', level: data.logLevel, format: data.logFormat });

try {
  const running = await startHere(data, logger);
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
  post({ type: 'failed', message: (err as Error).message, code: err instanceof KubepkiError ? err.code : undefined });
  port.close();
}
