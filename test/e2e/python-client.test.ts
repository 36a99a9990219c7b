// Kubernetes' official Python client (Debian's python3-kubernetes) against `kubepki serve`: another
// language's generated client, with its own kubeconfig loader, model (de)serialisation, watch decoder and
// dynamic client (legacy discovery). The script prints one JSON report; the assertions are here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.js';
import { freePort } from '../helpers/ports.js';
import { startServe } from '../api/helpers.js';
import { openssl } from '../helpers/openssl.js';
import { run } from '../helpers/cli.js';

// Debian's package installs into the system interpreter, whatever python3 comes first on PATH.
const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import base64, json, sys
from kubernetes import client, config, dynamic, watch
from kubernetes.client.exceptions import ApiException

kubeconfig, admin_csr, node_csr = sys.argv[1:4]
out = {}
config.load_kube_config(config_file=kubeconfig)
api = client.ApiClient()
certs = client.CertificatesV1Api(api)
core = client.CoreV1Api(api)
out["version"] = client.VersionApi(api).get_code().git_version

def status_of(fn):
    try:
        fn()
        return None
    except ApiException as e:
        body = json.loads(e.body)
        return {"http": e.status, "kind": body.get("kind"), "code": body.get("code"), "reason": body.get("reason")}

out["missing"] = status_of(lambda: certs.read_certificate_signing_request("nope"))

def csr(name, path, signer, usages, labels=None):
    return client.V1CertificateSigningRequest(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1CertificateSigningRequestSpec(
            request=base64.b64encode(open(path, "rb").read()).decode(),
            signer_name=signer, usages=usages, expiration_seconds=3600))

made = certs.create_certificate_signing_request(csr("py-admin", admin_csr, "kubernetes.io/kube-apiserver-client", ["client auth", "digital signature"], {"from": "python"}))
out["created"] = {"user": made.spec.username, "groups": made.spec.groups, "rv": made.metadata.resource_version}
out["duplicate"] = status_of(lambda: certs.create_certificate_signing_request(csr("py-admin", admin_csr, "kubernetes.io/kube-apiserver-client", ["client auth"])))
listed = certs.list_certificate_signing_request(label_selector="from=python")
out["listed"] = [i.metadata.name for i in listed.items]

made.status = client.V1CertificateSigningRequestStatus(conditions=[client.V1CertificateSigningRequestCondition(
    type="Approved", status="True", reason="PythonApproval", message="approved by the python client")])
approved = certs.replace_certificate_signing_request_approval("py-admin", made)
out["approved"] = [(c.type, c.reason) for c in approved.status.conditions]

# Watch from the list's resourceVersion until the signer has written the certificate.
events = []
w = watch.Watch()
for ev in w.stream(certs.list_certificate_signing_request, field_selector="metadata.name=py-admin",
                   resource_version=listed.metadata.resource_version, timeout_seconds=20):
    events.append(ev["type"])
    if ev["object"].status.certificate:
        w.stop()
out["watch"] = events
issued = certs.read_certificate_signing_request_status("py-admin")
out["certificate"] = base64.b64decode(issued.status.certificate).decode()

out["merge_patch"] = certs.patch_certificate_signing_request("py-admin", {"metadata": {"labels": {"patched": "merge"}}}).metadata.labels
out["json_patch"] = certs.patch_certificate_signing_request("py-admin", [{"op": "add", "path": "/metadata/annotations", "value": {"json": "patch"}}]).metadata.annotations

# Pagination: two more CSRs, pages of one.
for n in ("py-page-1", "py-page-2"):
    certs.create_certificate_signing_request(csr(n, admin_csr, "example.com/serving", ["server auth"], {"from": "python"}))
names, token = [], None
while True:
    page = certs.list_certificate_signing_request(label_selector="from=python", limit=1, _continue=token)
    names += [i.metadata.name for i in page.items]
    token = page.metadata._continue
    if not token:
        break
out["paged"] = names

# The dynamic client discovers through /api and /apis.
dyn = dynamic.DynamicClient(api)
out["dynamic"] = sorted(i.metadata.name for i in dyn.resources.get(api_version="certificates.k8s.io/v1", kind="CertificateSigningRequest").get(label_selector="from=python").items)

# A bootstrap token made by the admin, then a node's CSR under that token: nodeclient auto-approval and signing.
core.create_namespaced_secret("kube-system", client.V1Secret(
    metadata=client.V1ObjectMeta(name="bootstrap-token-pyabcd"), type="bootstrap.kubernetes.io/token",
    string_data={"token-id": "pyabcd", "token-secret": "0123456789abcdef", "usage-bootstrap-authentication": "true",
                 "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token"}))
node_conf = {
    "apiVersion": "v1", "kind": "Config", "current-context": "b",
    "clusters": [{"name": "c", "cluster": {"server": api.configuration.host, "certificate-authority": api.configuration.ssl_ca_cert}}],
    "users": [{"name": "u", "user": {"token": "pyabcd.0123456789abcdef"}}],
    "contexts": [{"name": "b", "context": {"cluster": "c", "user": "u"}}]}
