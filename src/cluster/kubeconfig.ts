// kubeconfig documents as kubeadm writes them (client-go's clientcmd.Write of CreateWithCerts): one cluster, one
// user with embedded client certificate and key, one context `<user>@<cluster>`, selected as current. Reading
// picks the current context's cluster and user, which is what kubectl and kube-controller-manager use.
import { createRequire } from 'node:module';
import { readSimpleYaml } from '../util/simple-yaml.js';
import { yamlNestingProblem } from '../util/yaml-nesting.js';
import { KubepkiError } from '../util/errors.js';

export interface KubeconfigContent {
  clusterName: string;
  /** https://host:port */
  server: string;
  /** PEM of the CA that verifies the server (certificate-authority-data). */
  caPem: string;
  userName: string;
  clientCertPem: string;
  clientKeyPem: string;
}

/** The kubeconfig context name kubeadm writes: `<user>@<cluster>`. */
function contextName(user: string, clusterName: string): string {
  return `${user}@${clusterName}`;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/**
 * The kubeconfig text, field for field and in the order `clientcmd.Write` emits. Values are base64 or names
 * kubeadm controls; names are quoted when YAML would otherwise read them as something else.
 */
export function buildKubeconfig(c: KubeconfigContent): string {
  const ctx = contextName(c.userName, c.clusterName);
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${b64(c.caPem)}`,
    `    server: ${yamlScalar(c.server)}`,
    `  name: ${yamlScalar(c.clusterName)}`,
    'contexts:',
    '- context:',
    `    cluster: ${yamlScalar(c.clusterName)}`,
    `    user: ${yamlScalar(c.userName)}`,
    `  name: ${yamlScalar(ctx)}`,
    `current-context: ${yamlScalar(ctx)}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${yamlScalar(c.userName)}`,
    '  user:',
    `    client-certificate-data: ${b64(c.clientCertPem)}`,
    `    client-key-data: ${b64(c.clientKeyPem)}`,
    '',
  ].join('\n');
}

/**
 * Plain scalars for ordinary names (system:kube-scheduler is plain in YAML: ':' is followed by no space). clientcmd
 * reads YAML 1.1 (go-yaml v2), where y, n, yes, on... are bools and 1e3 a float: those, and anything that does not
 * start with a letter, are quoted.
 */
function yamlScalar(v: string): string {
  if (/^[A-Za-z][A-Za-z0-9._:/@-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(v)) return v;
  return JSON.stringify(v);
}

/** What kubepki reads from an existing kubeconfig: the current context's cluster and user. */
export interface ParsedKubeconfig {
  contextName: string;
  clusterName: string;
  server: string;
  /** certificate-authority-data decoded, or undefined when absent (a file reference or insecure). */
  caPem: string | undefined;
  userName: string;
  clientCertPem: string | undefined;
  clientKeyPem: string | undefined;
  /** Set when the user references files instead of embedding data (client-certificate / client-key). */
  clientCertFile: string | undefined;
  clientKeyFile: string | undefined;
}

type Yaml = typeof import('yaml');
let yamlModule: Yaml | undefined;
/**
 * The `yaml` package, loaded on first use and synchronously (its Node entry is CommonJS): `init` on an empty
 * directory and kubeconfigs within simple-yaml.ts's subset never need it.
 */
function yaml(): Yaml {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as Yaml);
}

/** Parses a kubeconfig; `what` (the file path) names it in errors. */
export function parseKubeconfig(text: string, what: string): ParsedKubeconfig {
  return readKubeconfigObject(parseKubeconfigYaml(text, what), what);
}

/**
 * The kubeconfig as a plain object (a mapping whose kind, if any, is Config); errors name `what`. The one YAML
 * reading of a kubeconfig: the PKI commands and the API client (src/client/kubeconfig.ts) both read through it.
 */
export function parseKubeconfigYaml(text: string, what: string): Record<string, unknown> {
  let doc: unknown = readSimpleYaml(text);
  if (doc === undefined) doc = parseWithYaml(text, what);
  const invalid = (why: string) => new KubepkiError('FileInvalid', `${what}: not a valid kubeconfig: ${why}`);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('expected a mapping');
  const d = doc as Record<string, unknown>;
  if (d['kind'] !== undefined && d['kind'] !== 'Config') throw invalid(`kind is "${String(d['kind'])}", expected Config`);
  return d;
}

/** The `yaml` package's reading, for a kubeconfig beyond simple-yaml.ts's subset. */
function parseWithYaml(text: string, what: string): unknown {
  try {
    const tooDeep = yamlNestingProblem(text);
    if (tooDeep) throw new Error(tooDeep);
    const d = yaml().parseDocument(text);
    if (d.errors.length > 0) throw new Error(d.errors[0]!.message.split('\n')[0]);
    return d.toJS();
  } catch (err) {
    throw new KubepkiError('FileInvalid', `${what}: not a valid kubeconfig (YAML error: ${(err as Error).message})`, { cause: err });
  }
}

/** The body (`cluster`, `context` or `user`) of the entry called `name` in a kubeconfig list, as clientcmd finds it. */
export function namedEntry(list: unknown, key: string, name: string): Record<string, unknown> | undefined {
  const entry = Array.isArray(list) ? (list.find((e) => typeof e === 'object' && e !== null && (e as Record<string, unknown>)['name'] === name) as Record<string, unknown> | undefined) : undefined;
  const body = entry?.[key];
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
}

/** A `*-data` field (base64) decoded; undefined when absent. `invalid` makes the caller's error. */
export function decodeDataField(v: unknown, field: string, invalid: (why: string) => Error): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/=\s]+$/.test(v)) throw invalid(`${field} is not base64`);
  return Buffer.from(v, 'base64').toString('utf8');
}

function readKubeconfigObject(d: Record<string, unknown>, what: string): ParsedKubeconfig {
  const invalid = (why: string) => new KubepkiError('FileInvalid', `${what}: not a valid kubeconfig: ${why}`);
  const current = d['current-context'];
  if (typeof current !== 'string' || current === '') throw invalid('no current-context');
  const named = (key: string, name: string): Record<string, unknown> => {
    if (!Array.isArray(d[`${key}s`])) throw invalid(`no ${key}s list`);
    const body = namedEntry(d[`${key}s`], key, name);
    if (!body) throw invalid(`${key} "${name}" not found`);
    return body;
  };
  const context = named('context', current);
  const clusterName = String(context['cluster'] ?? '');
  const userName = String(context['user'] ?? '');
  const cluster = named('cluster', clusterName);
  const user = named('user', userName);
  return {
    contextName: current,
    clusterName,
    server: String(cluster['server'] ?? ''),
    caPem: decodeDataField(cluster['certificate-authority-data'], 'certificate-authority-data', invalid),
    userName,
    clientCertPem: decodeDataField(user['client-certificate-data'], 'client-certificate-data', invalid),
    clientKeyPem: decodeDataField(user['client-key-data'], 'client-key-data', invalid),
    clientCertFile: typeof user['client-certificate'] === 'string' ? user['client-certificate'] : undefined,
    clientKeyFile: typeof user['client-key'] === 'string' ? user['client-key'] : undefined,
  };
}

/**
 * The same kubeconfig with the current user's embedded certificate and key replaced; every other field,
 * comment and order is preserved (renewal must not rewrite what the operator added).
 */
export function replaceClientCredentials(text: string, what: string, creds: { certPem: string; keyPem: string }): string {
  const YAML = yaml();
  const parsed = parseKubeconfig(text, what);
  const doc = YAML.parseDocument(text);
  const users = doc.get('users') as InstanceType<Yaml['YAMLSeq']>;
  const idx = users.items.findIndex((item) => YAML.isMap(item) && item.get('name') === parsed.userName);
  const user = (users.items[idx] as InstanceType<Yaml['YAMLMap']>).get('user') as InstanceType<Yaml['YAMLMap']>;
  user.set('client-certificate-data', b64(creds.certPem));
  user.set('client-key-data', b64(creds.keyPem));
  user.delete('client-certificate');
  user.delete('client-key');
  return doc.toString({ lineWidth: 0 });
}

/**
 * The same kubeconfig with the current cluster's certificate-authority-data replaced (a CA rotation's
 * bundle); everything else kept, a certificate-authority file reference dropped for the embedded data. A
 * kubeconfig without a current context (cluster-info's) has every cluster's CA replaced.
 */
export function replaceClusterCA(text: string, what: string, caPem: string): string {
  const YAML = yaml();
  const d = parseKubeconfigYaml(text, what);
  const current = typeof d['current-context'] === 'string' && d['current-context'] !== '' ? parseKubeconfig(text, what) : undefined;
  const doc = YAML.parseDocument(text);
  const clusters = doc.get('clusters') as InstanceType<Yaml['YAMLSeq']> | undefined;
  if (!clusters || !YAML.isSeq(clusters)) throw new KubepkiError('FileInvalid', `${what}: not a valid kubeconfig: no clusters list`);
  for (const item of clusters.items) {
    if (!YAML.isMap(item) || (current && item.get('name') !== current.clusterName)) continue;
    const cluster = item.get('cluster') as InstanceType<Yaml['YAMLMap']>;
    cluster.set('certificate-authority-data', b64(caPem));
    cluster.delete('certificate-authority');
  }
  return doc.toString({ lineWidth: 0 });
}
