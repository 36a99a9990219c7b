// `kubepki agent` flags of custom CA trust (AKS's --enable-custom-ca-trust and --custom-ca-trust-certificates,
// seed 001), parsed into the agent's options. Parsing only: the logic is src/agent/custom-ca-trust*.ts.
import type { Command } from 'commander';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import type { Logger } from '../util/logger.js';
import { readCustomCaFile } from '../cluster/custom-ca-trust.js';
import { CustomCaTrustStore, DEFAULT_CUSTOM_CA_TRUST_DIR, DEFAULT_CUSTOM_CA_TRUST_UPDATE_COMMAND } from '../agent/custom-ca-trust.js';
import type { NodeAgentOptions } from '../agent/agent.js';
import { clusterTrustBundleSource, type CtbSelection } from '../agent/custom-ca-trust-ctb.js';
import { systemClock } from '../util/clock.js';
import { readBoundedFile } from '../util/bounded-file.js';

export interface CustomCaTrustFlags {
  enableCustomCaTrust?: boolean;
  customCaTrustCertificates?: string;
  customCaTrustDir: string;
  customCaTrustUpdateCommand: string;
  customCaTrustReloadCommand?: string;
  customCaTrustBundle?: string;
  customCaTrustSyncPeriod: string;
  customCaTrustClusterTrustBundle?: string;
  customCaTrustClusterTrustBundleSigner?: string;
  customCaTrustClusterTrustBundleLabels?: string;
}

export function customCaTrustFlags(cmd: Command): Command {
  return cmd
    .option('--enable-custom-ca-trust', 'install the custom CA certificates of Secret kube-system/custom-ca-trust-secret into the node trust store, and follow it')
    .option('--custom-ca-trust-certificates <file>', 'PEM CA certificates separated by blank lines (at most 10), installed before the node bootstraps')
    .option('--custom-ca-trust-dir <dir>', 'trust directory; the certificates go into its kubepki/ subfolder', DEFAULT_CUSTOM_CA_TRUST_DIR)
    .option('--custom-ca-trust-update-command <cmd>', 'run (with /bin/sh -c) after the certificates change; "" runs nothing', DEFAULT_CUSTOM_CA_TRUST_UPDATE_COMMAND)
    .option('--custom-ca-trust-reload-command <cmd>', 'run after the update command, e.g. "systemctl restart containerd"')
    .option('--custom-ca-trust-bundle <file>', 'also keep one PEM file of the custom CA certificates')
    .option('--custom-ca-trust-sync-period <duration>', 're-read period of the Secret besides its watch (Go duration)', '1m0s')
    .option('--custom-ca-trust-cluster-trust-bundle <name>', 'take the custom CAs from this ClusterTrustBundle instead of the Secret')
    .option('--custom-ca-trust-cluster-trust-bundle-signer <signerName>', 'take the custom CAs from every ClusterTrustBundle of this signer instead of the Secret')
    .option('--custom-ca-trust-cluster-trust-bundle-labels <selector>', 'with --custom-ca-trust-cluster-trust-bundle-signer: only bundles whose labels match (label selector)');
}

export async function customCaTrustOptions(flags: CustomCaTrustFlags, logger: Logger): Promise<Pick<NodeAgentOptions, 'customCaTrust'>> {
  if (!flags.enableCustomCaTrust) {
    if (flags.customCaTrustCertificates) throw new KubepkiError('InvalidArgument', '--custom-ca-trust-certificates needs --enable-custom-ca-trust');
    return {};
  }
  const resyncMs = parseGoDuration(flags.customCaTrustSyncPeriod);
  if (resyncMs < 1000) throw new KubepkiError('InvalidArgument', `--custom-ca-trust-sync-period: "${flags.customCaTrustSyncPeriod}" must be at least 1s`);
  let fileCas;
  if (flags.customCaTrustCertificates) {
    let text: string;
    try {
      text = await readBoundedFile(flags.customCaTrustCertificates);
    } catch (err) {
      throw new KubepkiError('FileMissing', `--custom-ca-trust-certificates: cannot read ${flags.customCaTrustCertificates}: ${(err as Error).message}`, { cause: err });
    }
    fileCas = readCustomCaFile(text, new Date(), `--custom-ca-trust-certificates ${flags.customCaTrustCertificates}`).map((c) => ({ ...c, key: 'node-file' }));
  }
  const store = new CustomCaTrustStore({
    dir: flags.customCaTrustDir,
    updateCommand: flags.customCaTrustUpdateCommand,
    ...(flags.customCaTrustReloadCommand ? { reloadCommand: flags.customCaTrustReloadCommand } : {}),
    ...(flags.customCaTrustBundle ? { bundleFile: flags.customCaTrustBundle } : {}),
    logger,
  });
  const selection = ctbSelection(flags);
  const source = selection ? clusterTrustBundleSource({ selection, resyncMs, clock: systemClock, logger }) : undefined;
  return { customCaTrust: { store, resyncMs, ...(fileCas ? { fileCas } : {}), ...(source ? { source } : {}) } };
}

/** The kubelet's clusterTrustBundle projection rules: a name, or a signer (with labels) — not both. */
function ctbSelection(flags: CustomCaTrustFlags): CtbSelection | undefined {
  const { customCaTrustClusterTrustBundle: name, customCaTrustClusterTrustBundleSigner: signerName, customCaTrustClusterTrustBundleLabels: labels } = flags;
  if (name && signerName) throw new KubepkiError('InvalidArgument', '--custom-ca-trust-cluster-trust-bundle and --custom-ca-trust-cluster-trust-bundle-signer are mutually exclusive');
  if (labels && !signerName) throw new KubepkiError('InvalidArgument', '--custom-ca-trust-cluster-trust-bundle-labels needs --custom-ca-trust-cluster-trust-bundle-signer');
  if (name) return { name };
  if (signerName) return { signerName, ...(labels ? { labelSelector: labels } : {}) };
  return undefined;
}
