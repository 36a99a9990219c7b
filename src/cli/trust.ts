// `kubepki trust status|set`: custom CA trust on the nodes (seed 001). `status` shows, per node, whether it
// applied the current Secret kube-system/custom-ca-trust-secret, since when, and its error; `set FILE`
// writes the Secret from a seed-style file (PEM CA certificates separated by blank lines) after the same
// validation the API server runs. Parsing and printing only.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { tabwrite } from './certs.js';
import { CUSTOM_CA_TRUST_LABEL, CUSTOM_CA_TRUST_NAMESPACE, CUSTOM_CA_TRUST_SECRET, NODE_LEASE_NAMESPACE } from '../apis/custom-ca-trust.js';
import { readCustomCaFile, secretDataOf } from '../cluster/custom-ca-trust.js';
import { customCaTrustStatus, type CustomCaTrustStatus } from '../cluster/custom-ca-trust-status.js';

const DEFAULT_KUBECONFIG = '/etc/kubernetes/admin.conf';

async function kubeConfigOf(file: string) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubepkiError('FileInvalid', `failed to load kubeconfig: ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) throw new KubepkiError('InvalidConfig', `failed to load kubeconfig: ${file}: no current cluster`);
  return kc;
}

/** The server's Status message of a client-node error, else the error's own. */
function apiMessage(err: unknown): string {
  const body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (err as Error)?.message ?? String(err);
}
const codeOf = (err: unknown): number | undefined => (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined);

export function formatTrustStatus(s: CustomCaTrustStatus): string {
  const head = s.secret.present
    ? `Secret ${CUSTOM_CA_TRUST_NAMESPACE}/${CUSTOM_CA_TRUST_SECRET}: ${s.secret.certificates} certificate(s), sha256 ${s.secret.sha256}${s.secret.invalid ? ` — INVALID: ${s.secret.invalid}` : ''}\n`
    : `Secret ${CUSTOM_CA_TRUST_NAMESPACE}/${CUSTOM_CA_TRUST_SECRET} does not exist: nodes keep no custom CAs from it (sha256 ${s.secret.sha256})\n`;
  if (s.nodes.length === 0) return `${head}No node reports custom CA trust (agents run with --enable-custom-ca-trust report it).\n`;
  const rows = s.nodes.map((n) => [n.node, n.inSync ? 'True' : 'False', n.since ?? '<never>', String(n.certificates ?? 0), (n.appliedSha256 ?? '<none>').slice(0, 12), n.error ? `${n.error} (since ${n.errorSince})` : '<none>'].join('\t'));
  return head + tabwrite(['NODE\tIN SYNC\tAPPLIED SINCE\tCERTIFICATES\tAPPLIED SHA256\tERROR', ...rows], { minwidth: 0, padding: 3 });
}

export function register(program: Command): void {
  const trust = program.command('trust').description(`Custom CA trust on the nodes: Secret ${CUSTOM_CA_TRUST_NAMESPACE}/${CUSTOM_CA_TRUST_SECRET}`);

  trust
    .command('status')
    .description('Per node: has it applied the current custom CA Secret, since when, and its error')
    .option('--kubeconfig <file>', 'the kubeconfig file to use when talking to the cluster', DEFAULT_KUBECONFIG)
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: { kubeconfig: string; output: string }) => {
      if (!['text', 'json'].includes(flags.output)) throw new KubepkiError('InvalidArgument', `--output: "${flags.output}" is not text or json`);
      const { CoreV1Api, CoordinationV1Api } = await import('@kubernetes/client-node');
      const kc = await kubeConfigOf(flags.kubeconfig);
      let secretData: Record<string, string> | null = null;
      try {
        secretData = (await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: CUSTOM_CA_TRUST_NAMESPACE, name: CUSTOM_CA_TRUST_SECRET })).data ?? {};
      } catch (err) {
        if (codeOf(err) !== 404) throw new KubepkiError('APIError', `cannot read the custom CA trust Secret: ${apiMessage(err)}`, { cause: err });
      }
      let leases;
      try {
        leases = (await kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, labelSelector: CUSTOM_CA_TRUST_LABEL })).items;
      } catch (err) {
        throw new KubepkiError('APIError', `cannot list the nodes' custom CA trust reports: ${apiMessage(err)}`, { cause: err });
      }
      const status = customCaTrustStatus({ secretData, leases: leases as never, now: new Date() });
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatTrustStatus(status));
    });

  trust
    .command('set')
    .description('Write the custom CA Secret from a file of PEM CA certificates separated by blank lines (at most 10)')
    .argument('<file>', 'the certificates (PEM, not base64-encoded)')
    .option('--kubeconfig <file>', 'the kubeconfig file to use when talking to the cluster', DEFAULT_KUBECONFIG)
    .action(async (file: string, flags: { kubeconfig: string }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new KubepkiError('FileMissing', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      const cas = readCustomCaFile(text, new Date(), file);
      const { CoreV1Api } = await import('@kubernetes/client-node');
      const api = (await kubeConfigOf(flags.kubeconfig)).makeApiClient(CoreV1Api);
      const body = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: CUSTOM_CA_TRUST_SECRET, namespace: CUSTOM_CA_TRUST_NAMESPACE }, data: secretDataOf(cas) };
      try {
        let rv: string | undefined;
        try {
          rv = (await api.readNamespacedSecret({ namespace: CUSTOM_CA_TRUST_NAMESPACE, name: CUSTOM_CA_TRUST_SECRET })).metadata?.resourceVersion;
        } catch (err) {
          if (codeOf(err) !== 404) throw err;
        }
        if (rv) await api.replaceNamespacedSecret({ namespace: CUSTOM_CA_TRUST_NAMESPACE, name: CUSTOM_CA_TRUST_SECRET, body: { ...body, metadata: { ...body.metadata, resourceVersion: rv } } });
        else await api.createNamespacedSecret({ namespace: CUSTOM_CA_TRUST_NAMESPACE, body });
      } catch (err) {
        throw new KubepkiError('APIError', `cannot write the custom CA trust Secret: ${apiMessage(err)}`, { cause: err });
      }
      process.stdout.write(`secret/${CUSTOM_CA_TRUST_SECRET} ${CUSTOM_CA_TRUST_NAMESPACE}: ${Object.keys(body.data).length} certificate(s) set\n`);
    });
}
