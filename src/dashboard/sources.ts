// What the dashboard watches, with its kubeconfig's identity (as `kubectl proxy` acts as it): CSRs, Secrets
// and ConfigMaps through informers over the project's REST client, plus the control-plane certificate files
// and kubeconfigs readable on this host (--cert-dir, --kubeconfig-dir), polled. Each API refusal is kept per
// resource so the page can say "forbidden" rather than show an empty list as if it were the truth.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Informer, type ListerWatcher } from '../controllers/runtime/informer.js';
import { RESOURCES, type ResourceClient } from '../client/interface.js';
import type { RestKubeClient } from '../client/rest.js';
import type { CertificateSigningRequest, ConfigMap, KubeObject, Secret } from '../apis/index.js';
import { isApiError } from '../apis/status.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { DashboardSnapshot } from './view.js';
import type { LocalCertSource } from './trust-model.js';
import type { Lease } from '../apis/objects.js';
import { NAMESPACE_NODE_LEASE } from '../apis/names.js';
import { parseUntrustedYaml } from '../util/yaml-nesting.js';

export interface SourceOptions {
  client: RestKubeClient;
  certDir?: string;
  kubeconfigDir?: string;
  clock?: Clock;
  logger?: Logger;
  /** How often local files are re-read. */
  filePollMs?: number;
  onChange: () => void;
}

export class DashboardSources {
  readonly errors: DashboardSnapshot['errors'] = {};
  readonly csrs: Informer<CertificateSigningRequest>;
  readonly secrets: Informer<Secret>;
  readonly configMaps: Informer<ConfigMap>;
  /** kube-node-lease: the nodes' custom CA trust reports (`<node>-custom-ca-trust`). */
  readonly leases: Informer<Lease>;
  files: LocalCertSource[] = [];
  private filesKey = '';

  constructor(private readonly options: SourceOptions) {
    const clock = options.clock ?? systemClock;
    const informer = <T extends KubeObject>(name: string, rc: ResourceClient<T>, namespace?: string) => {
      const inf = new Informer<T>({ name, listerWatcher: this.recording(name, rc), clock, ...(options.logger ? { logger: options.logger } : {}), pageSize: 500, ...(namespace ? { namespace } : {}) });
      inf.addEventHandler({ onAdd: options.onChange, onUpdate: options.onChange, onDelete: options.onChange });
      return inf;
    };
    this.csrs = informer('certificatesigningrequests', options.client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests));
    this.secrets = informer('secrets', options.client.resource<Secret>(RESOURCES.secrets));
    this.configMaps = informer('configmaps', options.client.resource<ConfigMap>(RESOURCES.configMaps));
    this.leases = informer('leases', options.client.resource<Lease>(RESOURCES.leases), NAMESPACE_NODE_LEASE);
  }

  /**
   * A ListerWatcher that remembers the API's last refusal or failure (and forgets it once a list succeeds).
   * A watch that fails (the API server went away) counts too, and the next watch first makes a one-item
   * list, so that the page learns both that the API is unreachable and, as soon as it is back, that it is.
   */
  private recording<T>(name: string, rc: ListerWatcher<T>): ListerWatcher<T> {
    let failed = false;
    const record = (err: unknown) => {
      const e = isApiError(err)
        ? { code: err.code, reason: err.reason ?? '', message: err.message }
        : { code: 0, reason: 'Unreachable', message: (err as Error).message };
      const prev = this.errors[name];
      this.errors[name] = e;
      if (!prev || prev.message !== e.message) this.options.onChange();
    };
    const clear = () => {
      failed = false;
      if (this.errors[name]) {
        delete this.errors[name];
        this.options.onChange();
      }
    };
    return {
      list: async (opts) => {
        try {
          const out = await rc.list(opts);
          clear();
          return out;
        } catch (err) {
          record(err);
          throw err;
        }
      },
      watch: (opts, onEvent) => {
        let inner: { stop(): void } | undefined;
        let stopped = false;
        const done = (async () => {
          if (failed) {
            try {
              await rc.list({ ...(opts.namespace ? { namespace: opts.namespace } : {}), limit: 1 });
              clear();
            } catch (err) {
              record(err);
              throw err;
            }
          }
          if (stopped) return;
          const stream = rc.watch(opts, onEvent);
          inner = stream;
          try {
            await stream.done;
          } catch (err) {
            failed = true;
            record(err);
            throw err;
          }
        })();
        return {
          stop: () => {
            stopped = true;
            inner?.stop();
          },
          done,
        };
      },
    };
  }

  /** Runs until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const poll = async () => {
      while (!signal.aborted) {
        await this.readFiles().catch((err: unknown) => this.options.logger?.warn({ err: (err as Error).message }, 'dashboard: cannot read local certificate files'));
        await (this.options.clock ?? systemClock).sleep(this.options.filePollMs ?? 10_000, signal).catch(() => undefined);
      }
    };
    await Promise.all([this.csrs.run(signal), this.secrets.run(signal), this.configMaps.run(signal), this.leases.run(signal), poll()]);
  }

  private async readFiles(): Promise<void> {
    const found: LocalCertSource[] = [];
    if (this.options.certDir) {
      for (const file of await filesUnder(this.options.certDir, (f) => f.endsWith('.crt'), 2)) {
        const pem = await readFile(file, 'utf8').catch(() => '');
        if (pem) found.push({ use: { kind: 'file', where: `file ${path.relative(this.options.certDir, file)}` }, pem });
      }
    }
    if (this.options.kubeconfigDir) {
      for (const file of await filesUnder(this.options.kubeconfigDir, (f) => f.endsWith('.conf'), 0)) {
        found.push(...kubeconfigCerts(file, await readFile(file, 'utf8').catch(() => '')));
      }
    }
    const key = found.map((f) => f.use.where + f.pem).join('\n');
    if (key !== this.filesKey) {
      this.filesKey = key;
      this.files = found;
      this.options.onChange();
    }
  }
}

async function filesUnder(dir: string, keep: (f: string) => boolean, depth: number): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && depth > 0) out.push(...(await filesUnder(full, keep, depth - 1)));
    else if (e.isFile() && keep(e.name)) out.push(full);
  }
  return out.sort();
}

/** The certificates embedded in a kubeconfig: its clusters' CAs and its users' client certificates (never keys or tokens). */
function kubeconfigCerts(file: string, text: string): LocalCertSource[] {
  const name = path.basename(file);
  let doc: { clusters?: { name?: string; cluster?: Record<string, unknown> }[]; users?: { name?: string; user?: Record<string, unknown> }[] };
  try {
    doc = (parseUntrustedYaml(text) ?? {}) as typeof doc;
  } catch {
    return [];
  }
  const out: LocalCertSource[] = [];
  const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : '');
  for (const c of doc.clusters ?? []) {
    const pem = b64(c.cluster?.['certificate-authority-data']);
    if (pem) out.push({ use: { kind: 'kubeconfig', where: `kubeconfig ${name} (cluster ${c.name ?? ''} CA)` }, pem });
  }
  for (const u of doc.users ?? []) {
    const pem = b64(u.user?.['client-certificate-data']);
    if (pem) out.push({ use: { kind: 'kubeconfig', where: `kubeconfig ${name} (user ${u.name ?? ''})` }, pem });
  }
  return out;
}
