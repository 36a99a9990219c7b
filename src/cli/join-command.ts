// The command `kubepki token create --print-join-command` prints, as `kubeadm token create
// --print-join-command` prints `kubeadm join HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H`:
// the API server and CA pins come from the kubeconfig the token was created with (one pin per CA
// certificate, as kubeadm), and the node's files are where kubeadm puts them.
import { KubepkiError } from '../util/errors.js';
import type { Certificate } from '../x509/index.js';
import { publicKeyPin } from '../x509/pubkey-pin.js';
import { caCertificatesOf, clusterAccessOf, loadKubeconfig } from '../agent/kubeconfig.js';

/** kubeadm's kubelet paths: what a node joined with `kubeadm join` uses. */
export const JOIN_NODE_FLAGS = ['--kubeconfig', '/etc/kubernetes/kubelet.conf', '--cert-dir', '/var/lib/kubelet/pki', '--rotate-certificates'];

export function joinCommand(options: { server: string; caCertificates: readonly Certificate[]; token: string }): string {
  if (options.caCertificates.length === 0) throw new KubepkiError('InvalidConfig', 'no CA certificates found in kubeconfig');
  const endpoint = options.server.replace(/^https:\/\//, '').replace(/\/$/, '');
  const pins = options.caCertificates.flatMap((c) => ['--discovery-token-ca-cert-hash', publicKeyPin(c)]);
  return ['kubepki', 'agent', '--server', endpoint, '--token', options.token, ...pins, ...JOIN_NODE_FLAGS].join(' ');
}

/** The join command for `token`, with the server and CA of `kubeconfig`'s current cluster. */
export function joinCommandFromKubeconfig(kubeconfig: string, token: string): string {
  const cluster = clusterAccessOf(loadKubeconfig(kubeconfig), `kubeconfig ${kubeconfig}`);
  return joinCommand({ server: cluster.server, caCertificates: caCertificatesOf(cluster, `kubeconfig ${kubeconfig}`), token });
}
