// `kubepki token create|list|delete|generate`: kubeadm's bootstrap-token commands, talking to the API server
// named by --kubeconfig (Secrets bootstrap-token-<id> in kube-system). Parsing and printing only: the token
// format and the Secret layout are src/auth/bootstrap-token-secret.ts.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import type { BootstrapTokenInfo } from '../auth/bootstrap-token-secret.js';
import { shortHumanDuration, tabwrite } from './certs.js';
import type { Secret } from '../apis/objects.js';
import { formatTime } from '../util/time.js';
import { NAMESPACE_SYSTEM } from '../apis/names.js';
import { isAlreadyExists } from '../apis/status.js';

const DEFAULT_KUBECONFIG = '/etc/kubernetes/admin.conf';
const DEFAULT_USAGES = ['signing', 'authentication'];
const DEFAULT_GROUPS = ['system:bootstrappers:kubeadm:default-node-token'];

/** pflag's StringSlice: repeatable, each value comma-separated. */
const collectSlice = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').filter((s) => s !== '')];


/**
 * `kubeadm token list`'s text: a header and one row per token, the TTL, usages and description cells padded
 * as kubeadm pads them; like kubeadm's printer, each token is flushed on its own, the first with the header.
 */
export function formatTokenList(tokens: BootstrapTokenInfo[], now: Date): string {
  const header = 'TOKEN\tTTL\tEXPIRES\tUSAGES\tDESCRIPTION\tEXTRA GROUPS';
  const table = (lines: string[]) => tabwrite(lines, { minwidth: 10, padding: 3 });
  if (tokens.length === 0) return table([header]);
  const rowOf = (t: BootstrapTokenInfo): string =>
    [
      t.token,
      (t.expires ? shortHumanDuration(Math.trunc((t.expires.getTime() - now.getTime()) / 1000)) : '<forever>').padEnd(9),
      t.expires ? formatTime(t.expires) : '<never>',
      (t.usages.join(',') || '<none>').padEnd(22),
      (t.description || '<none>').padEnd(56),
      t.groups.join(',') || '<none>',
    ].join('\t');
  return tokens.map((t, i) => table(i === 0 ? [header, rowOf(t)] : [rowOf(t)])).join('');
}

/** The Secrets of kube-system through the API server the kubeconfig names. */
async function secretsClient(kubeconfig: string) {
  const [{ RestKubeClient }, { RESOURCES }] = await Promise.all([import('../client/rest.js'), import('../client/interface.js')]);
  let client;
  try {
    // A request or two, then exit: the minimal HTTP client, node:http(s) never loaded (bench:cli).
    client = RestKubeClient.fromFile(kubeconfig, { userAgent: 'kubepki-token', minimalHttp: true });
  } catch (err) {
    throw new KubepkiError('FileInvalid', `failed to load admin kubeconfig: ${((err as KubepkiError).cause as Error | undefined)?.message ?? (err as Error).message}`, { cause: err });
  }
  return { secrets: client.resource<Secret>(RESOURCES.secrets), close: () => client.close() };
}

/** The server's message (kube's Status.message), else the error's own. */
const apiMessage = (err: unknown): string => (err as Error)?.message ?? String(err);

