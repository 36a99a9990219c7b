// The kubeadm certificate table as data (cmd/kubeadm/app/phases/certs/certlist.go and phases/kubeconfig): which
// certificates, kubeconfigs and keys a control plane needs, who signs them, their subjects, usages and SANs.
// Everything else in src/cluster (init, renewal, expiration) is driven by these lists.
//
// Where seed 002's tables (written against an older kubeadm) and today's kubeadm differ, today's kubeadm wins:
//  - apiserver-kubelet-client has O=kubeadm:cluster-admins (was system:masters);
//  - etcd-healthcheck-client and apiserver-etcd-client carry no O (etcd ignores it; was system:masters);
//  - admin.conf is O=kubeadm:cluster-admins, and super-admin.conf (CN=kubernetes-super-admin) is the
//    break-glass O=system:masters identity (kubeadm >= 1.29);
//  - CA certificates carry their CN as a DNS SAN (client-go's NewSelfSignedCACert does this).
import { emptySans, mergeSans, parseHosts, type SubjectAltNames } from '../x509/san.js';
import { parseUsages, type Usages } from '../x509/usages.js';
import type { DistinguishedName } from '../x509/names.js';
import { apiServerVirtualIp, controlPlaneHost, controlPlaneUrl, localApiUrl, type ClusterConfig } from './config.js';
import { GROUP_KUBEADM_CLUSTER_ADMINS, GROUP_MASTERS, GROUP_NODES, NODE_USER_PREFIX, USER_KUBE_CONTROLLER_MANAGER, USER_KUBE_SCHEDULER } from '../apis/names.js';

export type CAName = 'ca' | 'front-proxy-ca' | 'etcd-ca';

/** Key usage of every kubeadm certificate: digital signature + key encipherment (plus cert sign for CAs). */
const LEAF_KEY_USAGES = ['digital signature', 'key encipherment'];
const CA_KEY_USAGES = ['digital signature', 'key encipherment', 'cert sign'];

export interface CASpec {
  name: CAName;
  longName: string;
  /** Path of the .crt/.key pair relative to the certificate directory, without extension. */
  baseName: string;
  commonName: string;
}

export interface LeafSpec {
  name: string;
  longName: string;
  baseName: string;
  caName: CAName;
  /** Extended key usages ('server auth', 'client auth'). */
  extKeyUsages: ('server auth' | 'client auth')[];
  subject(cfg: ClusterConfig): DistinguishedName;
  sans(cfg: ClusterConfig): SubjectAltNames;
}

export interface KubeconfigSpec {
  /** The file name, which is also its name for `certs renew` and `check-expiration`. */
  name: 'admin.conf' | 'super-admin.conf' | 'kubelet.conf' | 'controller-manager.conf' | 'scheduler.conf';
  longName: string;
  /** kubelet.conf is excluded from renewal: after bootstrap its certificate is the kubelet's to rotate. */
  renewable: boolean;
  clientName(cfg: ClusterConfig): string;
  organizations: string[];
  /** controller-manager and scheduler talk to their local API server; the others to the control-plane endpoint. */
  server(cfg: ClusterConfig): string;
}

export const CA_LIST: readonly CASpec[] = [
  { name: 'ca', longName: 'self-signed Kubernetes CA to provision identities for other Kubernetes components', baseName: 'ca', commonName: 'kubernetes' },
  { name: 'front-proxy-ca', longName: 'self-signed CA to provision identities for front proxy', baseName: 'front-proxy-ca', commonName: 'front-proxy-ca' },
  { name: 'etcd-ca', longName: 'self-signed CA to provision identities for etcd', baseName: 'etcd/ca', commonName: 'etcd-ca' },
];

const none = (): SubjectAltNames => emptySans();

export const LEAF_LIST: readonly LeafSpec[] = [
  {
    name: 'apiserver',
    longName: 'certificate for serving the Kubernetes API',
    baseName: 'apiserver',
    caName: 'ca',
    extKeyUsages: ['server auth'],
    subject: () => ({ commonName: 'kube-apiserver' }),
    sans: apiServerSans,
  },
  {
    name: 'apiserver-kubelet-client',
    longName: 'certificate for the API server to connect to kubelet',
    baseName: 'apiserver-kubelet-client',
    caName: 'ca',
    extKeyUsages: ['client auth'],
    subject: () => ({ commonName: 'kube-apiserver-kubelet-client', organization: [GROUP_KUBEADM_CLUSTER_ADMINS] }),
    sans: none,
  },
  {
    name: 'front-proxy-client',
    longName: 'certificate for the front proxy client',
    baseName: 'front-proxy-client',
    caName: 'front-proxy-ca',
    extKeyUsages: ['client auth'],
    subject: () => ({ commonName: 'front-proxy-client' }),
    sans: none,
  },
  {
    // etcd 3.2+ also wants client auth on the server certificate (etcd-io/etcd#9785), hence both EKUs.
    name: 'etcd-server',
    longName: 'certificate for serving etcd',
    baseName: 'etcd/server',
    caName: 'etcd-ca',
    extKeyUsages: ['server auth', 'client auth'],
    subject: (cfg) => ({ commonName: cfg.nodeName }),
    sans: (cfg) => etcdSans(cfg, cfg.etcdServerCertSANs),
  },
  {
    name: 'etcd-peer',
    longName: 'certificate for etcd nodes to communicate with each other',
    baseName: 'etcd/peer',
    caName: 'etcd-ca',
    extKeyUsages: ['server auth', 'client auth'],
    subject: (cfg) => ({ commonName: cfg.nodeName }),
    sans: (cfg) => etcdSans(cfg, cfg.etcdPeerCertSANs),
  },
  {
    name: 'etcd-healthcheck-client',
    longName: 'certificate for liveness probes to healthcheck etcd',
    baseName: 'etcd/healthcheck-client',
    caName: 'etcd-ca',
    extKeyUsages: ['client auth'],
    subject: () => ({ commonName: 'kube-etcd-healthcheck-client' }),
    sans: none,
  },
  {
    name: 'apiserver-etcd-client',
    longName: 'certificate the apiserver uses to access etcd',
    baseName: 'apiserver-etcd-client',
    caName: 'etcd-ca',
    extKeyUsages: ['client auth'],
    subject: () => ({ commonName: 'kube-apiserver-etcd-client' }),
    sans: none,
  },
];

