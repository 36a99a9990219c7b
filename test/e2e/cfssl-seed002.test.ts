// Seed 002's whole cfssl walk-through, every command as the page gives it with `cfssl` replaced by
// `kubepki cfssl`, piped into the real `cfssljson -bare`, then judged by the real openssl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, stat, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { SEED002, certDates, certExt, certSubject, cfssljsonBare, openssl, publicKeyOf } from '../cfssl/helpers.js';

const H = 3_600_000;
const ETCD_NODE_IPS = '"10.0.0.11","10.0.0.12","10.0.0.13"';

/** One line of the page: `cfssl <args> | cfssljson -bare <name>`, run in `dir` (root or etcd/). */
interface Step {
  dir: '.' | 'etcd';
  args: string;
  name: string;
}

// In page order; each group only needs what the previous groups made.
const GROUPS: Step[][] = [
  [
    { dir: 'etcd', args: 'gencert -initca ca-csr.json', name: 'ca' },
    { dir: '.', args: 'gencert -initca ca-csr.json', name: 'ca' },
    { dir: '.', args: 'gencert -initca front-proxy-ca-csr.json', name: 'front-proxy-ca' },
  ],
  [
    { dir: 'etcd', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client healthcheck-client-csr.json', name: 'healthcheck-client' },
    { dir: 'etcd', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server peer-csr.json', name: 'peer' },
    { dir: 'etcd', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server server-csr.json', name: 'server' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server apiserver-csr.json', name: 'apiserver' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client apiserver-kubelet-client-csr.json', name: 'apiserver-kubelet-client' },
    { dir: '.', args: 'gencert -ca=etcd/ca.pem -ca-key=etcd/ca-key.pem -config=etcd/ca-config.json -profile=client apiserver-etcd-client-csr.json', name: 'apiserver-etcd-client' },
    { dir: '.', args: 'gencert -ca=front-proxy-ca.pem -ca-key=front-proxy-ca-key.pem -config=front-proxy-ca-config.json -profile=client front-proxy-client-csr.json', name: 'front-proxy-client' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client admin-csr.json', name: 'admin' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=server kubelet-csr.json', name: 'kubelet' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client scheduler-csr.json', name: 'scheduler' },
    { dir: '.', args: 'gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client controller-manager-csr.json', name: 'controller-manager' },
  ],
];

/** Lays the seed's files out as the page uses them, filling the .sed templates as a reader would. */
async function layout(root: string): Promise<void> {
  await mkdir(path.join(root, 'etcd'));
  await cp(path.join(SEED002(), 'kubernetes'), root, { recursive: true });
  await cp(path.join(SEED002(), 'etcd'), path.join(root, 'etcd'), { recursive: true });
  for (const n of ['peer', 'server']) {
    const tpl = await readFile(path.join(root, 'etcd', `${n}-csr.json.sed`), 'utf8');
    await writeFile(path.join(root, 'etcd', `${n}-csr.json`), tpl.replace('<ETCD_NODE_IPS>', ETCD_NODE_IPS));
  }
  const api = await readFile(path.join(root, 'apiserver-csr.json'), 'utf8');
  await writeFile(
    path.join(root, 'apiserver-csr.json'),
    api
      .replace('<MASTER_HOST_IPS>', '"10.0.0.11","10.0.0.12"')
      .replace('<MASTER_HOST_NAMES>', '"master1","master2"')
      .replace('<CLUSTER_SVC_IP>', '10.96.0.1')
      .replace('<VIP>', '10.0.0.100'),
  );
  // The page names the file kubelet-csr.json.json but runs the command on kubelet-csr.json.
  await copyFile(path.join(root, 'kubelet-csr.json.json'), path.join(root, 'kubelet-csr.json'));
}

test('seed 002: every cfssl command of the page, through kubepki and the real cfssljson, yields a PKI openssl accepts', async (t) => {
  const root = await tempDir(t);
  await layout(root);

  for (const group of GROUPS) {
    await Promise.all(
      group.map(async (s) => {
        const cwd = path.join(root, s.dir);
        const r = await kubepki(['cfssl', ...s.args.split(' ')], { cwd });
        assert.equal(r.code, 0, `${s.args}: ${r.stderr}`);
        assert.equal(r.stderr, '', `${s.args} printed on stderr`);
        assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ['cert', 'csr', 'key']);
        const j = await cfssljsonBare(r.stdout, s.name, cwd);
        assert.equal(j.code, 0, `cfssljson -bare ${s.name}: ${j.stderr}`);
        for (const f of [`${s.name}.pem`, `${s.name}-key.pem`, `${s.name}.csr`]) await stat(path.join(cwd, f));
        assert.equal((await stat(path.join(cwd, `${s.name}-key.pem`))).mode & 0o777, 0o600);
        // The key, the CSR and the certificate belong together.
        const certKey = await publicKeyOf(`${s.name}.pem`, 'cert', cwd);
        assert.equal(await publicKeyOf(`${s.name}-key.pem`, 'key', cwd), certKey, `${s.name}: key/cert mismatch`);
        assert.equal(await publicKeyOf(`${s.name}.csr`, 'csr', cwd), certKey, `${s.name}: csr/cert mismatch`);
        const v = await openssl(['req', '-in', `${s.name}.csr`, '-noout', '-verify'], cwd);
        assert.equal(v.code, 0, `${s.name}.csr: ${v.stderr}`);
        assert.match(await readFile(path.join(cwd, `${s.name}-key.pem`), 'utf8'), /^-----BEGIN RSA PRIVATE KEY-----/);
      }),
    );
  }

  const at = (f: string) => path.join(root, f);
  const verify = async (ca: string, cert: string, purpose: 'sslserver' | 'sslclient') =>
    (await openssl(['verify', '-purpose', purpose, '-CAfile', at(ca), at(cert)])).code === 0;

  // CAs: self-signed, cert sign + crl sign, CA:TRUE; etcd's without "ca.expiry" gets cfssl's 5 years.
  for (const [ca, cn, hours] of [['etcd/ca.pem', 'etcd-ca', 43800], ['ca.pem', 'kubernetes-ca', 876000], ['front-proxy-ca.pem', 'kubernetes-front-proxy-ca', 876000]] as const) {
    assert.equal(await certSubject(at(ca)), `subject=CN = ${cn}\nissuer=CN = ${cn}\n`);
    const ext = await certExt(at(ca), 'basicConstraints,keyUsage');
    assert.match(ext, /CA:TRUE/);
    assert.match(ext, /Certificate Sign, CRL Sign/);
    const d = await certDates(at(ca));
    assert.equal(d.notAfter.getTime() - d.notBefore.getTime(), hours * H, ca);
    assert.equal((await openssl(['verify', '-CAfile', at(ca), at(ca)])).code, 0, `${ca} verifies as its own root`);
  }

  const leaves: { file: string; ca: string; subject: string; server: boolean; sans?: string }[] = [
    { file: 'etcd/healthcheck-client.pem', ca: 'etcd/ca.pem', subject: 'CN = kube-etcd-healthcheck-client', server: false },
    { file: 'etcd/peer.pem', ca: 'etcd/ca.pem', subject: 'CN = kube-etcd-peer', server: true, sans: 'DNS:localhost, IP Address:127.0.0.1, IP Address:10.0.0.11, IP Address:10.0.0.12, IP Address:10.0.0.13' },
    { file: 'etcd/server.pem', ca: 'etcd/ca.pem', subject: 'CN = kube-etcd', server: true, sans: 'DNS:localhost, IP Address:127.0.0.1, IP Address:10.0.0.11, IP Address:10.0.0.12, IP Address:10.0.0.13' },
    {
      file: 'apiserver.pem', ca: 'ca.pem', subject: 'CN = kube-apiserver', server: true,
      sans: 'DNS:localhost, DNS:master1, DNS:master2, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster, DNS:kubernetes.default.svc.cluster.local, IP Address:127.0.0.1, IP Address:10.0.0.11, IP Address:10.0.0.12, IP Address:10.96.0.1, IP Address:10.0.0.100',
    },
    { file: 'apiserver-kubelet-client.pem', ca: 'ca.pem', subject: 'O = system:masters, CN = kube-apiserver-kubelet-client', server: false },
    { file: 'apiserver-etcd-client.pem', ca: 'etcd/ca.pem', subject: 'O = system:masters, CN = kube-apiserver-etcd-client', server: false },
    { file: 'front-proxy-client.pem', ca: 'front-proxy-ca.pem', subject: 'CN = front-proxy-client', server: false },
    { file: 'admin.pem', ca: 'ca.pem', subject: 'O = system:masters, CN = kubernetes-admin', server: false },
    // The page's kubelet request keeps its placeholders; cfssl turns "HOST_IP" into a DNS name, and so do we.
    { file: 'kubelet.pem', ca: 'ca.pem', subject: 'O = system:nodes, CN = "system:node:<nodeName>"', server: true, sans: 'DNS:localhost, DNS:HOST_IP, IP Address:127.0.0.1' },
    { file: 'scheduler.pem', ca: 'ca.pem', subject: 'CN = system:kube-scheduler', server: false },
    { file: 'controller-manager.pem', ca: 'ca.pem', subject: 'CN = system:kube-controller-manager', server: false },
  ];
  const caSubject: Record<string, string> = { 'ca.pem': 'kubernetes-ca', 'etcd/ca.pem': 'etcd-ca', 'front-proxy-ca.pem': 'kubernetes-front-proxy-ca' };
  await Promise.all(
    leaves.map(async (l) => {
      assert.equal(await certSubject(at(l.file)), `subject=${l.subject}\nissuer=CN = ${caSubject[l.ca]}\n`);
      assert.ok(await verify(l.ca, l.file, 'sslclient'), `${l.file} is a client certificate of ${l.ca}`);
      assert.equal(await verify(l.ca, l.file, 'sslserver'), l.server, `${l.file} sslserver`);
      for (const other of Object.keys(caSubject).filter((c) => c !== l.ca)) {
        assert.equal(await verify(other, l.file, 'sslclient'), false, `${l.file} must not verify against ${other}`);
      }
      const ext = await certExt(at(l.file), 'keyUsage,extendedKeyUsage,basicConstraints,subjectAltName,subjectKeyIdentifier,authorityKeyIdentifier');
      assert.match(ext, /Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
      assert.match(ext, l.server ? /TLS Web Server Authentication, TLS Web Client Authentication/ : /Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
      assert.match(ext, /CA:FALSE/);
      assert.match(ext, /Subject Key Identifier/);
      assert.match(ext, /Authority Key Identifier/);
      if (l.sans) assert.match(ext, new RegExp(`Subject Alternative Name: \\n\\s+${l.sans.replace(/[.]/g, '\\.')}\\n`));
      else assert.doesNotMatch(ext, /Subject Alternative Name/);
      const d = await certDates(at(l.file));
      assert.equal(d.notAfter.getTime() - d.notBefore.getTime(), 876000 * H, `${l.file}: 876000h as the profile says`);
    }),
  );

  // The page's last step: rename to kubeadm's .crt/.key names; the PKI still verifies under those names.
  const rename = 'for f in *-key.pem; do mv "$f" "${f%-key.pem}.key"; done; for f in *.pem; do mv "$f" "${f%.pem}.crt"; done';
  assert.equal((await run('bash', ['-c', `${rename}; cd etcd && ${rename}`], { cwd: root })).code, 0);
  assert.ok((await readdir(root)).includes('apiserver.key'));
  assert.ok(await verify('ca.crt', 'apiserver.crt', 'sslserver'));
  assert.ok(await verify('etcd/ca.crt', 'etcd/server.crt', 'sslserver'));
  assert.ok(await verify('etcd/ca.crt', 'apiserver-etcd-client.crt', 'sslclient'));
});

test('seed 002: the templates as they stand (placeholders unfilled) are refused by kubepki as by cfssl, with one line', async (t) => {
  const root = await tempDir(t);
  await layout(root);
  const raw = path.join(SEED002(), 'kubernetes', 'apiserver-csr.json');
  for (const f of [path.join(SEED002(), 'etcd', 'peer-csr.json.sed'), path.join(SEED002(), 'etcd', 'server-csr.json.sed'), raw]) {
    const args = ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem', '-config=ca-config.json', '-profile=server', f];
    const mine = await kubepki(['cfssl', ...args], { cwd: root });
    const theirs = await run('/usr/bin/cfssl', args, { cwd: root });
    assert.notEqual(theirs.code, 0, 'cfssl refuses it too');
    assert.notEqual(mine.code, 0);
    assert.equal(mine.stdout, '');
    assert.match(mine.stderr, new RegExp(`^error: ${f.replace(/[.]/g, '\\.')}: invalid JSON: unexpected "<" at line \\d+, column \\d+ \\(expected a value\\)\\n$`));
  }
});
