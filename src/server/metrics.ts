// Prometheus metrics for /metrics, named as kube-apiserver names them, on a registry of the server's own
// (several servers in one process — tests, replicas — do not share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'scope' | 'component' | 'code'>;
  latency: Histogram<'verb' | 'group' | 'version' | 'resource' | 'subresource' | 'scope' | 'component'>;
  authentication: Counter<'result'>;
  authorization: Counter<'decision'>;
}

export function createMetrics(options: { watchers: () => number; storageObjects: () => Promise<Record<string, number>> }): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const,
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [registry],
  });
  const authentication = new Counter({
    name: 'authentication_attempts',
    help: 'Counter of authenticated attempts.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const authorization = new Counter({
    name: 'apiserver_authorization_decisions_total',
    help: 'Total number of terminal decisions made by an authorizer.',
    labelNames: ['decision'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Gauge of all active long-running apiserver requests (watches).',
    labelNames: ['verb'] as const,
    registers: [registry],
    collect() {
      this.set({ verb: 'WATCH' }, options.watchers());
    },
  });
  new Gauge({
    name: 'apiserver_storage_objects',
    help: 'Number of stored objects at the time of last check split by kind.',
    labelNames: ['resource'] as const,
    registers: [registry],
    async collect() {
      for (const [resource, n] of Object.entries(await options.storageObjects())) this.set({ resource }, n);
    },
  });
  return { registry, requests, latency, authentication, authorization };
}