export const KUBECONFIG_LIST: readonly KubeconfigSpec[] = [
  {
    name: 'admin.conf',
    longName: 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself',
    renewable: true,
    clientName: () => 'kubernetes-admin',
    organizations: [GROUP_KUBEADM_CLUSTER_ADMINS],
    server: controlPlaneUrl,
  },
  {
    name: 'super-admin.conf',
    longName: 'certificate embedded in the kubeconfig file for the super-admin',
    renewable: true,
    clientName: () => 'kubernetes-super-admin',
    organizations: [GROUP_MASTERS],
    server: controlPlaneUrl,
  },
  {
    name: 'kubelet.conf',
    longName: 'certificate embedded in the kubeconfig file for the kubelet',
    renewable: false,
    clientName: (cfg) => `${NODE_USER_PREFIX}${cfg.nodeName}`,
    organizations: [GROUP_NODES],
    server: controlPlaneUrl,
  },
  {
    name: 'controller-manager.conf',
    longName: 'certificate embedded in the kubeconfig file for the controller manager to use',
    renewable: true,
    clientName: () => USER_KUBE_CONTROLLER_MANAGER,
    organizations: [],
    server: localApiUrl,
  },
  {
    name: 'scheduler.conf',
    longName: 'certificate embedded in the kubeconfig file for the scheduler manager to use',
    renewable: true,
    clientName: () => USER_KUBE_SCHEDULER,
    organizations: [],
    server: localApiUrl,
  },
];

/** The service-account signing key pair (sa.key, sa.pub): a key, no certificate. */
export const SERVICE_ACCOUNT_KEY_BASE_NAME = 'sa';

/** Names `certs renew` accepts, sorted as kubeadm lists them. */
export const RENEWABLE_NAMES: readonly string[] = [...LEAF_LIST.map((l) => l.name), ...KUBECONFIG_LIST.filter((k) => k.renewable).map((k) => k.name)].sort();

export function caSpec(name: CAName): CASpec {
  return CA_LIST.find((c) => c.name === name)!;
}

export function caUsages(): Usages {
  return parseUsages(CA_KEY_USAGES);
}

export function leafUsages(extKeyUsages: readonly string[]): Usages {
  return parseUsages([...LEAF_KEY_USAGES, ...extKeyUsages]);
}

/** A CA certificate's SANs: its common name as a DNS name (client-go's NewSelfSignedCACert). */
export function caSans(ca: CASpec): SubjectAltNames {
  return parseHosts([ca.commonName]);
}

/**
 * kubeadm's GetAPIServerAltNames: node name, kubernetes, kubernetes.default, kubernetes.default.svc,
 * kubernetes.default.svc.<domain>; the first service IP and the advertise address; the control-plane endpoint's
 * host; then apiServer.certSANs.
 */
export function apiServerSans(cfg: ClusterConfig): SubjectAltNames {
  const hosts = [
    cfg.nodeName,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${cfg.dnsDomain}`,
    apiServerVirtualIp(cfg.serviceSubnet),
    cfg.advertiseAddress,
  ];
  const endpointHost = controlPlaneHost(cfg);
  if (endpointHost) hosts.push(endpointHost);
  return kubeadmOrder(mergeSans(parseHosts(hosts), parseHosts(cfg.apiServerCertSANs)));
}

/** kubeadm's getAltNames for etcd: node name, localhost; advertise address, 127.0.0.1, ::1; then extra SANs. */
export function etcdSans(cfg: ClusterConfig, extra: readonly string[]): SubjectAltNames {
  return kubeadmOrder(mergeSans(parseHosts([cfg.nodeName, 'localhost', cfg.advertiseAddress, '127.0.0.1', '::1']), parseHosts(extra)));
}

/** kubeadm's RemoveDuplicateAltNames: DNS names de-duplicated and sorted, IPs de-duplicated in order. */
function kubeadmOrder(sans: SubjectAltNames): SubjectAltNames {
  return { ...sans, dnsNames: [...new Set(sans.dnsNames)].sort() };
}

export function clientSubject(spec: KubeconfigSpec, cfg: ClusterConfig): DistinguishedName {
  const dn: DistinguishedName = { commonName: spec.clientName(cfg) };
  if (spec.organizations.length > 0) dn.organization = [...spec.organizations];
  return dn;
}

/** Every certificate name `check-expiration` reports, sorted as kubeadm sorts them, with its CA. */
export function expirationEntries(): { name: string; caName: CAName; kind: 'leaf' | 'kubeconfig' }[] {
  return [
    ...LEAF_LIST.map((l) => ({ name: l.name, caName: l.caName, kind: 'leaf' as const })),
    ...KUBECONFIG_LIST.filter((k) => k.renewable).map((k) => ({ name: k.name, caName: 'ca' as CAName, kind: 'kubeconfig' as const })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
