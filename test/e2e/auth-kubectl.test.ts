// The authentication chain and RBAC of `kubepki serve`, driven by the real kubectl and raw HTTPS: every
// kind of credential (client certificate, static token, bootstrap token, `kubectl create token`, legacy
// Secret token, front-proxy headers), `auth whoami` / `auth can-i`, the reviews, signer permissions for CSR
// approval, and the attacks of issue 4 failing closed with 401/403 Status objects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFile, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { kubepki } from '../helpers/cli.js';
import { httpsRequest, kubectlWith, startServe } from '../api/helpers.js';
import { generateKeyPair, issueCertificate, parseCertificatePem, parsePrivateKeyPem, parseUsages, privateKeyToPem } from '../../src/x509/index.js';
import { until } from '../helpers/poll.js';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';

async function issueClient(caCertFile: string, caKeyFile: string, cn: string, organization: string[] = []) {
  const ca = { certificate: parseCertificatePem(await readFile(caCertFile, 'utf8')), privateKey: parsePrivateKeyPem(await readFile(caKeyFile, 'utf8')) };
  const kp = await generateKeyPair('ECDSA-P256');
  const now = new Date();
  const cert = await issueCertificate({
    template: {
      subject: { commonName: cn, ...(organization.length ? { organization } : {}) },
      notBefore: new Date(now.getTime() - 60_000),
      notAfter: new Date(now.getTime() + 3_600_000),
      ...parseUsages(['digital signature', 'key encipherment', 'client auth']),
    },
    publicKey: kp.publicKey,
    issuer: ca,
  });
  return { cert: cert.pem, key: privateKeyToPem(kp.privateKey) };
}

