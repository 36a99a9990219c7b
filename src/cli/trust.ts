// `kubepki trust status|set`: custom CA trust on the nodes (seed 001). `status` shows, per node, whether it
// applied the current Secret kube-system/custom-ca-trust-secret, since when, and its error; `set FILE`
// writes the Secret from a seed-style file (PEM CA certificates separated by blank lines) after the same
// validation the API server runs. Parsing and printing only.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { tabwrite } from './certs.js';
import { CUSTOM_CA_TRUST_LABEL, CUSTOM_CA_TRUST_NAMESPACE, CUSTOM_CA_TRUST_SECRET, NODE_LEASE_NAMESPACE } from '../apis/custom-ca-trust.js';
import { readCustomCaFile, secretDataOf } from '../cluster/custom-ca-trust.js';
import { customCaTrustStatus, type CustomCaTrustStatus } from '../cluster/custom-ca-trust-status.js';
import { isApiError } from '../apis/status.js';
import type { Lease, Secret } from '../apis/objects.js';
import { readBoundedFile } from '../util/bounded-file.js';

const DEFAULT_KUBECONFIG = '/etc/kubernetes/admin.conf';

/** The kubeconfig's client (its current context), closed by the caller. */
async function clientOf(file: string) {
  const [{ RestKubeClient }, { loadClientConfig }] = await Promise.all([import('../client/rest.js'), import('../client/kubeconfig.js')]);
  let config;
  try {
    config = loadClientConfig(file);
  } catch (err) {
    // loadClientConfig's messages start with the file's name.
    throw new KubepkiError((err as KubepkiError).code ?? 'FileInvalid', `failed to load kubeconfig: ${(err as Error).message}`, { cause: err });
  }
  return new RestKubeClient(config, { userAgent: 'kubepki-trust' });
}

/** The server's Status message (ApiError's message), else the error's own. */
const apiMessage = (err: unknown): string => (err as Error)?.message ?? String(err);
const isNotFound = (err: unknown): boolean => isApiError(err) && err.code === 404;

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
      const [client, { RESOURCES }] = await Promise.all([clientOf(flags.kubeconfig), import('../client/interface.js')]);
      let secretData: Record<string, string> | null = null;
      let leases: Lease[];
      try {
        try {
          secretData = (await client.resource<Secret>(RESOURCES.secrets).get(CUSTOM_CA_TRUST_SECRET, CUSTOM_CA_TRUST_NAMESPACE)).data ?? {};
        } catch (err) {
          if (!isNotFound(err)) throw new KubepkiError('APIError', `cannot read the custom CA trust Secret: ${apiMessage(err)}`, { cause: err });
        }
        try {
          leases = (await client.resource<Lease>(RESOURCES.leases).list({ namespace: NODE_LEASE_NAMESPACE, labelSelector: CUSTOM_CA_TRUST_LABEL })).items;
        } catch (err) {
          throw new KubepkiError('APIError', `cannot list the nodes' custom CA trust reports: ${apiMessage(err)}`, { cause: err });
        }
      } finally {
        await client.close();
      }
      const status = customCaTrustStatus({ secretData, leases, now: new Date() });
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
        text = await readBoundedFile(file);
      } catch (err) {
        throw new KubepkiError('FileMissing', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      const cas = readCustomCaFile(text, new Date(), file);
      const [client, { RESOURCES }] = await Promise.all([clientOf(flags.kubeconfig), import('../client/interface.js')]);
      const secrets = client.resource<Secret>(RESOURCES.secrets);
      const body: Secret = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: CUSTOM_CA_TRUST_SECRET, namespace: CUSTOM_CA_TRUST_NAMESPACE }, data: secretDataOf(cas) };
      try {
        let rv: string | undefined;
        try {
          rv = (await secrets.get(CUSTOM_CA_TRUST_SECRET, CUSTOM_CA_TRUST_NAMESPACE)).metadata.resourceVersion;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        // A replace carries the resourceVersion read, so a concurrent writer makes this fail with a Conflict.
        if (rv) await secrets.update({ ...body, metadata: { ...body.metadata, resourceVersion: rv } });
        else await secrets.create(body);
      } catch (err) {
        throw new KubepkiError('APIError', `cannot write the custom CA trust Secret: ${apiMessage(err)}`, { cause: err });
      } finally {
        await client.close();
      }
      process.stdout.write(`secret/${CUSTOM_CA_TRUST_SECRET} ${CUSTOM_CA_TRUST_NAMESPACE}: ${Object.keys(body.data ?? {}).length} certificate(s) set\n`);
    });
}
