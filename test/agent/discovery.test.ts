// Token discovery's checks on cluster-info, as kubeadm's validateClusterInfoToken / validateClusterCA make
// them: the JWS must be the token's, over exactly the kubeconfig served; the kubeconfig must name one cluster;
// its CA must carry a pinned key. The network half (the real agent against the real serve and against a
// hostile server) is test/e2e/agent-join.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { verifyClusterInfo, validateDiscoveryOptions, renderBootstrapKubeconfig } from '../../src/agent/discovery.js';
import { computeDetachedSignature } from '../../src/apis/cluster-info.js';
import { clusterInfoKubeconfig } from '../../src/controllers/publishers/bootstrap-signer.js';
import { parsePublicKeyPins, publicKeyPin } from '../../src/x509/pubkey-pin.js';
import { loadKubeconfig } from '../../src/agent/kubeconfig.js';
import { tempDir } from '../helpers/tmp.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCa } from './pki.js';

const ID = 'abcdef';
const SECRET = '0123456789abcdef';
const SERVER = 'https://10.0.0.1:6443';

async function fixture() {
  const ca = await makeCa({ cn: 'kubernetes' });
  const other = await makeCa({ cn: 'not-the-cluster-ca' });
  const kubeconfig = clusterInfoKubeconfig(SERVER, ca.certificate.pem);
  const signed = (text: string, secret = SECRET, id = ID) => ({ kubeconfig: text, [`jws-kubeconfig-${id}`]: computeDetachedSignature(text, id, secret) });
  return { ca, other, kubeconfig, signed, pins: parsePublicKeyPins([publicKeyPin(ca.certificate)]) };
}

const opts = (pins: Set<string>) => ({ tokenId: ID, tokenSecret: SECRET, pins });

test('a cluster-info signed with the token whose CA is pinned gives its server and CA', async () => {
  const f = await fixture();
  const r = verifyClusterInfo(f.signed(f.kubeconfig), opts(f.pins));
  assert.equal(r.server, SERVER);
  assert.equal(r.caPem, f.ca.certificate.pem);
  assert.equal(r.kubeconfig, f.kubeconfig);
  // With no pin (--discovery-token-unsafe-skip-ca-verification) the JWS alone decides.
  assert.equal(verifyClusterInfo(f.signed(f.kubeconfig), opts(new Set())).server, SERVER);
});

test('an unsigned, wrongly signed or altered cluster-info is refused', async () => {
  const f = await fixture();
  assert.throws(() => verifyClusterInfo({ kubeconfig: f.kubeconfig }, opts(f.pins)), { message: /token id "abcdef" is invalid for this cluster or it has expired/ });
  assert.throws(() => verifyClusterInfo(f.signed(f.kubeconfig, SECRET, 'zzzzzz'), opts(f.pins)), { message: /token id "abcdef" is invalid/ });
  assert.throws(() => verifyClusterInfo(f.signed(f.kubeconfig, 'ffffffffffffffff'), opts(f.pins)), { message: /failed to verify JWS signature/ });
  const altered = { ...f.signed(f.kubeconfig), kubeconfig: f.kubeconfig.replace(SERVER, 'https://10.6.6.6:6443') };
  assert.throws(() => verifyClusterInfo(altered, opts(f.pins)), { message: /failed to verify JWS signature/ });
  assert.throws(() => verifyClusterInfo({}, opts(f.pins)), { message: /there is no kubeconfig key in the cluster-info ConfigMap/ });
  assert.throws(() => verifyClusterInfo(undefined, opts(f.pins)), { message: /there is no kubeconfig key/ });
});

