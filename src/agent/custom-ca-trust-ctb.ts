// Custom CA trust taken from ClusterTrustBundles instead of the Secret, selected as the kubelet's
// clusterTrustBundle projected volume selects them: one bundle by name, or every bundle of a signer whose
// labels match a selector (unified and deduplicated; bundles taken in name order so every node computes
// the same set). A list+watch narrowed by the API server (metadata.name / spec.signerName field selector,
// label selector), re-listed each resync period. Expired certificates are left out; a missing named bundle
// means no custom CAs, as `optional: true` does for the kubelet.
import { RESOURCES } from '../client/interface.js';
import type { ClusterTrustBundle } from '../apis/clustertrustbundle.js';
import { trustBundleCertificates } from '../cluster/trust-bundle.js';
import type { CustomCa } from '../cluster/custom-ca-trust.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { CustomCaSource, WantedCustomCas } from './custom-ca-trust-follower.js';
import { listWatchLoop, type ListWatchSelection } from './list-watch.js';

export type CtbSelection = { name: string } | { signerName: string; labelSelector?: string };

export function describeCtbSelection(sel: CtbSelection): string {
  return 'name' in sel ? `clustertrustbundle/${sel.name}` : `clustertrustbundles signerName=${sel.signerName}${sel.labelSelector ? ` labels=${sel.labelSelector}` : ''}`;
}

/** The wanted set of the selected bundles (pure: the tests and the source share it). */
export function wantedFromBundles(selection: CtbSelection, bundles: Iterable<ClusterTrustBundle>, now: Date): WantedCustomCas {
  const source = describeCtbSelection(selection);
  const certificates: CustomCa[] = [];
  const problems: string[] = [];
  for (const b of [...bundles].sort((x, y) => (x.metadata.name ?? '').localeCompare(y.metadata.name ?? ''))) {
    try {
      trustBundleCertificates(b.spec?.trustBundle ?? '').forEach((certificate, index) => {
        if (certificate.notAfter.getTime() > now.getTime()) certificates.push({ key: `ctb-${b.metadata.name}`, index, certificate });
      });
    } catch (err) {
      problems.push(`${b.metadata.name}: ${(err as Error).message}`);
    }
  }
  return problems.length ? { source, certificates: [], invalid: `a ClusterTrustBundle is invalid: ${problems.join('; ')}` } : { source, certificates };
}

export function clusterTrustBundleSource(options: { selection: CtbSelection; resyncMs: number; clock: Clock; logger: Logger }): CustomCaSource {
  const sel = options.selection;
  const selection: ListWatchSelection = 'name' in sel ? { fieldSelector: `metadata.name=${sel.name}` } : { fieldSelector: `spec.signerName=${sel.signerName}`, ...(sel.labelSelector ? { labelSelector: sel.labelSelector } : {}) };
  return {
    follow: ({ kubeConfig, changed, signal }) => {
      const bundles = new Map<string, ClusterTrustBundle>();
      const publish = () => changed(wantedFromBundles(sel, bundles.values(), options.clock.now()));
      return listWatchLoop<ClusterTrustBundle>({
        ...options,
        what: 'the ClusterTrustBundles',
        kubeConfig,
        signal,
        resource: RESOURCES.clusterTrustBundles,
        selection,
        onList: (items) => {
          bundles.clear();
          for (const b of items) bundles.set(b.metadata.name!, b);
          publish();
        },
        onEvent: (type, b) => {
          if (type === 'DELETED') bundles.delete(b.metadata.name!);
          else bundles.set(b.metadata.name!, b);
          publish();
        },
      });
    },
  };
}