test('kubepki serve authenticates every kind of credential and authorizes with RBAC, failing closed', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-auth-');
  const dataDir = path.join(dir, 'data');
  const tokenFile = path.join(dir, 'tokens.csv');
  await writeFile(tokenFile, 'alice-static-token-0001,alice,1001,"dev,ops"\napprover-token-0002,approver,1002\n');
  const serve = await startServe(t, ['--token-auth-file', tokenFile, '--log-level', 'info'], { dataDir, port: await freePort() });
  const pki = (f: string) => path.join(dataDir, 'pki', f);
  const admin = kubectlWith(serve.kubeconfig, path.join(dir, 'kcache'));
  const asToken = (token: string) => (args: string[], input?: string) =>
    kubectlWith(path.join(dir, 'none.conf'), path.join(dir, 'kcache'))(['--server', serve.url, '--certificate-authority', pki('ca.crt'), '--token', token, ...args], input);
  await writeFile(path.join(dir, 'none.conf'), 'apiVersion: v1\nkind: Config\n');
  const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>) => {
    const r = await p;
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const ca = await readFile(pki('ca.crt'), 'utf8');
  const raw = (method: string, p: string, o: { cert?: { cert: string; key: string }; headers?: Record<string, string>; body?: unknown } = {}) => {
    const agent = new https.Agent({ ca, ...(o.cert ?? {}) });
    t.after(() => agent.destroy());
    return httpsRequest(serve.url, method, p, { agent, ...(o.headers ? { headers: o.headers } : {}), ...(o.body ? { body: o.body } : {}) });
  };
  /** Waits for a server log line (stderr arrives through a pipe, after the response). */
  const logged = async (re: RegExp) => {
    await until(() => re.test(serve.stderr()), `serve to log ${re}`, { intervalMs: 50 }).catch(() => undefined);
    assert.match(serve.stderr(), re);
  };
  const whoamiBody = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' };
  const assert401 = (r: { status: number; json: { kind?: string; reason?: string; code?: number } }) => {
    assert.equal(r.status, 401);
    assert.deepEqual([r.json.kind, r.json.reason, r.json.code], ['Status', 'Unauthorized', 401]);
  };

  await t.test('client certificate: admin.conf is kubernetes-admin in kubeadm:cluster-admins, allowed through cluster-admin', async () => {
    const out = await ok(admin(['auth', 'whoami']));
    assert.match(out, /Username\s+kubernetes-admin/);
    assert.match(out, /Groups\s+\[kubeadm:cluster-admins system:authenticated\]/);
    assert.equal((await ok(admin(['auth', 'can-i', 'list', 'secrets', '-n', 'kube-system']))).trim(), 'yes');
  });

  await t.test('the bootstrap policy and the extension-apiserver-authentication ConfigMap are published', async () => {
    const crs = await ok(admin(['get', 'clusterroles', '-o', 'name']));
    for (const n of ['system:node-bootstrapper', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'system:certificates.k8s.io:kube-apiserver-client-approver']) {
      assert.match(crs, new RegExp(`clusterrole.rbac.authorization.k8s.io/${n.replace(/[.]/g, '\\.')}\\n`));
    }
    const cm = JSON.parse(await ok(admin(['get', 'cm', '-n', 'kube-system', 'extension-apiserver-authentication', '-o', 'json'])));
    assert.equal(cm.data['requestheader-allowed-names'], '["front-proxy-client"]');
    assert.equal(cm.data['requestheader-username-headers'], '["X-Remote-User"]');
    assert.equal(cm.data['client-ca-file'].trim(), ca.trim());
    assert.equal(cm.data['requestheader-client-ca-file'].trim(), (await readFile(pki('front-proxy-ca.crt'), 'utf8')).trim());
  });

  await t.test('static token file: alice with her groups; Forbidden word for word outside her rights', async () => {
    const alice = asToken('alice-static-token-0001');
    const out = await ok(alice(['auth', 'whoami']));
    assert.match(out, /Username\s+alice/);
    assert.match(out, /UID\s+1001/);
    assert.match(out, /Groups\s+\[dev ops system:authenticated\]/);
    assert.equal((await alice(['auth', 'can-i', 'list', 'secrets', '-n', 'kube-system'])).stdout.trim(), 'no');
    const r = await alice(['get', 'secrets', '-n', 'kube-system']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(Forbidden\): secrets is forbidden: User "alice" cannot list resource "secrets" in API group "" in the namespace "kube-system"/);
    const nodes = await alice(['get', 'csr']);
    assert.match(nodes.stderr, /User "alice" cannot list resource "certificatesigningrequests" in API group "certificates.k8s.io" at the cluster scope/);
  });

  let bootstrapToken = '';
  await t.test('kubepki token create: a bootstrap token that may create CSRs and ask for node-client approval', async () => {
    const created = await kubepki(['token', 'create', '--kubeconfig', serve.kubeconfig, '--description', 'e2e node']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^[a-z0-9]{6}\.[a-z0-9]{16}\n$/);
    bootstrapToken = created.stdout.trim();
    const boot = asToken(bootstrapToken);
    let who = await boot(['auth', 'whoami']);
    for (let i = 0; i < 40 && who.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      who = await boot(['auth', 'whoami']);
    }
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, new RegExp(`Username\\s+system:bootstrap:${bootstrapToken.slice(0, 6)}`));
    assert.match(who.stdout, /Groups\s+\[system:bootstrappers system:bootstrappers:kubeadm:default-node-token system:authenticated\]/);
    assert.equal((await ok(boot(['auth', 'can-i', 'create', 'certificatesigningrequests']))).trim(), 'yes');
    assert.equal((await ok(boot(['auth', 'can-i', 'create', 'certificatesigningrequests', '--subresource', 'nodeclient']))).trim(), 'yes');
    assert.equal((await boot(['auth', 'can-i', 'get', 'secrets', '-n', 'kube-system'])).stdout.trim(), 'no');
    // The same token again: refused as kubeadm refuses it, and the first one is left as it was (its description).
    const again = await kubepki(['token', 'create', bootstrapToken, '--kubeconfig', serve.kubeconfig]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `error: a token with id "${bootstrapToken.slice(0, 6)}" already exists\n`);
    const list = await kubepki(['token', 'list', '--kubeconfig', serve.kubeconfig]);
    assert.match(list.stdout, new RegExp(`${bootstrapToken.replace('.', '\\.')}\\s+23h\\s+\\S+Z\\s+authentication,signing\\s+e2e node\\s+system:bootstrappers:kubeadm:default-node-token`));
    const rules = await ok(boot(['auth', 'can-i', '--list']));
    assert.match(rules, /certificatesigningrequests\.certificates\.k8s\.io\s+\[\]\s+\[\]\s+\[create get list watch\]/);
  });

  await t.test('a CSR that claims spec.username system:node:x is recorded with the real requester', async () => {
    const { execFileSync } = await import('node:child_process');
    const key = path.join(dir, 'n.key');
    const csr = path.join(dir, 'n.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/O=system:nodes/CN=system:node:x', '-out', csr], { stdio: 'ignore' });
    const manifest = JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'node-x' },
      spec: {
        request: (await readFile(csr)).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
        usages: ['digital signature', 'client auth'],
        username: 'system:node:x',
        groups: ['system:nodes', 'system:masters'],
      },
    });
    await ok(asToken(bootstrapToken)(['create', '-f', '-'], manifest));
    const got = JSON.parse(await ok(admin(['get', 'csr', 'node-x', '-o', 'json'])));
    assert.equal(got.spec.username, `system:bootstrap:${bootstrapToken.slice(0, 6)}`);
    assert.deepEqual(got.spec.groups, ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated']);
  });

  await t.test('approving a CSR needs approve on its signer (exact or <domain>/*); without it kube\'s admission message', async () => {
    const { execFileSync } = await import('node:child_process');
    const key = path.join(dir, 's.key');
    const csr = path.join(dir, 's.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=my-svc', '-out', csr], { stdio: 'ignore' });
    await ok(admin(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'svc-1' },
      spec: { request: (await readFile(csr)).toString('base64'), signerName: 'example.com/serving', usages: ['digital signature', 'server auth'] },
    })));
    await ok(admin(['create', 'clusterrole', 'csr-approval-only', '--verb=get,list,update', '--resource=certificatesigningrequests,certificatesigningrequests/approval']));
    await ok(admin(['create', 'clusterrolebinding', 'approver-1', '--clusterrole=csr-approval-only', '--user=approver']));
    const approver = asToken('approver-token-0002');
    let r = await approver(['certificate', 'approve', 'svc-1']);
    for (let i = 0; i < 40 && /cannot get resource/.test(r.stderr); i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await approver(['certificate', 'approve', 'svc-1']);
    }
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificatesigningrequests\.certificates\.k8s\.io "svc-1" is forbidden: user not permitted to approve requests with signerName "example\.com\/serving"/);
    assert.match(await ok(admin(['get', 'csr', 'svc-1'])), /Pending/);
    await ok(admin(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'example-approver' },
      rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: ['example.com/*'], verbs: ['approve'] }],
    })));
    await ok(admin(['create', 'clusterrolebinding', 'approver-2', '--clusterrole=example-approver', '--user=approver']));
    let done = await approver(['certificate', 'approve', 'svc-1']);
    for (let i = 0; i < 40 && done.code !== 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      done = await approver(['certificate', 'approve', 'svc-1']);
    }
    assert.equal(done.code, 0, done.stderr);
    assert.match(await ok(admin(['get', 'csr', 'svc-1'])), /Approved/);
  });

  // --validate=false: for kinds without PATCH, kubectl checks server-side validation in OpenAPI v2, which
  // kubepki does not serve (v3 only).
  await t.test('SubjectAccessReview and TokenReview through kubectl create', async () => {
    const sar = JSON.parse(
      await ok(
        admin(['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: 'system:bootstrap:abcdef', groups: ['system:bootstrappers:kubeadm:default-node-token'], resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: 'nodeclient', verb: 'create' } },
        })),
      ),
    );
    assert.equal(sar.status.allowed, true);
    const tr = JSON.parse(await ok(admin(['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'alice-static-token-0001' } }))));
    assert.equal(tr.status.authenticated, true);
    assert.equal(tr.status.user.username, 'alice');
    const bad = JSON.parse(await ok(admin(['create', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'nope' } }))));
    assert.equal(bad.status.authenticated, undefined);
    assert.equal(bad.status.error, 'invalid bearer token');
  });

  await t.test('kubectl create token: a bound service-account token; a deleted and re-created account\'s old token fails', async () => {
    await ok(admin(['create', 'sa', 'builder']));
    const token = (await ok(admin(['create', 'token', 'builder', '--duration', '15m']))).trim();
    const sa = asToken(token);
    const out = await ok(sa(['auth', 'whoami']));
    assert.match(out, /Username\s+system:serviceaccount:default:builder/);
    assert.match(out, /Groups\s+\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]/);
    assert.match(out, /authentication\.kubernetes\.io\/credential-id\s+\[JTI=/);
    const short = await admin(['create', 'token', 'builder', '--duration', '1m']);
    assert.notEqual(short.code, 0);
    assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
    await ok(admin(['delete', 'sa', 'builder']));
    await ok(admin(['create', 'sa', 'builder']));
    const r = await sa(['get', 'ns']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized/);
  });

  await t.test('a legacy service-account-token Secret is filled with token, ca.crt and namespace, and the token works', async () => {
    await ok(admin(['create', 'sa', 'legacy']));
    await ok(admin(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'legacy-token', annotations: { 'kubernetes.io/service-account.name': 'legacy' } },
      type: 'kubernetes.io/service-account-token',
    })));
    let secret: { data?: Record<string, string>; metadata: { annotations: Record<string, string> } } = { metadata: { annotations: {} } };
    for (let i = 0; i < 60 && !secret.data?.['token']; i++) {
      secret = JSON.parse(await ok(admin(['get', 'secret', 'legacy-token', '-o', 'json'])));
      if (!secret.data?.['token']) await new Promise((r) => setTimeout(r, 50));
    }
    const dec = (k: string) => Buffer.from(secret.data![k]!, 'base64').toString();
    assert.equal(dec('namespace'), 'default');
    assert.equal(dec('ca.crt').trim(), ca.trim());
    assert.ok(secret.metadata.annotations['kubernetes.io/service-account.uid']);
    assert.match(await ok(asToken(dec('token'))(['auth', 'whoami'])), /system:serviceaccount:default:legacy/);
    await ok(admin(['delete', 'secret', 'legacy-token']));
    let gone = await asToken(dec('token'))(['get', 'ns']);
    for (let i = 0; i < 40 && gone.code === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      gone = await asToken(dec('token'))(['get', 'ns']);
    }
    assert.match(gone.stderr, /Unauthorized/);
  });

  await t.test('forged service-account tokens: another key, alg none, HS256 keyed with sa.pub', async () => {
    const claims = { 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'builder', uid: 'x' } } };
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256' }).setIssuer(ISSUER).setAudience(ISSUER).setSubject('system:serviceaccount:default:builder').setIssuedAt().setExpirationTime('1h').sign(other.privateKey);
    const none = new UnsecuredJWT(claims).setIssuer(ISSUER).setAudience(ISSUER).setSubject('system:serviceaccount:default:builder').setExpirationTime('1h').encode();
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(ISSUER).setExpirationTime('1h').sign(new Uint8Array(await readFile(pki('sa.pub'))));
    for (const token of [foreign, none, hs]) assert401(await raw('GET', '/api/v1/namespaces', { headers: { authorization: `Bearer ${token}` } }));
  });

  await t.test('expired and deleted bootstrap tokens are refused', async () => {
    const past = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await ok(admin(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bootstrap-token-exp123', namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: { 'token-id': 'exp123', 'token-secret': '0123456789abcdef', 'usage-bootstrap-authentication': 'true', expiration: past },
    })));
    await new Promise((r) => setTimeout(r, 200));
    assert401(await raw('GET', '/api/v1/namespaces', { headers: { authorization: 'Bearer exp123.0123456789abcdef' } }));
    const del = await kubepki(['token', 'delete', bootstrapToken, '--kubeconfig', serve.kubeconfig]);
    assert.equal(del.stdout, `bootstrap token "${bootstrapToken.slice(0, 6)}" deleted\n`);
    let r = await raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { headers: { authorization: `Bearer ${bootstrapToken}` }, body: whoamiBody });
    for (let i = 0; i < 40 && r.status !== 401; i++) {
      await new Promise((res) => setTimeout(res, 50));
      r = await raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { headers: { authorization: `Bearer ${bootstrapToken}` }, body: whoamiBody });
    }
    assert401(r);
  });

  await t.test('front proxy: the proxy certificate\'s X-Remote-* headers are the identity', async () => {
    const proxy = { cert: await readFile(pki('front-proxy-client.crt'), 'utf8'), key: await readFile(pki('front-proxy-client.key'), 'utf8') };
    const r = await raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      cert: proxy,
      headers: { 'X-Remote-User': 'carol', 'X-Remote-Group': 'team-a', 'X-Remote-Extra-Acme.com%2fscopes': 'read' },
      body: whoamiBody,
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.json.status.userInfo, { username: 'carol', groups: ['team-a', 'system:authenticated'], extra: { 'acme.com/scopes': ['read'] } });
    const forbidden = await raw('GET', '/api/v1/namespaces/kube-system/secrets', { cert: proxy, headers: { 'X-Remote-User': 'carol' } });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.message, 'secrets is forbidden: User "carol" cannot list resource "secrets" in API group "" in the namespace "kube-system"');
  });

  await t.test('attacks on the front proxy: headers with a plain client certificate, an allowed-name certificate from the wrong CA, a wrong CN', async () => {
    const headers = { 'X-Remote-User': 'mallory', 'X-Remote-Group': 'system:masters' };
    const plain = await issueClient(pki('ca.crt'), pki('ca.key'), 'dave', ['dev']);
    const a = await raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { cert: plain, headers, body: whoamiBody });
    assert.equal(a.json.status.userInfo.username, 'dave', 'the headers are ignored: the certificate is the identity');
    const wrongCA = await issueClient(pki('ca.crt'), pki('ca.key'), 'front-proxy-client');
    const b = await raw('GET', '/api/v1/namespaces/kube-system/secrets', { cert: wrongCA, headers });
    assert.equal(b.status, 403);
    assert.match(b.json.message, /User "front-proxy-client" cannot list resource "secrets"/);
    const wrongCN = await issueClient(pki('front-proxy-ca.crt'), pki('front-proxy-ca.key'), 'kube-front-client');
    assert401(await raw('GET', '/api/v1/namespaces', { cert: wrongCN, headers }));
    await logged(/subject with cn=kube-front-client/);
    assert.match(serve.stderr(), /Unable to authenticate the request due to an error: \[x509: subject with cn=kube-front-client is not in the allowed list, verifying certificate .* failed: x509: certificate signed by unknown authority\]/);
  });

  await t.test('Node authorization (the --data-dir default Node,RBAC): a node certificate may create CSRs, not read secrets', async () => {
    const node = await issueClient(pki('ca.crt'), pki('ca.key'), 'system:node:n7', ['system:nodes']);
    const { execFileSync } = await import('node:child_process');
    const csr = path.join(dir, 'n7.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'n7.key'), '-subj', '/O=system:nodes/CN=system:node:n7', '-out', csr], { stdio: 'ignore' });
    const created = await raw('POST', '/apis/certificates.k8s.io/v1/certificatesigningrequests', {
      cert: node,
      body: {
        apiVersion: 'certificates.k8s.io/v1',
        kind: 'CertificateSigningRequest',
        metadata: { generateName: 'n7-' },
        spec: { request: (await readFile(csr)).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.spec.username, 'system:node:n7');
    const secrets = await raw('GET', '/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef', { cert: node });
    assert.equal(secrets.status, 403);
    assert.equal(
      secrets.json.message,
      `secrets "bootstrap-token-abcdef" is forbidden: User "system:node:n7" cannot get resource "secrets" in API group "" in the namespace "kube-system": no relationship found between node 'n7' and this object`,
    );
  });

  await t.test("NodeRestriction on Leases: a node creates its own heartbeat and trust-report Leases, never another node's", async () => {
    const node = await issueClient(pki('ca.crt'), pki('ca.key'), 'system:node:n8', ['system:nodes']);
    const lease = (name: string, namespace = 'kube-node-lease') => ({
      cert: node,
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: { holderIdentity: name, leaseDurationSeconds: 40 } },
    });
    const other = await raw('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n9'));
    assert.equal(other.status, 403, other.text);
    assert.equal(other.json.reason, 'Forbidden');
    assert.equal(other.json.message, 'leases.coordination.k8s.io "n9" is forbidden: can only access node lease with the same name as the requesting node');
    const otherReport = await raw('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n9-custom-ca-trust'));
    assert.equal(otherReport.status, 403, otherReport.text);
    for (const own of ['n8', 'n8-custom-ca-trust']) {
      const r = await raw('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease(own));
      assert.equal(r.status, 201, r.text);
    }
    // The other node's Lease was never written.
    assert.equal((await admin(['get', 'lease', 'n9', '-n', 'kube-node-lease'])).code, 1);
  });

  await t.test('a client certificate from an untrusted CA is a 401 Status, never anonymous', async () => {
    const { execFileSync } = await import('node:child_process');
    const other = path.join(dir, 'other');
    execFileSync('sh', ['-c', `mkdir -p ${other} && cd ${other} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -subj /CN=evil-ca -days 1`], { stdio: 'ignore' });
    const evil = await issueClient(path.join(other, 'ca.crt'), path.join(other, 'ca.key'), 'root', ['system:masters']);
    assert401(await raw('GET', '/api/v1/namespaces', { cert: evil }));
  });

  await t.test('anonymous: public info and cluster-info only; a bad token is never anonymous; logs never hold tokens', async () => {
    // The bootstrap signer may already have published cluster-info; create it only if it is not there.
    const made = await admin(['create', 'configmap', 'cluster-info', '-n', 'kube-public', '--from-literal=kubeconfig=x']);
    assert.ok(made.code === 0 || /already exists/.test(made.stderr), made.stderr);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await raw('GET', '/healthz')).status, 200);
    assert.equal((await raw('GET', '/api/v1/namespaces/kube-public/configmaps/cluster-info')).status, 200);
    const list = await raw('GET', '/api/v1/namespaces/kube-public/configmaps');
    assert.equal(list.status, 403);
    assert.equal(list.json.message, 'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the namespace "kube-public"');
    const path403 = await raw('GET', '/metrics');
    assert.equal(path403.json.message, 'forbidden: User "system:anonymous" cannot get path "/metrics"');
    assert401(await raw('GET', '/healthz', { headers: { authorization: 'Bearer not-a-real-token-zzz' } }));
    await logged(/Unable to authenticate the request due to an error: invalid bearer token/);
    for (const secret of ['not-a-real-token-zzz', 'alice-static-token-0001', bootstrapToken.split('.')[1]!]) assert.doesNotMatch(serve.stderr(), new RegExp(secret));
  });
});

