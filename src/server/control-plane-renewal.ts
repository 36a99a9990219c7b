// serve renews the control plane's own leaves before they expire: the serving certificate, the front-proxy
// client certificate and the kubeconfigs it wrote (admin, super-admin, controller-manager, scheduler), at
// a fraction of their life (2/3 by default, as the kubelet rotates at 70–90 %), from the CA key on disk,
// through the same path as `kubepki certs renew` (atomic writes, old files kept as .bak). The new serving
// certificate is taken up by the live reload (dynamic-certs.ts); kubeconfigs are read per use by their
// clients. Without the CA key (an external CA) nothing is written: a warning says how long is left.
import { renewCertificates } from '../cluster/renew.js';
import { CERTIFICATE_BACKDATE_MS } from '../cluster/init.js';
import { LEAF_LIST, caSpec, type CAName } from '../cluster/certlist.js';
import { embeddedClientCertificate } from '../cluster/expiration.js';
import { certPath, keyPath, loadCertificateFile, loadKubeconfig, readOptional } from '../cluster/pki-dir.js';
import { systemClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Certificate } from '../x509/certificate.js';

/** What serve renews: kubeadm's names. */
export const CONTROL_PLANE_LEAVES = ['apiserver', 'front-proxy-client', 'admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf'] as const;

export interface ControlPlaneRenewalOptions {
  certDir: string;
  kubeconfigDir: string;
  /** Renew once this fraction of the life (notBefore → notAfter) has passed; default 2/3. */
  renewAtFraction?: number;
  clock?: Clock;
  logger?: Logger;
}

export interface RenewalPass {
  renewed: string[];
  /** Due but not renewable here (no CA key, expired CA): one line each, with the time left. */
  warnings: string[];
  /** The earliest time any present leaf becomes due (for the next pass). */
  nextDue: Date | undefined;
}

interface Leaf {
  name: string;
  caName: CAName;
  cert: Certificate;
}

async function loadLeaf(o: ControlPlaneRenewalOptions, name: string): Promise<Leaf | undefined> {
  const spec = LEAF_LIST.find((l) => l.name === name);
  if (spec) {
    const loaded = await loadCertificateFile(certPath(o.certDir, spec.baseName));
    return loaded ? { name, caName: spec.caName, cert: loaded.certificate } : undefined;
  }
  const kc = await loadKubeconfig(o.kubeconfigDir, name);
  if (!kc) return undefined;
  // A kubeconfig without an embedded certificate (a token, a file path) is not ours to renew.
  try {
    return { name, caName: 'ca', cert: embeddedClientCertificate(kc) };
  } catch {
    return undefined;
  }
}

/** When a certificate is due: notBefore + fraction × life. */
export function renewalDue(cert: Certificate, fraction: number): Date {
  const from = cert.notBefore.getTime();
  return new Date(from + (cert.notAfter.getTime() - from) * fraction);
}

const humanDuration = (ms: number): string => {
  if (ms <= 0) return 'expired';
  const h = Math.floor(ms / 3_600_000);
  if (h >= 48) return `${Math.floor(h / 24)}d`;
  if (h >= 1) return `${h}h${Math.floor((ms % 3_600_000) / 60_000)}m`;
  return `${Math.max(1, Math.floor(ms / 60_000))}m`;
};

/** One pass: renews every control-plane leaf that is due and can be renewed. */
export async function renewDueControlPlaneLeaves(o: ControlPlaneRenewalOptions): Promise<RenewalPass> {
  const clock = o.clock ?? systemClock;
  const fraction = o.renewAtFraction ?? 2 / 3;
  const now = clock.now();
  const pass: RenewalPass = { renewed: [], warnings: [], nextDue: undefined };
  const caKeyPresent = new Map<CAName, boolean>();
  for (const name of CONTROL_PLANE_LEAVES) {
    const leaf = await loadLeaf(o, name);
    if (!leaf) continue;
    const due = renewalDue(leaf.cert, fraction);
    if (due > now) {
      if (!pass.nextDue || due < pass.nextDue) pass.nextDue = due;
      continue;
    }
    if (!caKeyPresent.has(leaf.caName)) caKeyPresent.set(leaf.caName, (await readOptional(keyPath(o.certDir, caSpec(leaf.caName).baseName))) !== undefined);
    const left = humanDuration(leaf.cert.notAfter.getTime() - now.getTime());
    if (!caKeyPresent.get(leaf.caName)) {
      pass.warnings.push(`${name} is due for renewal (${left} left, expires ${leaf.cert.notAfter.toISOString()}) but the ${leaf.caName} key is not on disk (external CA): renew it with the CA that holds the key`);
      continue;
    }
    try {
      // The same lifetime as the certificate it replaces (capped at the CA's expiry by renew).
      // (notBefore is backdated by CERTIFICATE_BACKDATE_MS in both).
      const validity = leaf.cert.notAfter.getTime() - leaf.cert.notBefore.getTime() - CERTIFICATE_BACKDATE_MS;
      await renewCertificates({ certDir: o.certDir, kubeconfigDir: o.kubeconfigDir, names: [name], certificateValidityMs: validity, clock });
      pass.renewed.push(name);
    } catch (err) {
      pass.warnings.push(`${name} is due for renewal (${left} left) but could not be renewed: ${(err as Error).message}`);
    }
  }
  return pass;
}

export interface ControlPlaneRenewalLoop {
  stop(): Promise<void>;
}

/**
 * Runs renewal passes until stopped: right away, then at the next due time (at most every `maxSleepMs`,
 * default 1 h, so a clock jump or a file replaced by hand is noticed), each renewal followed by `onRenewed`.
 */
export function startControlPlaneRenewal(o: ControlPlaneRenewalOptions & { maxSleepMs?: number; onRenewed?: (names: string[]) => Promise<void> }): ControlPlaneRenewalLoop {
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? silentLogger;
  const maxSleep = o.maxSleepMs ?? 3_600_000;
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      let pass: RenewalPass | undefined;
      try {
        pass = await renewDueControlPlaneLeaves(o);
        if (pass.renewed.length > 0) {
          logger.info({ renewed: pass.renewed }, 'renewed control-plane certificates');
          await o.onRenewed?.(pass.renewed);
        }
        // Repeated each pass (at most hourly) with the time left, as the expiry comes closer.
        for (const w of pass.warnings) logger.warn(w);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'control-plane certificate renewal pass failed');
      }
      const untilDue = pass?.nextDue ? pass.nextDue.getTime() - clock.now().getTime() : maxSleep;
      try {
        await clock.sleep(Math.max(1000, Math.min(maxSleep, untilDue)), abort.signal);
      } catch {
        return;
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}