node_api = config.new_client_from_config_dict(node_conf)
node_certs = client.CertificatesV1Api(node_api)
node_made = node_certs.create_certificate_signing_request(csr("py-node", node_csr, "kubernetes.io/kube-apiserver-client-kubelet", ["digital signature", "client auth"]))
out["node_created"] = {"user": node_made.spec.username, "groups": sorted(node_made.spec.groups)}
w = watch.Watch()
for ev in w.stream(node_certs.list_certificate_signing_request, field_selector="metadata.name=py-node", timeout_seconds=20):
    if ev["object"].status.certificate:
        out["node_conditions"] = [(c.type, c.reason) for c in ev["object"].status.conditions]
        out["node_certificate"] = base64.b64decode(ev["object"].status.certificate).decode()
        w.stop()
out["node_forbidden"] = status_of(lambda: client.CoreV1Api(node_api).list_namespaced_secret("kube-system"))

deleted = certs.delete_certificate_signing_request("py-page-2")
out["deleted"] = deleted.status
out["gone"] = status_of(lambda: certs.read_certificate_signing_request("py-page-2"))
print(json.dumps(out))
`;

type ApiStatus = { http: number; kind: string; code: number; reason: string } | null;
interface Report {
  version: string;
  missing: ApiStatus;
  created: { user: string; groups: string[]; rv: string };
  duplicate: ApiStatus;
  listed: string[];
  approved: [string, string][];
  watch: string[];
  certificate: string;
  merge_patch: Record<string, string>;
  json_patch: Record<string, string>;
  paged: string[];
  dynamic: string[];
  node_created: { user: string; groups: string[] };
  node_conditions: [string, string][];
  node_certificate: string;
  node_forbidden: ApiStatus;
  deleted: string;
  gone: ApiStatus;
}

test('the official Python client drives kubepki serve: CRUD, approval, watch, pagination, discovery, bootstrap tokens', async (t) => {
  const dir = await tempDir(t, 'kubepki-python-');
  const serve = await startServe(t, [], { dataDir: path.join(dir, 'data'), port: await freePort() });
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-subj', '/CN=py-user/O=py-team', '-out', 'admin.csr'], dir);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'node.key', '-subj', '/O=system:nodes/CN=system:node:py-node', '-out', 'node.csr'], dir);
  const script = path.join(dir, 'client.py');
  await writeFile(script, SCRIPT);
  const r = await run(PYTHON, [script, serve.kubeconfig, path.join(dir, 'admin.csr'), path.join(dir, 'node.csr')], { timeoutMs: 90_000 });
  assert.equal(r.code, 0, `python client failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout) as Report;

  assert.match(out.version, /^v1\.32\.0/);
  assert.deepEqual(out.missing, { http: 404, kind: 'Status', code: 404, reason: 'NotFound' });
  // spec.username and groups are the authenticated identity, never what the client sent (it sent none).
  assert.equal(out.created.user, 'kubernetes-admin');
  assert.ok(out.created.groups.includes('system:authenticated'));
  assert.deepEqual(out.duplicate, { http: 409, kind: 'Status', code: 409, reason: 'AlreadyExists' });
  assert.deepEqual(out.listed, ['py-admin']);
  assert.deepEqual(out.approved, [['Approved', 'PythonApproval']]);
  assert.equal(out.watch.at(-1), 'MODIFIED', `watch events ${out.watch}`);

  // The certificate the signer wrote is the admin's key's, for the subject asked, and chains to the cluster CA.
  await writeFile(path.join(dir, 'admin.crt'), out.certificate);
  assert.match(await openssl(['x509', '-in', 'admin.crt', '-noout', '-subject'], dir), /O\s*=\s*py-team, CN\s*=\s*py-user/);
  const caFile = path.join(serve.dataDir, 'pki', 'ca.crt');
  assert.match(await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', 'admin.crt'], dir), /admin\.crt: OK/);
  assert.equal(
    await openssl(['x509', '-in', 'admin.crt', '-noout', '-pubkey'], dir),
    await openssl(['pkey', '-in', 'admin.key', '-pubout'], dir),
  );

  assert.deepEqual(out.merge_patch, { from: 'python', patched: 'merge' });
  assert.deepEqual(out.json_patch, { json: 'patch' });
  assert.deepEqual(out.paged, ['py-admin', 'py-page-1', 'py-page-2']);
  assert.deepEqual(out.dynamic, ['py-admin', 'py-page-1', 'py-page-2']);

  assert.deepEqual(out.node_created, {
    user: 'system:bootstrap:pyabcd',
    groups: ['system:authenticated', 'system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'],
  });
  assert.deepEqual(out.node_conditions, [['Approved', 'AutoApproved']]);
  await writeFile(path.join(dir, 'node.crt'), out.node_certificate);
  assert.match(await openssl(['x509', '-in', 'node.crt', '-noout', '-subject'], dir), /O\s*=\s*system:nodes, CN\s*=\s*system:node:py-node/);
  assert.match(await openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', 'node.crt'], dir), /node\.crt: OK/);
  assert.deepEqual(out.node_forbidden, { http: 403, kind: 'Status', code: 403, reason: 'Forbidden' });

  assert.equal(out.deleted, 'Success');
  assert.deepEqual(out.gone, { http: 404, kind: 'Status', code: 404, reason: 'NotFound' });
});