test('serve refuses dangerous or broken authentication settings before listening', async (t) => {
  const dir = await tempDir(t, 'kubepki-e2e-authcfg-');
  const dataDir = path.join(dir, 'data');
  const init = await kubepki(['init', '--cert-dir', path.join(dataDir, 'pki'), '--kubeconfig-dir', dataDir]);
  assert.equal(init.code, 0, init.stderr);
  const port = String(await freePort());
  const serve = (args: string[]) => kubepki(['serve', '--data-dir', dataDir, '--secure-port', port, ...args], { timeoutMs: 20_000 });
  const same = await serve(['--requestheader-client-ca-file', path.join(dataDir, 'pki', 'ca.crt'), '--requestheader-allowed-names', '']);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /--requestheader-client-ca-file and --client-ca-file both trust the CA "CN=kubernetes" and --requestheader-allowed-names is empty/);
  const badTokens = path.join(dir, 'bad.csv');
  await writeFile(badTokens, 'good,u,1\nbroken,line\n');
  const tok = await serve(['--token-auth-file', badTokens]);
  assert.equal(tok.code, 1);
  assert.match(tok.stderr, /line 2: must have at least 3 columns \(token, user name, user uid\), found 2/);
  const noCA = await serve(['--client-ca-file', path.join(dir, 'missing-ca.crt')]);
  assert.equal(noCA.code, 1);
  assert.match(noCA.stderr, /--client-ca-file/);
  assert.doesNotMatch(same.stderr + tok.stderr + noCA.stderr, /listening on/);
});
