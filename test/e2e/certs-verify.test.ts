// `kubepki certs verify` on a real kubeadm-layout PKI from `kubepki init`: the exit code, Go's error texts
// for the failures operators meet, the chain in -o json, and the same answer from Go's verifier itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { kubepki } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { buildGoOracle } from '../x509/path-validation/go-oracle.js';

test('certs verify: kubeadm PKI, Go error texts, json chain, agreement with Go', async (t) => {
  const dir = await tempDir(t);
  const pki = path.join(dir, 'pki');
  const init = await kubepki(['init', '--cert-dir', pki, '--kubeconfig-dir', dir, '--node-name', 'cp-0', '--apiserver-advertise-address', '10.1.0.10', '--encryption-algorithm', 'ECDSA-P256']);
  assert.equal(init.code, 0, init.stderr);
  const f = (n: string) => path.join(pki, n);

  const ok = await kubepki(['certs', 'verify', f('apiserver.crt'), '--ca', f('ca.crt'), '--name', '10.1.0.10']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /: OK\nchain 1: CN=kube-apiserver -> CN=kubernetes\n$/);

  const cases: { name: string; args: string[]; want: RegExp | string }[] = [
    { name: 'IP a client dials not in the SANs', args: [f('apiserver.crt'), '--ca', f('ca.crt'), '--name', '10.1.0.99'], want: /^x509: certificate is valid for 10\.96\.0\.1, 10\.1\.0\.10, not 10\.1\.0\.99$/ },
    { name: 'DNS name not in the SANs', args: [f('apiserver.crt'), '--ca', f('ca.crt'), '--name', 'api.example.com'], want: /^x509: certificate is valid for cp-0, kubernetes, kubernetes\.default, kubernetes\.default\.svc, kubernetes\.default\.svc\.cluster\.local, not api\.example\.com$/ },
    { name: 'server cert used as client', args: [f('apiserver.crt'), '--ca', f('ca.crt'), '--purpose', 'client'], want: 'x509: certificate specifies an incompatible key usage' },
    { name: 'client cert used as server', args: [f('apiserver-kubelet-client.crt'), '--ca', f('ca.crt')], want: 'x509: certificate specifies an incompatible key usage' },
    { name: 'client cert with no IP SANs dialled by IP', args: [f('apiserver-kubelet-client.crt'), '--ca', f('ca.crt'), '--name', '10.1.0.10', '--purpose', 'client'], want: "x509: cannot validate certificate for 10.1.0.10 because it doesn't contain any IP SANs" },
    { name: 'front-proxy client against the cluster CA', args: [f('front-proxy-client.crt'), '--ca', f('ca.crt'), '--purpose', 'client'], want: 'x509: certificate signed by unknown authority' },
    { name: 'expired at a later time', args: [f('apiserver.crt'), '--ca', f('ca.crt'), '--at', '2099-01-01T00:00:00Z'], want: /^x509: certificate has expired or is not yet valid: current time 2099-01-01T00:00:00Z is after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ },
  ];
  const oracle = await buildGoOracle();
  t.after(() => oracle.close());
  const goCases = [];
  for (const c of cases) {
    const r = await kubepki(['certs', 'verify', ...c.args]);
    assert.equal(r.code, 1, `${c.name}: exit code`);
    assert.equal(r.stdout, '', c.name);
    const line = r.stderr.replace(/\n$/, '');
    if (typeof c.want === 'string') assert.equal(line, c.want, c.name);
    else assert.match(line, c.want, c.name);
    const flag = (n: string) => (c.args.includes(n) ? c.args[c.args.indexOf(n) + 1] : undefined);
    goCases.push({
      text: line,
      input: {
        leaf: await readFile(c.args[0]!, 'utf8'),
        roots: await readFile(flag('--ca')!, 'utf8'),
        intermediates: '',
        at: flag('--at') ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        dnsName: flag('--name') ?? '',
        purpose: (flag('--purpose') ?? 'server') as 'server' | 'client',
      },
    });
  }
  const go = await oracle.verify(goCases.map((g) => g.input));
  assert.deepEqual(go.map((g) => g.error), goCases.map((g) => g.text), 'Go prints the same errors');

  // A leaf file followed by its intermediate, as a server presents it; -o json gives the chain.
  const inter = await kubepki(['certs', 'verify', f('ca.crt'), '--ca', f('ca.crt'), '--purpose', 'any', '-o', 'json']);
  assert.equal(inter.code, 0, inter.stderr);
  const doc = JSON.parse(inter.stdout) as { valid: boolean; chains: { subject: string; isCA: boolean }[][] };
  assert.equal(doc.valid, true);
  assert.deepEqual(doc.chains.map((c) => c.map((x) => x.subject)), [['CN=kubernetes']]);
  const bundle = path.join(dir, 'leaf-and-ca.pem');
  await writeFile(bundle, (await readFile(f('apiserver.crt'), 'utf8')) + (await readFile(f('ca.crt'), 'utf8')));
  const fail = await kubepki(['certs', 'verify', bundle, '--ca', f('front-proxy-ca.crt'), '-o', 'json']);
  assert.equal(fail.code, 1);
  assert.deepEqual(JSON.parse(fail.stdout), { valid: false, error: 'x509: certificate signed by unknown authority' });

  const bad = await kubepki(['certs', 'verify', f('apiserver.crt'), '--ca', f('ca.crt'), '--at', 'yesterday']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--at: "yesterday" is not an RFC 3339 time/);
});
