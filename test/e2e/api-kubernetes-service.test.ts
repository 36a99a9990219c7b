// The default/kubernetes Service, read with the real kubectl: what kube-apiserver's bootstrap controller
// writes (ClusterIP = first IP of the service CIDR, 443/https → the secure port, component=apiserver), and
// the kubectl commands that need it: cluster-info, get all -A.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { kubectlWith, startTestServer, writeKubeconfig } from '../api/helpers.js';
import { tempDir } from '../helpers/tmp.js';

test('default/kubernetes Service', async (t) => {
  const s = await startTestServer(t, { serviceClusterIpRange: '10.100.0.0/16' });
  const port = Number(new URL(s.url).port);
  const dir = await tempDir(t);
  const kubeconfig = path.join(dir, 'admin.conf');
  await writeKubeconfig(kubeconfig, s.url, s.pki, s.pki.admin);
  const kubectl = kubectlWith(kubeconfig, path.join(dir, 'cache'));

  await t.test('kubectl get svc kubernetes: ClusterIP, port 443 named https to the secure port, kube\'s labels', async () => {
    const r = await kubectl(['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const svc = JSON.parse(r.stdout);
    assert.equal(svc.spec.clusterIP, '10.100.0.1');
    assert.deepEqual(svc.spec.clusterIPs, ['10.100.0.1']);
    assert.equal(svc.spec.type, 'ClusterIP');
    assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }]);
    assert.deepEqual(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
    const table = await kubectl(['get', 'svc', '-n', 'default']);
    assert.match(table.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nkubernetes\s+ClusterIP\s+10\.100\.0\.1\s+<none>\s+443\/TCP\s+\S+\n$/);
  });

  await t.test('kubectl cluster-info names the control plane and exits 0', async () => {
    const r = await kubectl(['cluster-info']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Kubernetes control plane.* is running at .*${s.url.replace(/[.]/g, '\\.')}`));
  });

  await t.test('kubectl get all -A exits 0 and lists the service', async () => {
    const r = await kubectl(['get', 'all', '-A']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP.*\ndefault\s+kubernetes\s+ClusterIP\s+10\.100\.0\.1\s+<none>\s+443\/TCP\s/);
  });

  await t.test('read-only: create, update and delete are 405 MethodNotSupported', async () => {
    const create = await s.request('POST', '/api/v1/namespaces/default/services', { body: { metadata: { name: 'x' }, spec: {} } });
    assert.equal(create.status, 405);
    assert.equal(create.json.reason, 'MethodNotAllowed');
    const del = await kubectl(['delete', 'svc', 'kubernetes', '-n', 'default']);
    assert.notEqual(del.code, 0);
    assert.equal((await s.request('GET', '/api/v1/namespaces/default/services/kubernetes')).status, 200);
  });

  await t.test('a restart on another port brings targetPort along (reconciled, not duplicated)', async () => {
    const { ApiServer } = await import('../../src/server/server.js');
    const { x509Authenticator } = await import('../../src/auth/authn/x509.js');
    const { alwaysAllowMasters } = await import('../../src/auth/authz/minimal.js');
    const { parseCertificatesPem } = await import('../../src/x509/certificate.js');
    const second = new ApiServer({
      storage: s.storage,
      tls: { cert: s.pki.serverCert, key: s.pki.serverKey, clientCA: s.pki.ca },
      authenticator: x509Authenticator({ roots: parseCertificatesPem(s.pki.ca) }),
      authorizer: alwaysAllowMasters,
      port: 0,
      serviceClusterIpRange: '10.100.0.0/16',
    });
    const { port: port2 } = await second.start();
    t.after(() => second.close());
    const svc = (await s.request('GET', '/api/v1/namespaces/default/services/kubernetes')).json;
    assert.equal(svc.spec.ports[0].targetPort, port2);
    assert.equal((await s.request('GET', '/api/v1/services')).json.items.length, 1);
  });
});