export function register(program: Command): void {
  const token = program
    .command('token')
    .description('Manage bootstrap tokens: Secrets "bootstrap-token-<id>" of type bootstrap.kubernetes.io/token in kube-system');

  token
    .command('create')
    .description('Create a bootstrap token on the server and print it')
    .argument('[token]', 'the token to write, of the form "[a-z0-9]{6}.[a-z0-9]{16}"; a random one when omitted')
    .option('--kubeconfig <file>', 'the kubeconfig file to use when talking to the cluster', DEFAULT_KUBECONFIG)
    .option('--ttl <duration>', 'the duration before the token is automatically deleted (e.g. 1s, 2m, 3h); 0 means never expires', '24h0m0s')
    .option('--usages <usages>', `the ways in which this token can be used (default: ${DEFAULT_USAGES.join(',')})`, collectSlice)
    .option('--groups <groups>', `extra groups that this token will authenticate as (default: ${DEFAULT_GROUPS.join(',')})`, collectSlice)
    .option('--description <text>', 'a human friendly description of how this token is used', '')
    .option('--print-join-command', 'instead of printing only the token, print the full `kubepki agent` command a new node runs to join with it')
    .action(async (tokenArg: string | undefined, flags: { kubeconfig: string; ttl: string; usages?: string[]; groups?: string[]; description: string; printJoinCommand?: boolean }) => {
      const s = await import('../auth/bootstrap-token-secret.js');
      const ttlMs = parseGoDuration(flags.ttl);
      if (ttlMs < 0) throw new KubepkiError('InvalidArgument', `--ttl: must not be negative, got ${flags.ttl}`);
      const value = tokenArg ?? s.generateBootstrapToken();
      const secret = s.bootstrapTokenToSecret(
        { token: value, ttlMs, usages: flags.usages ?? DEFAULT_USAGES, groups: flags.groups ?? DEFAULT_GROUPS, description: flags.description },
        new Date(),
      );
      // Checked before the token exists, so a kubeconfig without a CA leaves no token behind.
      const join = flags.printJoinCommand ? (await import('./join-command.js')).joinCommandFromKubeconfig(flags.kubeconfig, value) : null;
      const api = await secretsClient(flags.kubeconfig);
      const name = secret.metadata.name!;
      const id = name.slice(s.BOOTSTRAP_TOKEN_SECRET_PREFIX.length);
      // kubeadm GETs the Secret first and fails if it exists; the create alone says the same (409 AlreadyExists),
      // in one round trip and without the race between the two requests.
      try {
        await api.secrets.create(secret);
      } catch (err) {
        if (isAlreadyExists(err)) throw new KubepkiError('InvalidArgument', `a token with id "${id}" already exists`, { cause: err });
        throw new KubepkiError('InvalidArgument', `failed to create or update bootstrap token with name ${name}: ${apiMessage(err)}`, { cause: err });
      } finally {
        await api.close();
      }
      process.stdout.write(`${join ?? value}\n`);
    });

  token
    .command('list')
    .description('List bootstrap tokens on the server')
    .option('--kubeconfig <file>', 'the kubeconfig file to use when talking to the cluster', DEFAULT_KUBECONFIG)
    .action(async (flags: { kubeconfig: string }) => {
      const s = await import('../auth/bootstrap-token-secret.js');
      const api = await secretsClient(flags.kubeconfig);
      let items: Secret[];
      try {
        items = (await api.secrets.list({ namespace: NAMESPACE_SYSTEM, fieldSelector: `type=${s.BOOTSTRAP_TOKEN_SECRET_TYPE}` })).items;
      } catch (err) {
        throw new KubepkiError('InvalidArgument', `failed to list bootstrap tokens: ${apiMessage(err)}`, { cause: err });
      } finally {
        await api.close();
      }
      const tokens: BootstrapTokenInfo[] = [];
      for (const secret of items) {
        // The field selector is honoured by kube-apiserver; filter again so any server's answer is safe.
        if (secret.type !== s.BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
        try {
          tokens.push(s.bootstrapTokenFromSecret(secret));
        } catch (err) {
          process.stderr.write(`${(err as Error).message}\n`);
        }
      }
      process.stdout.write(formatTokenList(tokens, new Date()));
    });

  token
    .command('delete')
    .description('Delete bootstrap tokens on the server, given as full tokens or token IDs')
    .argument('<token-value...>', 'a token "[a-z0-9]{6}.[a-z0-9]{16}" or a token ID "[a-z0-9]{6}"')
    .option('--kubeconfig <file>', 'the kubeconfig file to use when talking to the cluster', DEFAULT_KUBECONFIG)
    .action(async (values: string[], flags: { kubeconfig: string }) => {
      const s = await import('../auth/bootstrap-token-secret.js');
      const ids = values.map((v) => {
        if (s.isValidBootstrapTokenId(v)) return v;
        const parsed = s.parseBootstrapToken(v);
        if (!parsed) throw new KubepkiError('InvalidArgument', `given token didn't match pattern "${s.BOOTSTRAP_TOKEN_ID_PATTERN}" or "${s.BOOTSTRAP_TOKEN_PATTERN}"`);
        return parsed.id;
      });
      const api = await secretsClient(flags.kubeconfig);
      try {
        for (const id of ids) {
          try {
            await api.secrets.delete(s.bootstrapTokenSecretName(id), { namespace: NAMESPACE_SYSTEM });
          } catch (err) {
            throw new KubepkiError('InvalidArgument', `failed to delete bootstrap token "${id}": ${apiMessage(err)}`, { cause: err });
          }
          process.stdout.write(`bootstrap token "${id}" deleted\n`);
        }
      } finally {
        await api.close();
      }
    });

  token
    .command('generate')
    .description('Generate and print a bootstrap token, but do not create it on the server')
    .action(async () => {
      const s = await import('../auth/bootstrap-token-secret.js');
      process.stdout.write(`${s.generateBootstrapToken()}\n`);
    });
}
