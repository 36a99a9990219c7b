// The etcd certificates `kubepki init` makes, used by a real 3-member etcd cluster on loopback with mutual TLS
// on the client and peer ports: apiserver-etcd-client and etcd-healthcheck-client are accepted, a client
// certificate from another CA (or none) is rejected, and a peer needs a certificate from the etcd CA.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { kubepki, run } from '../helpers/cli.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';

let root: string;
let cluster: EtcdCluster | undefined;
const memberDirs: string[] = [];
let foreignPki: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'kubepki-e2e-etcd-'));
  // Member 0 creates the PKI; members 1 and 2 get only the etcd CA and let init sign their own server and peer
  // certificates with it (an existing CA signs missing leaves), each with its own node name.
  for (let i = 0; i < 3; i++) {
    const dir = path.join(root, `member-${i}`);
    memberDirs.push(dir);
    if (i > 0) {
      await fs.mkdir(path.join(dir, 'pki', 'etcd'), { recursive: true });
      for (const f of ['ca.crt', 'ca.key']) await fs.copyFile(path.join(memberDirs[0]!, 'pki', 'etcd', f), path.join(dir, 'pki', 'etcd', f));
    }
    const r = await kubepki(['init', '--cert-dir', path.join(dir, 'pki'), '--kubeconfig-dir', dir, '--node-name', `etcd-${i}`, '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
    assert.equal(r.code, 0, r.stderr);
  }
  // Another cluster's PKI: its certificates must be refused.
  foreignPki = path.join(root, 'foreign', 'pki');
  const f = await kubepki(['init', '--cert-dir', foreignPki, '--kubeconfig-dir', path.join(root, 'foreign'), '--node-name', 'etcd-0', '--apiserver-advertise-address', '127.0.0.1', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(f.code, 0, f.stderr);

  const etcdFile = (i: number, name: string) => path.join(memberDirs[i]!, 'pki', 'etcd', name);
  cluster = await startEtcd({
    members: 3,
    dataDir: root,
    tls: {
      server: (i) => ({ certFile: etcdFile(i, 'server.crt'), keyFile: etcdFile(i, 'server.key'), trustedCaFile: etcdFile(i, 'ca.crt'), clientCertAuth: true }),
      peer: (i) => ({ certFile: etcdFile(i, 'peer.crt'), keyFile: etcdFile(i, 'peer.key'), trustedCaFile: etcdFile(i, 'ca.crt'), clientCertAuth: true }),
    },
    startTimeoutMs: 30_000,
  });
});

after(async () => {
  await cluster?.stop();
  await rm(root, { recursive: true, force: true });
});

const pki0 = (name: string) => path.join(memberDirs[0]!, 'pki', name);

function etcdctl(endpoints: string[], tls: { cacert: string; cert?: string; key?: string; expectFailure?: boolean }, ...args: string[]) {
  // A refused handshake shows up as a dial timeout: keep it short where refusal is what is expected.
  const timeouts = tls.expectFailure ? ['--dial-timeout=1s', '--command-timeout=2s'] : ['--dial-timeout=3s', '--command-timeout=5s'];
  const flags = [`--endpoints=${endpoints.join(',')}`, `--cacert=${tls.cacert}`, ...timeouts];
  if (tls.cert) flags.push(`--cert=${tls.cert}`, `--key=${tls.key}`);
  return run('etcdctl', [...flags, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeoutMs: 20_000 });
}

test('the three members formed one cluster over mutually authenticated peer TLS', async () => {
  const r = await etcdctl(cluster!.clientUrls, { cacert: pki0('etcd/ca.crt'), cert: pki0('apiserver-etcd-client.crt'), key: pki0('apiserver-etcd-client.key') }, 'member', 'list', '-w', 'json');
  assert.equal(r.code, 0, r.stderr);
  const members = JSON.parse(r.stdout).members as { name: string; peerURLs: string[] }[];
  assert.equal(members.length, 3);
  assert.deepEqual(members.map((m) => m.peerURLs[0]).sort(), [...cluster!.peerUrls].sort());
  assert.ok(cluster!.peerUrls.every((u) => u.startsWith('https://')));
});

test('apiserver-etcd-client writes through one member and reads through another', async () => {
  const tls = { cacert: pki0('etcd/ca.crt'), cert: pki0('apiserver-etcd-client.crt'), key: pki0('apiserver-etcd-client.key') };
  const put = await etcdctl([cluster!.clientUrls[0]!], tls, 'put', '/registry/kubepki/probe', 'hello');
  assert.equal(put.code, 0, put.stderr);
  assert.equal(put.stdout.trim(), 'OK');
  const get = await etcdctl([cluster!.clientUrls[2]!], tls, 'get', '/registry/kubepki/probe', '--print-value-only', '--consistency=l');
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout.trim(), 'hello');
});

test('etcd-healthcheck-client passes the health check on every member', async () => {
  const r = await etcdctl(cluster!.clientUrls, { cacert: pki0('etcd/ca.crt'), cert: pki0('etcd/healthcheck-client.crt'), key: pki0('etcd/healthcheck-client.key') }, 'endpoint', 'health');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((r.stdout + r.stderr).match(/is healthy/g)?.length, 3);
});

test('a client certificate from another CA, or no client certificate, is rejected', async () => {
  const endpoint = [cluster!.clientUrls[1]!];
  // The kubernetes CA's client certificate (right cluster, wrong CA for etcd).
  const wrongCa = await etcdctl(endpoint, { cacert: pki0('etcd/ca.crt'), cert: pki0('apiserver-kubelet-client.crt'), key: pki0('apiserver-kubelet-client.key'), expectFailure: true }, 'get', '/registry/kubepki/probe');
  assert.notEqual(wrongCa.code, 0);
  assert.match(wrongCa.stderr, /bad certificate|certificate required|unknown authority|context deadline exceeded|tls/i);
  // Another cluster's apiserver-etcd-client.
  const foreign = await etcdctl(endpoint, { cacert: pki0('etcd/ca.crt'), cert: path.join(foreignPki, 'apiserver-etcd-client.crt'), key: path.join(foreignPki, 'apiserver-etcd-client.key'), expectFailure: true }, 'get', '/registry/kubepki/probe');
  assert.notEqual(foreign.code, 0);
  const none = await etcdctl(endpoint, { cacert: pki0('etcd/ca.crt'), expectFailure: true }, 'get', '/registry/kubepki/probe');
  assert.notEqual(none.code, 0);
  // And the client must trust the etcd CA: another CA does not verify the member's server certificate.
  const untrusted = await etcdctl(endpoint, { cacert: path.join(foreignPki, 'etcd', 'ca.crt'), cert: pki0('apiserver-etcd-client.crt'), key: pki0('apiserver-etcd-client.key'), expectFailure: true }, 'get', '/registry/kubepki/probe');
  assert.notEqual(untrusted.code, 0);
});

function peerGet(url: string, cert: string, key: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    Promise.all([fs.readFile(cert), fs.readFile(key), fs.readFile(ca)]).then(([c, k, a]) => {
      const req = https.get(`${url}/members`, { cert: c, key: k, ca: a, timeout: 5000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    }, reject);
  });
}

test('the peer port accepts a peer certificate of the etcd CA and refuses one from another CA', async () => {
  const url = cluster!.peerUrls[0]!;
  const ok = await peerGet(url, path.join(memberDirs[1]!, 'pki', 'etcd', 'peer.crt'), path.join(memberDirs[1]!, 'pki', 'etcd', 'peer.key'), pki0('etcd/ca.crt'));
  assert.equal(ok.status, 200);
  assert.equal(JSON.parse(ok.body).length, 3);
  await assert.rejects(peerGet(url, path.join(foreignPki, 'etcd', 'peer.crt'), path.join(foreignPki, 'etcd', 'peer.key'), pki0('etcd/ca.crt')), /certificate|alert|socket hang up|ECONNRESET/i);
});
