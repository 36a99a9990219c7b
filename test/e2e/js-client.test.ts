// Kubernetes' official JavaScript client (@kubernetes/client-node) against `kubepki serve` over mutual TLS:
// another generated client, with its own kubeconfig loader (loadFromFile of serve's own admin.conf), model
// (de)serialisation from kube's OpenAPI, ApiException for errors, a line-framed Watch, the ListWatch
// informer and the generic KubernetesObjectApi (which finds plurals through discovery).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CertificatesV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  V1MicroTime,
  Watch,
  makeInformer,
  setHeaderOptions,
  type KubernetesObject,
  type V1CertificateSigningRequest,
} from '@kubernetes/client-node';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { startServe } from '../api/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { run } from '../helpers/cli.js';
import { until } from '../helpers/poll.js';
import { hasModel, modelName, shapeProblems } from './js-client-models.js';

const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

interface KubeStatus {
  http: number;
  kind: string;
  code: number;
  reason: string;
  message: string;
}

/** The Status that kube's error body carries, as the client hands it over in its ApiException. */
async function statusOf(p: Promise<unknown>): Promise<KubeStatus> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    const e = err as ApiException<unknown>;
    const body = (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as { kind: string; code: number; reason: string; message: string };
    return { http: e.code, kind: body.kind, code: body.code, reason: body.reason, message: body.message };
  }
  assert.fail('expected the request to fail');
}

/** Resolves with what a callback-driven source (a watch, an informer) hands `resolve` first; rejects after 30 s. */
function eventually<T>(what: string, register: (resolve: (v: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** GET through the client's own TLS settings (kubeconfig's CA and client certificate), the body unparsed by any model. */
async function rawGet(kc: KubeConfig, p: string): Promise<unknown> {
  const { agent } = (await kc.applyToFetchOptions({})) as { agent?: https.Agent };
  return new Promise((resolve, reject) => {
    https
      .get(new URL(kc.getCurrentCluster()!.server + p), { agent, headers: { Accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      })
      .on('error', reject);
  });
}

interface Fixture {
  dir: string;
  kc: KubeConfig;
  kubeconfig: string;
  caFile: string;
  request: string;
}

function csrBody(f: Fixture, name: string, options: { labels?: Record<string, string>; signerName?: string } = {}): V1CertificateSigningRequest {
  return {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      request: f.request,
      signerName: options.signerName ?? 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth', 'digital signature'],
      expirationSeconds: 3600,
    },
  };
}

async function startFixture(t: TestContext): Promise<Fixture> {
  const dir = await tempDir(t, 'kubepki-js-');
  const serve = await startServe(t, [], { dataDir: path.join(dir, 'data'), port: await freePort() });
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'js.key', '-subj', '/CN=js-user/O=js-team', '-out', 'js.csr'], dir);
  const kc = new KubeConfig();
  kc.loadFromFile(serve.kubeconfig);
  return {
    dir,
    kc,
    kubeconfig: serve.kubeconfig,
    caFile: path.join(serve.dataDir, 'pki', 'ca.crt'),
    request: (await readFile(path.join(dir, 'js.csr'))).toString('base64'),
  };
}

