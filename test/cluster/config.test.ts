import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiServerVirtualIp,
  controlPlaneUrl,
  localApiUrl,
  parseConfigFile,
  resolveClusterConfig,
  resolveRenewSettings,
  type HostDefaults,
} from '../../src/cluster/config.js';
import { apiServerSans, etcdSans } from '../../src/cluster/certlist.js';
import { KubepkiError } from '../../src/util/errors.js';

const host: HostDefaults = { hostname: 'Node-A', addresses: ['192.168.1.10', '127.0.0.1'] };

test('defaults follow kubeadm: host name lower-cased, first address, 10.96.0.0/12, cluster.local, RSA-2048, 1y and 10y', () => {
  const cfg = resolveClusterConfig({}, { host });
  assert.equal(cfg.nodeName, 'node-a');
  assert.equal(cfg.advertiseAddress, '192.168.1.10');
  assert.equal(cfg.serviceSubnet, '10.96.0.0/12');
  assert.equal(cfg.dnsDomain, 'cluster.local');
  assert.equal(cfg.encryptionAlgorithm, 'RSA-2048');
  assert.equal(cfg.certificateValidityMs, 8760 * 3600_000);
  assert.equal(cfg.caCertificateValidityMs, 87600 * 3600_000);
  assert.equal(cfg.bindPort, 6443);
  assert.equal(localApiUrl(cfg), 'https://192.168.1.10:6443');
  assert.equal(controlPlaneUrl(cfg), 'https://192.168.1.10:6443');
});

test('the first service IP is the network address plus one, for IPv4, IPv6 and dual stack', () => {
  assert.equal(apiServerVirtualIp('10.96.0.0/12'), '10.96.0.1');
  assert.equal(apiServerVirtualIp('10.100.7.9/16'), '10.100.0.1');
  assert.equal(apiServerVirtualIp('fd00:10:96::/112'), 'fd00:10:96::1');
  assert.equal(apiServerVirtualIp('10.96.0.0/12,fd00::/108'), '10.96.0.1');
  assert.equal(apiServerVirtualIp('192.168.0.0/31'), '192.168.0.1');
});

test('the control-plane endpoint gives the kubeconfig server, with the bind port when it has none', () => {
  const base = { nodeName: 'n1', advertiseAddress: '10.0.0.5' };
  assert.equal(controlPlaneUrl(resolveClusterConfig({ ...base, controlPlaneEndpoint: 'k8s.example.com' }, { host })), 'https://k8s.example.com:6443');
  assert.equal(controlPlaneUrl(resolveClusterConfig({ ...base, controlPlaneEndpoint: 'k8s.example.com:8443' }, { host })), 'https://k8s.example.com:8443');
  assert.equal(controlPlaneUrl(resolveClusterConfig({ ...base, controlPlaneEndpoint: '[fd00::1]:7443' }, { host })), 'https://[fd00::1]:7443');
  assert.equal(controlPlaneUrl(resolveClusterConfig({ ...base, controlPlaneEndpoint: '10.0.0.100', bindPort: '9443' }, { host })), 'https://10.0.0.100:9443');
  assert.equal(localApiUrl(resolveClusterConfig({ ...base, controlPlaneEndpoint: '10.0.0.100' }, { host })), 'https://10.0.0.5:6443');
});

test('apiserver SANs are kubeadm\'s: sorted DNS names, service IP, advertise IP, endpoint host, extra SANs', () => {
  const cfg = resolveClusterConfig(
    { nodeName: 'cp-1', advertiseAddress: '10.0.0.5', controlPlaneEndpoint: 'api.example.com:6443', apiServerCertSANs: '10.0.0.200,lb.example.com,10.0.0.5', serviceSubnet: '10.100.0.0/16', dnsDomain: 'corp.local' },
    { host },
  );
  const sans = apiServerSans(cfg);
  assert.deepEqual(sans.dnsNames, ['api.example.com', 'cp-1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.corp.local', 'lb.example.com']);
  assert.deepEqual(sans.ipAddresses, ['10.100.0.1', '10.0.0.5', '10.0.0.200']);
});

test('etcd SANs are node name and localhost, advertise IP, 127.0.0.1 and ::1 (deduplicated)', () => {
  const cfg = resolveClusterConfig({ nodeName: 'cp-1', advertiseAddress: '127.0.0.1' }, { host });
  const sans = etcdSans(cfg, []);
  assert.deepEqual(sans.dnsNames, ['cp-1', 'localhost']);
  assert.deepEqual(sans.ipAddresses, ['127.0.0.1', '::1']);
});

for (const [input, flag] of [
  [{ advertiseAddress: '10.0.0.300' }, '--apiserver-advertise-address'],
  [{ advertiseAddress: '0.0.0.0' }, '--apiserver-advertise-address'],
  [{ serviceSubnet: '10.96.0.0' }, '--service-cidr'],
  [{ serviceSubnet: '10.96.0.0/33' }, '--service-cidr'],
  [{ serviceSubnet: '10.96.0.1/32' }, '--service-cidr'],
  [{ certificateValidityPeriod: '1y' }, '--certificate-validity-period'],
  [{ caCertificateValidityPeriod: '-5h' }, '--ca-certificate-validity-period'],
  [{ encryptionAlgorithm: 'DSA-1024' }, '--encryption-algorithm'],
  [{ nodeName: 'Bad_Name!' }, '--node-name'],
  [{ apiServerCertSANs: 'ok.example.com,not a name' }, '--apiserver-cert-extra-sans'],
  [{ controlPlaneEndpoint: 'api.example.com:99999' }, '--control-plane-endpoint'],
  [{ dnsDomain: '-bad-' }, '--service-dns-domain'],
  [{ bindPort: 'http' }, '--apiserver-bind-port'],
] as const) {
  test(`a bad ${flag} (${JSON.stringify(Object.values(input)[0])}) is one InvalidConfig error naming the flag`, () => {
    assert.throws(
      () => resolveClusterConfig(Object.assign({ nodeName: 'n1', advertiseAddress: '10.0.0.5' }, input), { host }),
      (err: unknown) => err instanceof KubepkiError && err.code === 'InvalidConfig' && err.message.startsWith(`${flag}: `) && !err.message.includes('\n'),
    );
  });
}

