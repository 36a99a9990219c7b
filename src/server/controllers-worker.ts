// Supervises serve's in-process controllers in a worker thread (controllers-thread.ts), so their client
// work (watch decoding, JSON, TLS) does not compete with the API server's main thread: starts it, restarts
// it a second after an unexpected exit, stops it (terminating it when it does not stop in time), and
// fetches its metrics text for the server's /metrics.
import { Worker } from 'node:worker_threads';
import type { ControllerManagerOptions } from '../controllers/manager.js';
import type { LoopbackEndpoint } from '../client/rest.js';
import { KubepkiError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

/** What the controllers' worker thread needs (structured-clonable). */
export interface ServeControllersWorkerData {
  /** The controller-manager kubeconfig: its identity, and its server as published in cluster-info. */
  kubeconfig: string;
  /** Where this server listens. */
  serverUrl: string;
  clientCA: string;
  /** The manager's options, already checked (the client, logger and metrics are the thread's own). */
  managerOptions: Omit<ControllerManagerOptions, 'client' | 'logger' | 'metrics' | 'clock'>;
  /** Published as kube-root-ca.crt. */
  rootCA: string;
  logLevel: string;
  /** The serving process's --log-format (a worker's stderr is a pipe, so it cannot tell by itself). */
  logFormat: import('../util/log-format.js').LogFormat;
  loopback?: LoopbackEndpoint;
}

/** Messages from the controllers' worker thread to serve. */
export type ControllersWorkerMessage =
  | { type: 'started'; signerNames: string[] }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'metrics'; id: number; text: string }
  | { type: 'stopped' };

export interface ControllersWorker {
  readonly signerNames: string[];
  /** The worker's Prometheus text ('' when it does not answer within 5 s or is gone). */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * How long a stopping worker may take to release its Lease and close its watches before it is terminated. A stop
 * ends as soon as the worker exits, so the bound only matters for a stuck worker; it is generous because a busy
 * 2-core machine can take seconds to finish the term's in-flight requests.
 */
const STOP_GRACE_MS = 10_000;
const RESTART_DELAY_MS = 1000;
const METRICS_TIMEOUT_MS = 5000;
/**
 * The worker's young generation. V8 lets it grow to 16 MB semi-spaces (with serve's 5,000-node storm it does),
 * and keeps that committed; the controllers' objects are short-lived (decoded events, requests) or live in the
 * informers' old generation. A cap trades RSS against scavenges: each scavenge copies the storm's in-flight
 * requests and events again, so the smaller the space the more often the same survivors are copied. Measured
 * with bench:storm --breakdown (5,000 nodes, GC of the whole process per certificate): 8 MB 0.48–0.57 ms,
 * 16 MB 0.40–0.43 ms, 32 MB 0.35 ms; 8 MB saved about 24 MB of RSS against V8's default (bench:memory), 16 MB
 * keeps most of that saving.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/** Starts the worker; rejects when the controllers fail to start (bad kubeconfig, refused signing files...). */
export async function startControllersWorker(data: ServeControllersWorkerData, logger: Logger): Promise<ControllersWorker> {
  let worker: Worker;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let nextId = 0;
  const pending = new Map<number, (text: string) => void>();

  const spawn = (): Promise<string[]> =>
    new Promise((resolve, reject) => {
      let started = false;
      const w = new Worker(new URL('./controllers-thread.js', import.meta.url), { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      worker = w;
      w.on('message', (m: ControllersWorkerMessage) => {
        if (m.type === 'started') {
          started = true;
          resolve(m.signerNames);
        } else if (m.type === 'failed') {
          reject(new KubepkiError((m.code ?? 'InvalidConfig') as never, m.message));
        } else if (m.type === 'metrics') {
          pending.get(m.id)?.(m.text);
          pending.delete(m.id);
        }
      });
      w.on('error', (err) => {
        logger.error({ err: String(err) }, 'controllers worker crashed');
        if (!started) reject(err);
      });
      w.on('exit', (code) => {
        for (const done of pending.values()) done('');
        pending.clear();
        if (!started) return reject(new KubepkiError('InvalidConfig', `controllers worker exited with code ${code} before starting`));
        if (stopping || worker !== w) return;
        logger.error({ code }, 'controllers worker exited unexpectedly; restarting it in 1s');
        restartTimer = setTimeout(() => {
          spawn().catch((err: unknown) => logger.error({ err: String(err) }, 'controllers worker restart failed'));
        }, RESTART_DELAY_MS);
      });
    });

  const signerNames = await spawn();
  return {
    signerNames,
    metrics: () =>
      new Promise((resolve) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve('');
        }, METRICS_TIMEOUT_MS);
        pending.set(id, (text) => {
          clearTimeout(timer);
          resolve(text);
        });
        worker.postMessage({ type: 'metrics', id });
      }),
    stop: async () => {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage({ type: 'stop' });
      // A stop racing the controllers' start can leave a request in flight: give the worker 2 s, then end it.
      const kill = setTimeout(() => {
        logger.warn(`controllers worker did not stop within ${STOP_GRACE_MS / 1000}s; terminating it`);
        worker.terminate().catch(() => undefined);
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
    },
  };
}