test('the official JavaScript client drives kubepki serve over mutual TLS', async (t) => {
  const f = await startFixture(t);
  const certs = f.kc.makeApiClient(CertificatesV1Api);
  const core = f.kc.makeApiClient(CoreV1Api);

  await t.test('CSR create, 404/409 as ApiException with Status, selectors, paging, approval, watch until issued', async () => {
    assert.deepEqual(await statusOf(certs.readCertificateSigningRequest({ name: 'js-nope' })), {
      http: 404, kind: 'Status', code: 404, reason: 'NotFound', message: 'certificatesigningrequests.certificates.k8s.io "js-nope" not found',
    });
    const made = await certs.createCertificateSigningRequest({ body: csrBody(f, 'js-admin', { labels: { from: 'js' } }) });
    // The identity is the authenticated one (admin.conf's certificate), never what a client sends.
    assert.equal(made.spec.username, 'kubernetes-admin');
    assert.ok(made.spec.groups?.includes('system:authenticated'));
    assert.ok(made.metadata?.creationTimestamp instanceof Date && !Number.isNaN(made.metadata.creationTimestamp.getTime()));
    const dup = await statusOf(certs.createCertificateSigningRequest({ body: csrBody(f, 'js-admin') }));
    assert.deepEqual([dup.http, dup.kind, dup.code, dup.reason], [409, 'Status', 409, 'AlreadyExists']);

    for (const n of ['js-page-1', 'js-page-2']) {
      await certs.createCertificateSigningRequest({ body: csrBody(f, n, { labels: { from: 'js' }, signerName: 'example.com/js' }) });
    }
    const listed = await certs.listCertificateSigningRequest({ labelSelector: 'from=js' });
    assert.deepEqual(listed.items.map((i) => i.metadata?.name), ['js-admin', 'js-page-1', 'js-page-2']);
    assert.match(listed.metadata?.resourceVersion ?? '', /^\d+$/);
    const bySigner = await certs.listCertificateSigningRequest({ fieldSelector: 'spec.signerName=example.com/js' });
    assert.deepEqual(bySigner.items.map((i) => i.metadata?.name), ['js-page-1', 'js-page-2']);
    const badField = await statusOf(certs.listCertificateSigningRequest({ fieldSelector: 'spec.usages=client auth' }));
    assert.deepEqual([badField.http, badField.reason], [400, 'BadRequest']);

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await certs.listCertificateSigningRequest({ labelSelector: 'from=js', limit: 1, ...(token ? { _continue: token } : {}) });
      assert.equal(page.items.length, 1);
      // kube leaves remainingItemCount out when a selector makes it unknowable.
      assert.equal(page.metadata?.remainingItemCount, undefined);
      paged.push(page.items[0]!.metadata!.name!);
      token = page.metadata?._continue;
    } while (token);
    assert.deepEqual(paged, ['js-admin', 'js-page-1', 'js-page-2']);
    const all = await certs.listCertificateSigningRequest({});
    const firstPage = await certs.listCertificateSigningRequest({ limit: 1 });
    assert.equal(firstPage.metadata?.remainingItemCount, all.items.length - 1);

    // Approval through the /approval subresource with the object as the client read it back.
    const current = await certs.readCertificateSigningRequest({ name: 'js-admin' });
    current.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'JsApproval', message: 'approved by the JavaScript client' }] };
    const approved = await certs.replaceCertificateSigningRequestApproval({ name: 'js-admin', body: current });
    assert.deepEqual(approved.status?.conditions?.map((c) => [c.type, c.reason]), [['Approved', 'JsApproval']]);
    assert.ok(approved.status?.conditions?.[0]?.lastUpdateTime instanceof Date);

    // A watch from the list's resourceVersion, by name, until the signer has written the certificate.
    const seen: string[] = [];
    let controller: AbortController | undefined;
    const issued = await eventually<V1CertificateSigningRequest>('the signed certificate', (resolve) => {
      void new Watch(f.kc)
        .watch(CSR_PATH, { fieldSelector: 'metadata.name=js-admin', resourceVersion: listed.metadata!.resourceVersion! }, (type: string, obj: V1CertificateSigningRequest) => {
          seen.push(type);
          if (obj.status?.certificate) resolve(obj);
        }, () => undefined)
        .then((c) => (controller = c));
    });
    controller?.abort();
    assert.equal(seen[0], 'MODIFIED', `watch events ${seen}`);
    await writeFile(path.join(f.dir, 'js.crt'), Buffer.from(issued.status!.certificate!, 'base64'));
    assert.match(await openssl(['x509', '-in', 'js.crt', '-noout', '-subject'], f.dir), /O\s*=\s*js-team, CN\s*=\s*js-user/);
    assert.match(await openssl(['verify', '-CAfile', f.caFile, '-purpose', 'sslclient', 'js.crt'], f.dir), /js\.crt: OK/);
    assert.equal(await openssl(['x509', '-in', 'js.crt', '-noout', '-pubkey'], f.dir), await openssl(['pkey', '-in', 'js.key', '-pubout'], f.dir));
    const status = await certs.readCertificateSigningRequestStatus({ name: 'js-admin' });
    assert.equal(status.status?.certificate, issued.status?.certificate);
  });

  await t.test('patch: the client default (JSON patch), merge and strategic merge content types', async () => {
    const jsonPatched = await certs.patchCertificateSigningRequest({ name: 'js-page-1', body: [{ op: 'add', path: '/metadata/annotations', value: { json: 'patch' } }] });
    assert.deepEqual(jsonPatched.metadata?.annotations, { json: 'patch' });
    const merged = await certs.patchCertificateSigningRequest(
      { name: 'js-page-1', body: { metadata: { labels: { patched: 'merge' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata?.labels, { from: 'js', patched: 'merge' });
    const strategic = await certs.patchCertificateSigningRequest(
      { name: 'js-page-1', body: { metadata: { labels: { patched: null, strategic: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(strategic.metadata?.labels, { from: 'js', strategic: 'yes' });
    const explicitJson = await certs.patchCertificateSigningRequest(
      { name: 'js-page-1', body: [{ op: 'test', path: '/metadata/labels/strategic', value: 'no' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ).then(() => undefined, (e: unknown) => e);
    assert.ok(explicitJson instanceof ApiException && explicitJson.code === 422, `a failed JSON-patch test is 422, got ${String(explicitJson)}`);
    // A stale resourceVersion in a replace is kube's 409 Conflict.
    const stale = await certs.readCertificateSigningRequest({ name: 'js-page-1' });
    await certs.patchCertificateSigningRequest({ name: 'js-page-1', body: [{ op: 'add', path: '/metadata/labels/bump', value: '1' }] });
    const conflict = await statusOf(certs.replaceCertificateSigningRequest({ name: 'js-page-1', body: stale }));
    assert.deepEqual([conflict.http, conflict.reason], [409, 'Conflict']);
  });

  await t.test('a watch the server ends (timeoutSeconds) calls done without an error', async () => {
    const types: string[] = [];
    const started = Date.now();
    const err = await eventually<unknown>('the watch to end', (resolve) => {
      void new Watch(f.kc).watch(CSR_PATH, { timeoutSeconds: 1, labelSelector: 'from=js' }, (type: string) => types.push(type), (e: unknown) => resolve(e ?? 'no error'));
    });
    assert.equal(err, 'no error');
    assert.ok(Date.now() - started >= 900, 'the server ended the watch, after its timeout');
    // No resourceVersion: the watch starts with the current state, one ADDED per object.
    assert.deepEqual(types, ['ADDED', 'ADDED', 'ADDED']);
  });

  await t.test('an informer (ListWatch) sees add, update and delete', async (t) => {
    const labelSelector = 'informer=js';
    const informer = makeInformer(f.kc, CSR_PATH, () => certs.listCertificateSigningRequest({ labelSelector }), labelSelector);
    const events: string[] = [];
    const waiters: { what: string; resolve: () => void }[] = [];
    const record = (what: string) => (obj: KubernetesObject) => {
      const e = `${what} ${obj.metadata?.name}`;
      events.push(e);
      for (const w of waiters.filter((w) => w.what === e)) w.resolve();
    };
    const waitFor = (what: string) => (events.includes(what) ? Promise.resolve() : eventually<void>(what, (resolve) => waiters.push({ what, resolve: () => resolve() })));
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    await certs.createCertificateSigningRequest({ body: csrBody(f, 'js-informed-1', { labels: { informer: 'js' }, signerName: 'example.com/js' }) });
    await informer.start();
    t.after(() => informer.stop());
    await waitFor('add js-informed-1');
    await certs.createCertificateSigningRequest({ body: csrBody(f, 'js-informed-2', { labels: { informer: 'js' }, signerName: 'example.com/js' }) });
    await waitFor('add js-informed-2');
    await certs.patchCertificateSigningRequest({ name: 'js-informed-2', body: [{ op: 'add', path: '/metadata/annotations', value: { seen: 'update' } }] });
    await waitFor('update js-informed-2');
    assert.equal(informer.get('js-informed-2')?.metadata?.annotations?.['seen'], 'update');
    await certs.deleteCertificateSigningRequest({ name: 'js-informed-1' });
    await waitFor('delete js-informed-1');
    assert.deepEqual(informer.list().map((o) => o.metadata?.name), ['js-informed-2']);
    assert.deepEqual(events, ['add js-informed-1', 'add js-informed-2', 'update js-informed-2', 'delete js-informed-1']);
  });

  await t.test('delete returns Status Success, then 404; deleteCollection by label', async () => {
    const deleted = await certs.deleteCertificateSigningRequest({ name: 'js-page-2' });
    assert.equal(deleted.status, 'Success');
    assert.deepEqual((await statusOf(certs.readCertificateSigningRequest({ name: 'js-page-2' }))).reason, 'NotFound');
    await certs.deleteCollectionCertificateSigningRequest({ labelSelector: 'informer=js' });
    assert.deepEqual((await certs.listCertificateSigningRequest({ labelSelector: 'informer=js' })).items, []);
    assert.deepEqual((await certs.listCertificateSigningRequest({ labelSelector: 'from=js' })).items.map((i) => i.metadata?.name), ['js-admin', 'js-page-1']);
  });

  await t.test('CoreV1: namespaces, secrets, configmaps', async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: 'js-ns' } } });
    assert.equal(ns.status?.phase, 'Active');
    assert.equal(ns.metadata?.labels?.['kubernetes.io/metadata.name'], 'js-ns');
    const secret = await core.createNamespacedSecret({ namespace: 'js-ns', body: { metadata: { name: 'js-secret' }, stringData: { token: 's3cret' } } });
    assert.deepEqual(secret.data, { token: Buffer.from('s3cret').toString('base64') });
    assert.equal(secret.type, 'Opaque');
    assert.equal((await core.readNamespacedSecret({ namespace: 'js-ns', name: 'js-secret' })).data?.['token'], Buffer.from('s3cret').toString('base64'));
    await core.createNamespacedConfigMap({ namespace: 'js-ns', body: { metadata: { name: 'js-cm', labels: { app: 'js' } }, data: { k: 'v' } } });
    const cms = await core.listConfigMapForAllNamespaces({ labelSelector: 'app=js' });
    assert.deepEqual(cms.items.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`), ['js-ns/js-cm']);
    // The root-CA publisher's configmap in the new namespace is the cluster CA.
    const rootCa = await until(() => core.readNamespacedConfigMap({ namespace: 'js-ns', name: 'kube-root-ca.crt' }).then((c) => c.data?.['ca.crt'], () => undefined), 'kube-root-ca.crt is in js-ns');
    assert.equal(rootCa, await readFile(f.caFile, 'utf8'));
    const forbidden = await statusOf(core.createNamespacedSecret({ namespace: 'js-missing', body: { metadata: { name: 'x' } } }));
    assert.deepEqual([forbidden.http, forbidden.reason], [404, 'NotFound']);
    const deleting = await core.deleteNamespace({ name: 'js-ns' });
    assert.equal((deleting as { status?: { phase?: string } }).status?.phase, 'Terminating');
    // The namespace goes once its contents are gone.
    const gone = await until(() => statusOf(core.readNamespace({ name: 'js-ns' })).catch(() => undefined), 'js-ns is deleted', { intervalMs: 50 });
    assert.equal(gone.reason, 'NotFound');
    assert.deepEqual((await core.listSecretForAllNamespaces({ fieldSelector: 'metadata.namespace=js-ns' })).items, []);
  });

  await t.test('SelfSubjectAccessReview, LocalSubjectAccessReview and SelfSubjectReview', async () => {
    const ssar = await f.kc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb: 'approve', group: 'certificates.k8s.io', resource: 'signers', name: 'kubernetes.io/kube-apiserver-client' } } },
    });
    assert.equal(ssar.status?.allowed, true);
    // A review is never stored: kube returns it with a null creationTimestamp (Go's zero metav1.Time).
    assert.equal(ssar.metadata?.creationTimestamp, null);
    // LocalSubjectAccessReview: about someone else, within the namespace of the request.
    const authz = f.kc.makeApiClient(AuthorizationV1Api);
    const local = (user: string, groups: string[], namespace = 'default') =>
      authz.createNamespacedLocalSubjectAccessReview({
        namespace: 'default',
        body: { metadata: {}, spec: { user, groups, resourceAttributes: { namespace, verb: 'get', resource: 'secrets' } } },
      });
    const bob = await local('bob', []);
    assert.deepEqual([bob.metadata?.namespace, bob.metadata?.creationTimestamp, bob.status?.allowed], ['default', null, false]);
    const admin = await local('kubernetes-admin', ['kubeadm:cluster-admins']);
    assert.equal(admin.status?.allowed, true);
    assert.match(admin.status?.reason ?? '', /cluster-admin/);
    const elsewhere = await statusOf(local('bob', [], 'kube-system'));
    assert.deepEqual([elsewhere.http, elsewhere.reason], [422, 'Invalid']);
    assert.match(elsewhere.message, /spec\.resourceAttributes\.namespace: Invalid value: "kube-system": must match metadata\.namespace/);
    // serve's kubelet.conf, another of its own kubeconfig files: a node's identity, refused the admin's secrets.
    const node = new KubeConfig();
    node.loadFromFile(path.join(path.dirname(f.kubeconfig), 'kubelet.conf'));
    const nodeUser = await node.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.match(nodeUser.status?.userInfo?.username ?? '', /^system:node:/);
    assert.ok(nodeUser.status?.userInfo?.groups?.includes('system:nodes'));
    const forbidden = await statusOf(node.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: 'kube-system' }));
    assert.deepEqual([forbidden.http, forbidden.kind, forbidden.code, forbidden.reason], [403, 'Status', 403, 'Forbidden']);
    assert.match(forbidden.message, /^secrets is forbidden: User "system:node:[^"]+" cannot list resource "secrets" in API group "" in the namespace "kube-system"/);
    const ssr = await f.kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.equal(ssr.status?.userInfo?.username, 'kubernetes-admin');
    assert.deepEqual(ssr.status?.userInfo?.groups, ['kubeadm:cluster-admins', 'system:authenticated']);
  });

  await t.test('KubernetesObjectApi (discovery-driven generic client)', async () => {
    const objects = KubernetesObjectApi.makeApiClient(f.kc);
    const ref = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'js-generic' } };
    const created = await objects.create({ ...csrBody(f, 'js-generic', { labels: { generic: 'js' }, signerName: 'example.com/js' }) });
    assert.equal((created as V1CertificateSigningRequest).spec.username, 'kubernetes-admin');
    const listed = await objects.list('certificates.k8s.io/v1', 'CertificateSigningRequest', undefined, undefined, undefined, undefined, undefined, 'generic=js');
    assert.deepEqual(listed.items.map((i) => i.metadata?.name), ['js-generic']);
    const patched = await objects.patch({ ...ref, metadata: { name: 'js-generic', labels: { patched: 'strategic' } } });
    assert.deepEqual(patched.metadata?.labels, { generic: 'js', patched: 'strategic' });
    const read = await objects.read(ref);
    read.metadata!.annotations = { replaced: 'yes' };
    const replaced = await objects.replace(read);
    assert.deepEqual(replaced.metadata?.annotations, { replaced: 'yes' });
    const cm = await objects.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'js-generic', namespace: 'default' }, data: { a: 'b' } } as KubernetesObject);
    assert.equal(cm.metadata?.namespace, 'default');
    assert.equal((await objects.delete(ref)).status, 'Success');
    assert.equal((await statusOf(objects.read(ref))).reason, 'NotFound');
  });

  await t.test('times as kube-apiserver decodes them: MicroTime needs six digits, Time is kept to the second', async () => {
    const leases = f.kc.makeApiClient(CoordinationV1Api);
    // Date#toISOString has three fractional digits; kube's MicroTime layout wants six and refuses the rest.
    const plainDate = new Date('2026-01-02T03:04:05.678Z') as V1MicroTime;
    const refused = await statusOf(leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'js-lease' }, spec: { holderIdentity: 'js', renewTime: plainDate } } }));
    assert.deepEqual([refused.http, refused.reason], [400, 'BadRequest']);
    assert.equal(
      refused.message,
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-01-02T03:04:05.678Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".678Z" as ".000000"',
    );
    // The client's own V1MicroTime writes six digits: accepted, and what Go's typed clients read back.
    await leases.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'js-lease' }, spec: { holderIdentity: 'js', renewTime: new V1MicroTime('2026-01-02T03:04:05.678Z') } } });
    const kubectl = (args: string[]) => run('kubectl', ['--kubeconfig', f.kubeconfig, ...args], { timeoutMs: 30_000 }).then((r) => r.stdout);
    assert.equal(await kubectl(['get', 'lease', '-n', 'default', 'js-lease', '-o', 'jsonpath={.spec.renewTime}']), '2026-01-02T03:04:05.678000Z');
    // A metav1.Time (an Event's firstTimestamp) sent with milliseconds is stored to the second, in UTC.
    await core.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'js-event' }, involvedObject: { kind: 'Lease', name: 'js-lease', namespace: 'default' }, reason: 'Js', message: 'm', type: 'Normal', firstTimestamp: new Date('2026-01-02T03:04:05.678Z') },
    });
    assert.equal(await kubectl(['get', 'event', '-n', 'default', 'js-event', '-o', 'jsonpath={.firstTimestamp}']), '2026-01-02T03:04:05Z');
  });

  await t.test('every document serve sends has the shape of the client\'s models (kube\'s OpenAPI)', async () => {
    const problems: string[] = [];
    const judge = (value: unknown, type: string, where: string) => problems.push(...shapeProblems(value, type, where));
    judge(await rawGet(f.kc, '/version'), 'VersionInfo', '/version');
    judge(await rawGet(f.kc, '/api'), 'V1APIVersions', '/api');
    const groups = (await rawGet(f.kc, '/apis')) as { groups: { name: string; versions: { groupVersion: string }[] }[] };
    judge(groups, 'V1APIGroupList', '/apis');
    const versions = ['v1'];
    for (const g of groups.groups) {
      judge(await rawGet(f.kc, `/apis/${g.name}`), 'V1APIGroup', `/apis/${g.name}`);
      versions.push(...g.versions.map((v) => v.groupVersion));
    }
    judge(await rawGet(f.kc, '/api/v1/namespaces/js-nope'), 'V1Status', 'a 404');
    // A 422 carries details.causes, one per field.
    const invalidCsr = await f.kc
      .makeApiClient(CertificatesV1Api)
      .createCertificateSigningRequest({ body: { metadata: { name: 'js-invalid' }, spec: { request: 'AAAA', signerName: 'nodomain', usages: ['client auth'] } } })
      .then(() => assert.fail('an invalid CSR was created'), (e: ApiException<string>) => JSON.parse(e.body) as { code: number; details: { causes: unknown[] } });
    assert.equal(invalidCsr.code, 422);
    assert.ok(invalidCsr.details.causes.length >= 2);
    judge(invalidCsr, 'V1Status', 'a 422');
    let lists = 0;
    for (const gv of versions) {
      const base = gv === 'v1' ? '/api/v1' : `/apis/${gv}`;
      const resources = (await rawGet(f.kc, base)) as { resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] };
      judge(resources, 'V1APIResourceList', base);
      for (const r of resources.resources) {
        if (r.name.includes('/') || !r.verbs.includes('list')) continue;
        const listType = modelName(gv, `${r.kind}List`);
        if (!hasModel(listType)) {
          problems.push(`${base}/${r.name}: the client has no model for ${gv} ${r.kind}`);
          continue;
        }
        const list = (await rawGet(f.kc, `${base}/${r.name}`)) as { items: { metadata: { name: string; namespace?: string } }[] };
        judge(list, listType, `${base}/${r.name}`);
        lists++;
        const first = list.items[0];
        if (first) {
          const at = `${base}/${first.metadata.namespace ? `namespaces/${first.metadata.namespace}/` : ''}${r.name}/${first.metadata.name}`;
          judge(await rawGet(f.kc, at), modelName(gv, r.kind), at);
        }
      }
    }
    assert.ok(lists >= 10, `only ${lists} lists judged`);
    // Watch events carry the object as the item model has it.
    const events: { type: string; object: unknown }[] = [];
    await eventually<unknown>('the watch to end', (resolve) => {
      void new Watch(f.kc).watch(CSR_PATH, { timeoutSeconds: 1 }, (_type: string, _obj: unknown, event: { type: string; object: unknown }) => events.push(event), resolve);
    });
    assert.ok(events.length > 0);
    for (const [i, e] of events.entries()) judge(e.object, 'V1CertificateSigningRequest', `watch event ${i} (${e.type})`);
    assert.deepEqual(problems, []);
  });
});