test('a kubeadm InitConfiguration + ClusterConfiguration file gives every PKI field, and errors name the YAML path', async () => {
  const yaml = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.1.2.3
  bindPort: 7443
nodeRegistration:
  name: master-0
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.32.0
clusterName: prod
controlPlaneEndpoint: api.prod.example:6443
certificatesDir: /srv/pki
encryptionAlgorithm: ECDSA-P256
certificateValidityPeriod: 720h0m0s
caCertificateValidityPeriod: 43800h0m0s
networking:
  serviceSubnet: 10.200.0.0/16
  dnsDomain: prod.local
  podSubnet: 10.244.0.0/16
apiServer:
  certSANs: [extra.prod.example, 10.9.9.9]
etcd:
  local:
    serverCertSANs: [etcd.prod.example]
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`;
  const file = await parseConfigFile(yaml, 'kubeadm.yaml');
  assert.equal(file.certificatesDir, '/srv/pki');
  const cfg = resolveClusterConfig(file.input, { names: file.names, host });
  assert.equal(cfg.nodeName, 'master-0');
  assert.equal(cfg.advertiseAddress, '10.1.2.3');
  assert.equal(cfg.bindPort, 7443);
  assert.equal(cfg.clusterName, 'prod');
  assert.equal(cfg.controlPlaneEndpoint, 'api.prod.example:6443');
  assert.equal(cfg.encryptionAlgorithm, 'ECDSA-P256');
  assert.equal(cfg.certificateValidityMs, 720 * 3600_000);
  assert.equal(cfg.caCertificateValidityMs, 43800 * 3600_000);
  assert.equal(cfg.serviceSubnet, '10.200.0.0/16');
  assert.equal(cfg.dnsDomain, 'prod.local');
  assert.deepEqual(cfg.apiServerCertSANs, ['extra.prod.example', '10.9.9.9']);
  assert.deepEqual(cfg.etcdServerCertSANs, ['etcd.prod.example']);

  const bad = await parseConfigFile('apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: 10.0.0.0/40\n', 'c.yaml');
  assert.throws(() => resolveClusterConfig(bad.input, { names: bad.names, host }), /^KubepkiError: c\.yaml: networking\.serviceSubnet: "10\.0\.0\.0\/40" is not a valid CIDR/);
});

test('kubepki\'s own flat shape is read, and an unknown field in it is an error', async () => {
  const file = await parseConfigFile('kind: ClusterPKIConfiguration\nnodeName: n9\nadvertiseAddress: 10.0.0.9\napiServerCertSANs: [a.example]\nencryptionAlgorithm: ECDSA-P384\nkubeconfigDir: /srv/kube\n', 'p.yaml');
  assert.equal(file.kubeconfigDir, '/srv/kube');
  const cfg = resolveClusterConfig(file.input, { names: file.names, host });
  assert.equal(cfg.nodeName, 'n9');
  assert.equal(cfg.encryptionAlgorithm, 'ECDSA-P384');
  assert.deepEqual(cfg.apiServerCertSANs, ['a.example']);
  await assert.rejects(parseConfigFile('nodeName: n1\nadvertiseAdress: 10.0.0.1\n', 'typo.yaml'), /typo\.yaml: unknown field "advertiseAdress"/);
});

test('broken or foreign config files are refused with the file name', async () => {
  await assert.rejects(parseConfigFile('nodeName: [unclosed\n', 'x.yaml'), /^KubepkiError: x\.yaml: not valid YAML/);
  await assert.rejects(parseConfigFile('', 'empty.yaml'), /empty\.yaml: the file is empty/);
  await assert.rejects(parseConfigFile('apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n', 'old.yaml'), /unsupported kubeadm API version/);
  await assert.rejects(parseConfigFile('apiVersion: v1\nkind: Pod\n', 'pod.yaml'), /unknown kind "Pod"/);
  await assert.rejects(parseConfigFile('certificateValidityPeriod: 8760\n', 'n.yaml'), /n\.yaml: certificateValidityPeriod: expected a Go duration string/);
});

test('renew settings: only what is given is set, bad values name their flag', () => {
  assert.deepEqual(resolveRenewSettings({}), {});
  assert.deepEqual(resolveRenewSettings({ certificateValidityPeriod: '48h', encryptionAlgorithm: 'ecdsa-p256' }), { certificateValidityMs: 48 * 3600_000, encryptionAlgorithm: 'ECDSA-P256' });
  assert.throws(() => resolveRenewSettings({ certificateValidityPeriod: 'soon' }), /^KubepkiError: --certificate-validity-period: invalid duration "soon"/);
});
