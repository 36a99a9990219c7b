// simple-yaml.ts reads the YAML subset kubeconfigs are written in, for start-up time; for everything else it
// must say "not mine" (undefined) so that the yaml package reads it. Judge: the yaml package itself. Every
// text here is either read exactly as yaml.parse reads it, or left to yaml; kubepki's and kubectl's own
// kubeconfig layouts must be read (else the fast path buys nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { readSimpleYaml } from '../../src/util/simple-yaml.js';
import { buildKubeconfig } from '../../src/cluster/kubeconfig.js';

function agrees(text: string, label: string): boolean {
  const fast = readSimpleYaml(text);
  if (fast === undefined) return false;
  assert.deepEqual(fast, parse(text), `${label}:\n${text}`);
  return true;
}

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAK\n-----END CERTIFICATE-----\n';

test("kubepki's kubeconfigs are read exactly as yaml reads them", () => {
  for (const [cluster, user] of [['kubernetes', 'kubernetes-admin'], ['my cluster', 'system:node:worker-1'], ['123', 'true'], ['a: b', "it's"]]) {
    const text = buildKubeconfig({ clusterName: cluster!, server: 'https://192.0.2.2:6443', caPem: PEM, userName: user!, clientCertPem: PEM, clientKeyPem: PEM });
    assert.ok(agrees(text, `${cluster}/${user}`), `read by the fast path: ${cluster}/${user}`);
  }
});

test('names that YAML 1.1 (clientcmd reads kubeconfigs with go-yaml v2) takes for bools or numbers stay strings', () => {
  for (const name of ['y', 'N', 'yes', 'On', 'off', '012', '1e3']) {
    const text = buildKubeconfig({ clusterName: name, server: 'https://192.0.2.2:6443', caPem: PEM, userName: name, clientCertPem: PEM, clientKeyPem: PEM });
    const doc = parse(text, { schema: 'yaml-1.1' }) as { clusters: { name: unknown }[]; users: { name: unknown }[] };
    assert.equal(doc.clusters[0]!.name, name);
    assert.equal(doc.users[0]!.name, name);
    assert.ok(agrees(text, name));
  }
});

test("kubectl's layout (sequences at the key's indent, {} and null, comments) is read exactly as yaml reads it", () => {
  const kubectl = [
    '# written by kubectl config',
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    '    certificate-authority-data: TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ==',
    '    insecure-skip-tls-verify: false',
    '    server: https://[fd00::1]:6443',
    '  name: kind-kind',
    'contexts:',
    '- context:',
    '    cluster: kind-kind',
    '    namespace: default',
    '    user: kind-kind',
    '  name: kind-kind',
    'current-context: kind-kind',
    'kind: Config',
    'preferences: {}',
    'users:',
    '- name: kind-kind',
    '  user:',
    '    token: "abcdef.0123456789abcdef"',
    '    client-key: /home/u/.kube/key.pem',
    '    exec: null',
    '    extensions: []',
    '    as-groups:',
    '    - system:masters',
    "    - 'quoted '' group'",
    '    retries: 3',
    '    ratio: 0.5',
    '',
  ].join('\n');
  assert.ok(agrees(kubectl, 'kubectl layout'));
});

test('values yaml.stringify writes are read as yaml reads them, or left to yaml', () => {
  const tricky = ['', ' lead', 'trail ', 'a: b', 'a #b', 'a#b', '#x', '- x', '-1', '+1', '0x1F', '0o17', '1e3', '1.5', '.5', '1.2.3', '12345678901234567890', 'null', 'Null', '~', 'true', 'False', 'yes', 'no', 'on', '.inf', '-.inf', '.nan', "it's", 'say "hi"', 'back\\slash', 'tab\there', 'new\nline', 'ünïcødé', '[x]', '{x}', '&a', '*a', '!t', '|', '>', '%', '@x', '`x', 'x:', ':x', 'a, b', '?', 'x'.repeat(120), 'https://h:1/p?q=1#f', 'a  b'];
  let read = 0;
  let total = 0;
  for (const indentSeq of [true, false]) {
    for (const lineWidth of [0, 80]) {
      for (const v of tricky) {
        const doc = { name: v, list: [v, { k: v, n: [1, -2, 3.5, true, null] }], nested: { deep: { value: v } }, empty: {}, none: [] };
        const text = stringify(doc, { indentSeq, lineWidth });
        total++;
        if (agrees(text, JSON.stringify(v))) read++;
      }
    }
  }
  assert.ok(read > total / 2, `most documents take the fast path (${read}/${total})`);
});

test('what is outside the subset is left to yaml (undefined), never read differently', () => {
  const outside = [
    'a: &x 1\nb: *x\n',
    'a: |\n  text\n',
    'a: >-\n  folded\n',
    'a: [1, 2]\n',
    'a: {b: 1}\n',
    'a: !!str 1\n',
    '---\na: 1\n',
    'a: 1\n---\nb: 2\n',
    'a:\n\tb: 1\n',
    'a: 1\na: 2\n',
    'a: 1 # comment\n',
    'a: "\\x41"\n',
    'a: plain\n  continued\n',
    '"quoted key": 1\n',
    '- - nested\n',
    'a: 1\r\nb: 2\r\n',
    'a: 0x10\n',
  ];
  for (const text of outside) assert.equal(readSimpleYaml(text), undefined, JSON.stringify(text));
});