test('a CA whose key is not pinned is refused, even when the JWS is right', async () => {
  const f = await fixture();
  const theirs = clusterInfoKubeconfig(SERVER, f.other.certificate.pem);
  assert.throws(() => verifyClusterInfo(f.signed(theirs), opts(f.pins)), {
    message: new RegExp(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${publicKeyPin(f.other.certificate)}" are pinned`),
  });
});

test('a kubeconfig with several clusters, none, no CA or a non-https server is refused', async () => {
  const f = await fixture();
  const caData = Buffer.from(f.ca.certificate.pem).toString('base64');
  const doc = (clusters: unknown) => stringify({ apiVersion: 'v1', kind: 'Config', clusters });
  const cases: [string, string, RegExp][] = [
    ['two clusters', doc([{ name: 'a', cluster: { server: SERVER, 'certificate-authority-data': caData } }, { name: 'b', cluster: { server: 'https://10.6.6.6:6443', 'certificate-authority-data': caData } }]), /has 2 clusters; exactly one is expected/],
    ['no cluster', doc([]), /has 0 clusters/],
    ['no CA', doc([{ name: '', cluster: { server: SERVER } }]), /failed to parse cluster CA/],
    ['a CA that is not PEM', doc([{ name: '', cluster: { server: SERVER, 'certificate-authority-data': Buffer.from('hello').toString('base64') } }]), /failed to parse cluster CA/],
    ['plain http', doc([{ name: '', cluster: { server: 'http://10.0.0.1:8080', 'certificate-authority-data': caData } }]), /server is not an https:\/\/ URL/],
    ['not YAML', '{{{', /couldn't parse the kubeconfig file/],
  ];
  for (const [name, text, re] of cases) assert.throws(() => verifyClusterInfo(f.signed(text), opts(f.pins)), { message: re }, name);
});

test('the flags are checked before anything is asked: token form, pins, the unsafe opt-out, HOST:PORT', () => {
  const hash = `sha256:${'a'.repeat(64)}`;
  const ok = validateDiscoveryOptions({ endpoint: '127.0.0.1:6443', token: `${ID}.${SECRET}`, caCertHashes: [hash] });
  assert.equal(ok.url, 'https://127.0.0.1:6443');
  assert.equal(ok.tokenId, ID);
  assert.equal(validateDiscoveryOptions({ endpoint: '[::1]:6443', token: `${ID}.${SECRET}`, caCertHashes: [hash] }).url, 'https://[::1]:6443');
  assert.equal(validateDiscoveryOptions({ endpoint: 'https://cp.example:6443', token: `${ID}.${SECRET}`, caCertHashes: [hash] }).url, 'https://cp.example:6443');
  assert.throws(() => validateDiscoveryOptions({ endpoint: '127.0.0.1:6443', token: `${ID}.${SECRET}`, caCertHashes: [] }), { message: /without --discovery-token-ca-cert-hash can be unsafe; pass --discovery-token-unsafe-skip-ca-verification/ });
  assert.equal(validateDiscoveryOptions({ endpoint: '127.0.0.1:6443', token: `${ID}.${SECRET}`, caCertHashes: [], unsafeSkipCaVerification: true }).pins.size, 0);
  assert.throws(() => validateDiscoveryOptions({ endpoint: '127.0.0.1:6443', token: 'ABCDEF.0123456789abcdef', caCertHashes: [hash] }), { message: /--token: the token is not of the form/ });
  assert.throws(() => validateDiscoveryOptions({ endpoint: 'http://127.0.0.1:6443', token: `${ID}.${SECRET}`, caCertHashes: [hash] }), { message: /--server/ });
  assert.throws(() => validateDiscoveryOptions({ endpoint: '127.0.0.1:6443/api', token: `${ID}.${SECRET}`, caCertHashes: [hash] }), { message: /without a path/ });
  assert.throws(() => validateDiscoveryOptions({ endpoint: '127.0.0.1:6443', token: `${ID}.${SECRET}`, caCertHashes: ['md5:00'] }), { message: /unknown hash format/ });
});

test('the bootstrap kubeconfig written after discovery loads as the agent loads any bootstrap kubeconfig', async (t) => {
  const f = await fixture();
  const dir = await tempDir(t);
  const file = path.join(dir, 'bootstrap-kubelet.conf');
  await writeFile(file, renderBootstrapKubeconfig({ server: SERVER, caPem: f.ca.certificate.pem, token: `${ID}.${SECRET}` }));
  const kc = loadKubeconfig(file);
  assert.equal(kc.cluster.server, SERVER);
  assert.equal(kc.user.token, `${ID}.${SECRET}`);
  assert.equal(kc.cluster.caPem, f.ca.certificate.pem);
});
