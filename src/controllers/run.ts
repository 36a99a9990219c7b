// Runs the controller manager until stopped: the one start/stop shape that `kubepki controllers` and serve's
// controllers thread share (kube-controller-manager's Run).
import type { Registry } from 'prom-client';
import type { Logger } from '../util/logger.js';
import { ControllerManager, type ControllerManagerOptions } from './manager.js';
import { ControllerMetrics } from './metrics.js';

export interface RunningControllers {
  readonly signerNames: string[];
  /** Where the controllers' metrics are registered. */
  readonly registry: Registry;
  stop(): Promise<void>;
}

/**
 * Creates the manager (loading and checking the signing files: it fails before anything runs when one is
 * refused) and runs it; `registry` is where its metrics go (a new one when absent).
 */
export async function runControllerManager(options: Omit<ControllerManagerOptions, 'metrics' | 'logger'> & { logger: Logger; registry?: Registry }): Promise<RunningControllers> {
  const { registry, ...managerOptions } = options;
  const manager = await ControllerManager.create({ ...managerOptions, metrics: new ControllerMetrics(registry) });
  const ac = new AbortController();
  const running = manager.run(ac.signal).catch((err: unknown) => options.logger.error({ err: String(err) }, 'controller manager stopped with an error'));
  options.logger.info({ controllers: [...manager.enabled], signers: manager.signerNames }, 'controller manager started');
  return {
    signerNames: manager.signerNames,
    registry: manager.metrics.registry,
    stop: async () => {
      ac.abort();
      await running;
    },
  };
}
