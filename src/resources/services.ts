// v1 Service, read-only: the one Service this server has is `default/kubernetes`, which kube-apiserver's
// bootstrap controller keeps pointing at the API server (ClusterIP = the first IP of the service CIDR, port
// 443 named https to the secure port). It makes `kubectl cluster-info` and `kubectl get all` work; there are
// no other Services to create in a cluster that runs no workloads.
import { apiServerVirtualIp } from '../cluster/config.js';
import { kindSchema } from '../api/meta-schema.js';
import type { ResourceDefinition, StrategyContext } from '../api/registry.js';
import { arrayOf, int32, mapOf, obj, str } from '../api/schema.js';
import { ApiError } from '../apis/status.js';
import type { ResourceStore } from '../api/store.js';
import { age, AGE_COLUMN, NAME_COLUMN } from '../api/table.js';
import type { KubeObject } from '../apis/index.js';
import { isDNS1123Label } from '../api/validation.js';

const servicePortSchema = obj(
  {
    appProtocol: str('The application protocol for this port, used as a hint for implementations to offer richer behavior for protocols that they understand.'),
    name: str('The name of this port within the service. Must be a DNS_LABEL; optional if only one ServicePort is defined.'),
    nodePort: int32('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
    port: int32('The port that will be exposed by this service.'),
    protocol: str('The IP protocol for this port: "TCP", "UDP" or "SCTP". Default is TCP.', { enum: ['SCTP', 'TCP', 'UDP'] }),
    targetPort: str('Number or name of the port to access on the pods (here: the API server\'s secure port).', { format: 'int-or-string' }),
  },
  { name: 'io.k8s.api.core.v1.ServicePort', required: ['port'], description: 'ServicePort contains information on service\'s port.' },
);

const serviceSchema = kindSchema({
  name: 'io.k8s.api.core.v1.Service',
  group: '',
  version: 'v1',
  kind: 'Service',
  description:
    'Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy. Here it is read-only: the default/kubernetes Service points at the API server.',
  properties: {
    spec: obj(
      {
        clusterIP: str('The IP address of the service, allocated from the service CIDR (for default/kubernetes: its first IP).'),
        clusterIPs: arrayOf(str('One IP address of the service (IPv4 or IPv6).'), { listType: 'atomic', description: 'The IP addresses of the service, the first equal to clusterIP.' }),
        internalTrafficPolicy: str('How traffic from inside the cluster is routed to the service\'s endpoints: Cluster or Local.', { enum: ['Cluster', 'Local'] }),
        ipFamilies: arrayOf(str('An IP family: IPv4 or IPv6.', { enum: ['IPv4', 'IPv6'] }), { listType: 'atomic', description: 'The IP families (IPv4, IPv6) of the service\'s cluster IPs.' }),
        ipFamilyPolicy: str('Whether the service has one IP family (SingleStack) or two (PreferDualStack, RequireDualStack).', { enum: ['PreferDualStack', 'RequireDualStack', 'SingleStack'] }),
        ports: arrayOf(servicePortSchema, { listType: 'map', listMapKeys: ['port', 'protocol'], patchStrategy: 'merge', patchMergeKey: 'port', description: 'The list of ports that are exposed by this service.' }),
        selector: mapOf(str('A label value pods must have.'), 'Route service traffic to pods with label keys and values matching this selector (none for default/kubernetes, whose endpoints are the API servers).'),
        sessionAffinity: str('ClientIP or None: whether a client\'s connections stick to one endpoint.', { enum: ['ClientIP', 'None'] }),
        type: str('How the Service is exposed: ClusterIP (a virtual IP inside the cluster), NodePort, LoadBalancer or ExternalName.', { enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'] }),
      },
      { name: 'io.k8s.api.core.v1.ServiceSpec', description: 'ServiceSpec describes the attributes that a user creates on a service.' },
    ),
    status: obj(
      {
        loadBalancer: obj(
          {
            ingress: arrayOf(obj({ hostname: str('Hostname of a load-balancer ingress point.'), ip: str('IP address of a load-balancer ingress point.') }, { name: 'io.k8s.api.core.v1.LoadBalancerIngress', description: 'One ingress point of a load balancer.' }), {
              listType: 'atomic',
              description: 'The ingress points of the load balancer.',
            }),
          },
          { name: 'io.k8s.api.core.v1.LoadBalancerStatus', description: 'LoadBalancer contains the current status of the load-balancer, if one is present.' },
        ),
      },
      { name: 'io.k8s.api.core.v1.ServiceStatus', description: 'ServiceStatus represents the current status of a service.' },
    ),
  },
});

interface Service extends KubeObject {
  spec?: { type?: string; clusterIP?: string; ports?: { port?: number; protocol?: string; nodePort?: number }[]; selector?: Record<string, string> };
}

const portsCell = (s: Service): string => {
  const ports = s.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port ?? 0}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
};

export const services: ResourceDefinition = {
  group: '',
  version: 'v1',
  kind: 'Service',
  listKind: 'ServiceList',
  plural: 'services',
  singular: 'service',
  shortNames: ['svc'],
  categories: ['all'],
  namespaced: true,
  verbs: ['get', 'list', 'watch'],
  schema: serviceSchema,
  validateName: isDNS1123Label,
  strategy: {},
  subresources: [],
  printer: {
    columns: [
      NAME_COLUMN,
      { name: 'Type', type: 'string', description: 'type determines how the Service is exposed.' },
      { name: 'Cluster-IP', type: 'string', description: 'clusterIP is the IP address of the service.' },
      { name: 'External-IP', type: 'string', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.' },
      { name: 'Port(s)', type: 'string', description: 'The list of ports that are exposed by this service.' },
      AGE_COLUMN,
      { name: 'Selector', type: 'string', priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.' },
    ],
    cells: (o, now) => {
      const s = o as Service;
      const selector = Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      return [o.metadata.name ?? '', s.spec?.type ?? '', s.spec?.clusterIP || '<none>', '<none>', portsCell(s), age(o.metadata.creationTimestamp, now), selector || '<none>'];
    },
  },
};

export const KUBERNETES_SERVICE = { namespace: 'default', name: 'kubernetes' };

/** The default/kubernetes Service as kube-apiserver's bootstrap controller writes it. */
export function kubernetesService(options: { serviceCidr: string; securePort: number }): KubeObject {
  const clusterIP = apiServerVirtualIp(options.serviceCidr);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP,
      clusterIPs: [clusterIP],
      internalTrafficPolicy: 'Cluster',
      ipFamilies: [clusterIP.includes(':') ? 'IPv6' : 'IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: options.securePort }],
      sessionAffinity: 'None',
      type: 'ClusterIP',
    },
    status: { loadBalancer: {} },
  };
}

/**
 * Creates default/kubernetes, or brings its spec back to what this server is (another port, another
 * CIDR). Idempotent and race-safe: several replicas starting on one store all succeed.
 */
export async function reconcileKubernetesService(store: ResourceStore, ctx: StrategyContext, options: { serviceCidr: string; securePort: number }): Promise<void> {
  const want = kubernetesService(options);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const cur = await store.get(KUBERNETES_SERVICE.namespace, KUBERNETES_SERVICE.name);
      if (JSON.stringify(cur['spec']) === JSON.stringify(want['spec'])) return;
      await store.update(KUBERNETES_SERVICE.namespace, KUBERNETES_SERVICE.name, { ...want, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...want.metadata.labels } } }, ctx, { dryRun: false });
      return;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === 404) {
        try {
          await store.create(KUBERNETES_SERVICE.namespace, structuredClone(want), ctx, { dryRun: false });
          return;
        } catch (e) {
          if (e instanceof ApiError && e.code === 409) continue;
          throw e;
        }
      }
      if (err.code === 409) continue;
      throw err;
    }
  }
}
