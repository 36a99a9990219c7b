// The steps of `kubepki ca rotate` (the plan is src/cluster/ca-rotation/plan.ts): each reads what it needs
// from the rotation state object (kube-system/kubepki-ca-rotation, a Secret since it carries the new keys
// until the end) and from the data directory, does its work idempotently — files written atomically in an
// order where every moment in between is a valid trust set for serve's live reload — and waits for the
// proof that it took effect (a probe certificate accepted, the new serving certificate seen, the bundles
// published) before the step is recorded as finished. With several API server replicas (each following the
// rotation in its own data dir, server/ca-rotation-follower.ts), every probe goes to each live replica, and
// each step starts only once every replica applied the steps recorded before it.
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { KubepkiError } from '../../util/errors.js';
import { systemClock, type Clock } from '../../util/clock.js';
import { generateKeyPair, parsePrivateKeyPem, privateKeyToPem } from '../../x509/keys.js';
import { leafUsages } from '../../cluster/certlist.js';
import { issueCertificate, parseCertificateDer, parseCertificatesPem, type Certificate } from '../../x509/certificate.js';
import { parseKubeconfig, replaceClusterCA } from '../../cluster/kubeconfig.js';
import { readOptional } from '../../cluster/pki-dir.js';
import { bundle, generateRotationMaterial, type RotationMaterial } from '../../cluster/ca-rotation/material.js';
import { STEPS, type RotationState, type StepSpec } from '../../cluster/ca-rotation/plan.js';
import { decodeState, encodeNewState, encodeStateJson, SECRET_KEYS, STATE_NAME, STATE_NAMESPACE, STATE_SECRET_TYPE, unsealKeys } from '../../cluster/ca-rotation/state.js';
import { backupDir, FILE_STEPS, findOldCAKey, sameCertSet, skidOf, STEPS_NEEDING_KEYS } from '../../cluster/ca-rotation/files.js';
import { caughtUp, parseReplica, REPLICA_LABEL, REPLICA_LABEL_VALUE, REPLICA_NAMESPACE, type Replica } from '../../cluster/ca-rotation/replicas.js';
import { RestKubeClient } from '../../client/rest.js';
import { RESOURCES } from '../../client/interface.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../apis/status.js';
import type { KubeObject, Lease } from '../../apis/index.js';

export { STATE_NAME, STATE_NAMESPACE };
const SECRETS = RESOURCES.secrets;
const CONFIGMAPS = RESOURCES.configMaps;
const NAMESPACES = RESOURCES.namespaces;
const PROBE_USER = 'system:kubepki:ca-rotation-probe';
/** Steps that need the new private keys: the file steps that write them, and the probes made with them. */
const NEEDS_KEYS = new Set([...STEPS_NEEDING_KEYS, 'trust-live']);

interface StateObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export interface RotationContext {
  dataDir: string;
  /** The admin kubeconfig (re-read for every call: the rotation re-issues its certificate). */
  kubeconfig: string;
  clock?: Clock;
  /** How long a step waits for its effect (a reload, a publication); default 120 s (serve's fallback check is 60 s). */
  waitTimeoutMs?: number;
  /**
   * How long what the cluster publishes takes to reach its readers; default 0 (the command's flag defaults to
   * 6 min). *switch* serves the new CA only that long after old+new was published (pods read kube-root-ca.crt
   * from a projected volume the kubelet refreshes on its sync period plus its ConfigMap cache TTL, 1 min each
   * by default), and *complete* checks for clients of the old CA only that long after the new signing CA was
   * published (agents read cluster-info every --ca-sync-period, 5 min by default, and then rotate): a reader
   * that has not caught up fails its TLS handshake, or is still on the old CA without having spoken since.
   */
  propagationWaitMs?: number;
  /** Checked before each step and before it is recorded (the rotation lock, lock.ts). */
  assertLockHeld?: () => void;
  log(line: string): void;
}

const unb64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));
const pki = (ctx: RotationContext, f: string) => path.join(ctx.dataDir, 'pki', f);
const client = (ctx: RotationContext) => RestKubeClient.fromFile(ctx.kubeconfig, { userAgent: 'kubepki-ca-rotate' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The data directory must be a kubepki cluster: its CA pairs, service-account key and admin kubeconfig. */
export async function checkDataDir(dataDir: string): Promise<void> {
  const need = ['pki/ca.crt', 'pki/ca.key', 'pki/front-proxy-ca.crt', 'pki/front-proxy-ca.key', 'pki/sa.key', 'pki/sa.pub', 'admin.conf'];
  const missing: string[] = [];
  for (const f of need) if ((await readOptional(path.join(dataDir, f))) === undefined) missing.push(f);
  if (missing.length === need.length) throw new KubepkiError('InvalidArgument', `${dataDir} is not a kubepki data directory (no pki/ca.crt, no admin.conf): give the --data-dir of kubepki serve`);
  if (missing.length > 0) throw new KubepkiError('InvalidArgument', `${dataDir} is not a complete kubepki data directory: missing ${missing.join(', ')} (a CA rotation needs the CA keys on disk)`);
}

export interface LoadedState {
  object: StateObject;
  state: RotationState;
  /** The private keys are '' until withKeys. */
  material: RotationMaterial;
}

export async function readState(ctx: RotationContext): Promise<LoadedState | undefined> {
  let object: StateObject;
  try {
    object = await client(ctx).resource<StateObject>(SECRETS).get(STATE_NAME, STATE_NAMESPACE);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const { state, material } = decodeState(object.data ?? {});
  return { object, state, material };
}

/** The state with its private keys unsealed with the old CA key of this data directory (state.ts). */
async function withKeys(ctx: RotationContext, loaded: LoadedState): Promise<LoadedState> {
  const oldKey = await findOldCAKey(ctx.dataDir, loaded.state, loaded.material.oldCA);
  return { ...loaded, material: { ...loaded.material, ...unsealKeys(loaded.object.data ?? {}, loaded.material, oldKey) } };
}

/** The API server replicas that keep a lease (server/ca-rotation-follower.ts), live ones only. */
export async function liveReplicas(ctx: RotationContext): Promise<Replica[]> {
  const leases = await client(ctx).resource<Lease>(RESOURCES.leases).list({ namespace: REPLICA_NAMESPACE, labelSelector: `${REPLICA_LABEL}=${REPLICA_LABEL_VALUE}` });
  const now = (ctx.clock ?? systemClock).now();
  return leases.items.map((l) => parseReplica(l, now)).filter((r) => r.live && r.url);
}

/** Where the probes go: every live replica, or the admin kubeconfig's server when none keeps a lease. */
async function targets(ctx: RotationContext): Promise<(string | undefined)[]> {
  const urls = (await liveReplicas(ctx)).map((r) => r.url);
  return urls.length > 0 ? urls : [undefined];
}

/** Waits until every live replica applied every recorded step to its own files (and reloaded them). */
async function waitReplicasCaughtUp(ctx: RotationContext): Promise<void> {
  let behind: string[] = [];
  await waitFor(ctx, 'every API server replica applied the recorded steps', async () => {
    const loaded = await readState(ctx);
    if (!loaded) return true;
    behind = (await liveReplicas(ctx)).filter((r) => !caughtUp(r, loaded.state)).map((r) => `${r.name} (${r.url}) at ${r.applied?.step ?? 'nothing'}`);
    if (behind.length > 0) throw new Error(`behind: ${behind.join(', ')}`);
    return true;
  });
}

/** Records a finished step (compare-and-swap on the state object, re-read on conflict). */
async function recordStep(ctx: RotationContext, step: StepSpec, extra?: (s: RotationState, data: Record<string, string>) => void): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const loaded = await readState(ctx);
    if (!loaded) throw new KubepkiError('InvalidArgument', 'the rotation state disappeared while the rotation ran');
    const state = loaded.state;
    state.steps[step.name] = { finishedAt: (ctx.clock ?? systemClock).now().toISOString() };
    const data = { ...(loaded.object.data ?? {}), 'state.json': encodeStateJson(state) };
    extra?.(state, data);
    if (extra) data['state.json'] = encodeStateJson(state);
    try {
      await client(ctx).resource<StateObject>(SECRETS).update({ ...loaded.object, data });
      return;
    } catch (err) {
      if (isConflict(err) && attempt < 5) continue;
      throw err;
    }
  }
}

/** Polls `check` until it gives a value, or fails with `what` after the wait timeout. */
async function waitFor<T>(ctx: RotationContext, what: string, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + (ctx.waitTimeoutMs ?? 120_000);
  let last = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = `: ${(err as Error).message}`;
    }
    if (Date.now() > end) throw new KubepkiError('Timeout', `timed out waiting until ${what}${last}`);
    await sleep(200);
  }
}

interface RawResponse {
  status: number;
  body: string;
  peer?: Certificate;
}

/** One HTTPS request to the API server named by the admin kubeconfig, with given (or the kubeconfig's) credentials. */
async function rawRequest(ctx: RotationContext, o: { path: string; cert?: string; key?: string; headers?: Record<string, string>; ca?: string; server?: string }): Promise<RawResponse> {
  const kc = parseKubeconfig((await readOptional(ctx.kubeconfig)) ?? '', ctx.kubeconfig);
  const url = new URL(o.path, o.server ?? kc.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'GET',
        ca: o.ca ?? kc.caPem,
        cert: o.cert ?? kc.clientCertPem,
        key: o.key ?? kc.clientKeyPem,
        headers: { Accept: 'application/json', ...(o.headers ?? {}) },
        agent: false,
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate?.();
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(peer?.raw ? { peer: parseCertificateDer(new Uint8Array(peer.raw)) } : {}) }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.end();
  });
}

/** A short-lived client certificate from a CA (a probe that proves what the server trusts). */
async function probeCertificate(caPem: string, caKeyPem: string, commonName: string, now: Date): Promise<{ cert: string; key: string }> {
  const ca = parseCertificatesPem(caPem)[0]!;
  const keyPair = await generateKeyPair('ECDSA-P256');
  const cert = await issueCertificate({
    template: { subject: { commonName }, notBefore: new Date(now.getTime() - 60_000), notAfter: new Date(now.getTime() + 10 * 60_000), ...leafUsages(['client auth']) },
    publicKey: keyPair.publicKey,
    issuer: { certificate: ca, privateKey: parsePrivateKeyPem(caKeyPem) },
  });
  return { cert: cert.pem, key: privateKeyToPem(keyPair.privateKey) };
}

async function updateConfigMap(ctx: RotationContext, namespace: string, name: string, change: (data: Record<string, string>) => Promise<Record<string, string>> | Record<string, string>): Promise<void> {
  const cms = client(ctx).resource<KubeObject & { data?: Record<string, string> }>(CONFIGMAPS);
  for (let attempt = 0; ; attempt++) {
    let cm;
    try {
      cm = await cms.get(name, namespace);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const data = await change({ ...(cm.data ?? {}) });
    if (JSON.stringify(data) === JSON.stringify(cm.data ?? {})) return;
    try {
      await cms.update({ ...cm, data });
      return;
    } catch (err) {
      if (isConflict(err) && attempt < 5) continue;
      throw err;
    }
  }
}

/** cluster-info (its kubeconfig's CA; the bootstrap signer re-signs it) and extension-apiserver-authentication. */
async function publishBundles(ctx: RotationContext, clusterCA: string, frontProxyCA: string): Promise<void> {
  await updateConfigMap(ctx, 'kube-public', 'cluster-info', async (data) => {
    if (data['kubeconfig']) data['kubeconfig'] = replaceClusterCA(data['kubeconfig'], 'cluster-info', clusterCA);
    return data;
  });
  await updateConfigMap(ctx, 'kube-system', 'extension-apiserver-authentication', (data) => {
    if (data['client-ca-file'] !== undefined) data['client-ca-file'] = clusterCA;
    if (data['requestheader-client-ca-file'] !== undefined) data['requestheader-client-ca-file'] = frontProxyCA;
    return data;
  });
}

/**
 * Waits until what `afterStep` published has been out for ctx.propagationWaitMs, counted from that step's
 * recorded finish, so a resumed run waits only what is left.
 */
async function waitForPropagation(ctx: RotationContext, state: RotationState, afterStep: string, before: string): Promise<void> {
  const published = state.steps[afterStep]?.finishedAt;
  const waitMs = ctx.propagationWaitMs ?? 0;
  if (!published || waitMs <= 0) return;
  const left = Date.parse(published) + waitMs - (ctx.clock ?? systemClock).now().getTime();
  if (left <= 0) return;
  ctx.log(`${before}: waiting ${Math.ceil(left / 1000)}s more for what ${afterStep} published to reach its readers (--propagation-wait)`);
  await (ctx.clock ?? systemClock).sleep(left);
  ctx.assertLockHeld?.();
}

/** Waits until kube-root-ca.crt in every namespace holds exactly `want` (the root-CA publisher follows serve's live bundle). */
async function waitRootCAPublished(ctx: RotationContext, want: string): Promise<void> {
  await waitFor(ctx, 'kube-root-ca.crt in every namespace holds the new bundle', async () => {
    const c = client(ctx);
    const namespaces = await c.resource(NAMESPACES).list();
    for (const ns of namespaces.items) {
      const name = ns.metadata.name!;
      if (ns.metadata.deletionTimestamp) continue;
      const cm = await c.resource<KubeObject & { data?: Record<string, string> }>(CONFIGMAPS).get('kube-root-ca.crt', name).catch(() => undefined);
      if (!cm?.data?.['ca.crt'] || !sameCertSet(cm.data['ca.crt'], want)) throw new Error(`namespace ${name} not yet`);
    }
    return true;
  });
}

/**
 * Users still on the old CA: their latest client certificate (per serve's /metrics) came from
 * `issuerKeyId` after `sinceMs` — unless they have since been issued a certificate of another CA through a
 * CSR (an agent that rotated but has not spoken with its new certificate yet) and have not used the old one
 * more than a grace period after asking for it.
 */
export async function usersOnOldCA(ctx: RotationContext, issuerKeyId: string, sinceMs: number): Promise<{ user: string; lastSeen: Date }[]> {
  const candidates = await usersOnIssuer(ctx, issuerKeyId, sinceMs);
  if (candidates.length === 0) return candidates;
  const csrs = await client(ctx).resource<KubeObject & { spec?: { username?: string }; status?: { certificate?: string } }>(RESOURCES.certificateSigningRequests).list();
  const movedAt = new Map<string, number>();
  for (const csr of csrs.items) {
    const user = csr.spec?.username;
    const pem = unb64(csr.status?.certificate);
    if (!user || !pem) continue;
    try {
      if ((parseCertificatesPem(pem)[0]!.authorityKeyId ?? '') === issuerKeyId) continue;
    } catch {
      continue;
    }
    // Any time: a node may ask as soon as it sees the new signer, before the switch step is recorded.
    const at = Date.parse(csr.metadata.creationTimestamp ?? '');
    if (at > (movedAt.get(user) ?? 0)) movedAt.set(user, at);
  }
  const GRACE_MS = 30_000;
  return candidates.filter((c) => {
    const moved = movedAt.get(c.user);
    return moved === undefined || c.lastSeen.getTime() > moved + GRACE_MS;
  });
}

/** Users whose latest client certificate (per every replica's /metrics) came from `issuerKeyId`, seen after `sinceMs`. */
export async function usersOnIssuer(ctx: RotationContext, issuerKeyId: string, sinceMs: number): Promise<{ user: string; lastSeen: Date }[]> {
  const latest = new Map<string, { issuer: string; at: number }>();
  for (const server of await targets(ctx)) {
    const r = await rawRequest(ctx, { path: '/metrics', ...(server ? { server } : {}) });
    if (r.status !== 200) throw new KubepkiError('APIError', `GET ${server ?? ''}/metrics: HTTP ${r.status}`);
    for (const line of r.body.split('\n')) {
      const m = /^kubepki_client_certificate_last_seen_seconds\{issuer_key_id="([^"]*)",user="((?:[^"\\]|\\.)*)"\} (\d+)/.exec(line);
      if (!m) continue;
      const at = Number(m[3]) * 1000;
      const prev = latest.get(m[2]!);
      if (!prev || at > prev.at || (at === prev.at && m[1] === issuerKeyId)) latest.set(m[2]!, { issuer: m[1]!, at });
    }
  }
  return [...latest].filter(([, v]) => v.issuer === issuerKeyId && v.at >= sinceMs).map(([user, v]) => ({ user: user.replace(/\\(.)/g, '$1'), lastSeen: new Date(v.at) }));
}

type StepRun = (ctx: RotationContext, loaded: LoadedState) => Promise<void>;

/** Runs `check` against every replica (each must pass). */
const onEveryReplica = async (ctx: RotationContext, what: string, check: (server: string | undefined) => Promise<boolean>) => {
  for (const server of await targets(ctx)) await waitFor(ctx, `${what}${server ? ` (${server})` : ''}`, async () => ((await check(server)) ? true : undefined));
};
const at = (server: string | undefined) => (server ? { server } : {});

const RUNS: Record<string, StepRun> = {
  'trust-files': (ctx, { material, state }) => FILE_STEPS['trust-files']!({ dataDir: ctx.dataDir, material, state }),
  'trust-live': async (ctx, { material: m }) => {
    const now = (ctx.clock ?? systemClock).now();
    const client = await probeCertificate(m.newCA, m.newCAKey, PROBE_USER, now);
    const proxy = await probeCertificate(m.newFrontProxyCA, m.newFrontProxyCAKey, 'front-proxy-client', now);
    const ca = bundle(m.oldCA, m.newCA);
    await onEveryReplica(ctx, 'the API server accepts a client certificate of the new CA', async (server) => (await rawRequest(ctx, { path: '/api', ca, ...client, ...at(server) })).status !== 401);
    await onEveryReplica(ctx, 'the API server accepts a front-proxy certificate of the new front-proxy CA', async (server) => {
      const r = await rawRequest(ctx, { path: '/apis/authentication.k8s.io/v1', ca, ...proxy, headers: { 'X-Remote-User': PROBE_USER }, ...at(server) });
      return r.status !== 401;
    });
  },
  kubeconfigs: (ctx, { material, state }) => FILE_STEPS['kubeconfigs']!({ dataDir: ctx.dataDir, material, state }),
  publish: async (ctx, { material: m }) => {
    await publishBundles(ctx, bundle(m.oldCA, m.newCA, m.crossSignedCA), bundle(m.oldFrontProxyCA, m.newFrontProxyCA));
    await waitRootCAPublished(ctx, bundle(m.oldCA, m.newCA, m.crossSignedCA));
  },
  'signing-ca': async (ctx, { material, state }) => {
    await waitForPropagation(ctx, state, 'publish', 'switch/signing-ca');
    await FILE_STEPS['signing-ca']!({ dataDir: ctx.dataDir, material, state });
  },
  reissue: async (ctx, { material: m, state }) => {
    await FILE_STEPS['reissue']!({ dataDir: ctx.dataDir, material: m, state, ...(ctx.clock ? { clock: ctx.clock } : {}) });
    // The signing CA first in what the cluster publishes: agents rotate their certificates early on seeing it.
    await publishBundles(ctx, bundle(m.newCA, m.oldCA, m.crossSignedCA), bundle(m.newFrontProxyCA, m.oldFrontProxyCA));
  },
  'serving-live': async (ctx, { material: m }) => {
    const id = skidOf(m.newCA);
    await onEveryReplica(ctx, 'the API server serves a certificate of the new CA', async (server) => (await rawRequest(ctx, { path: '/version', ...at(server) })).peer?.authorityKeyId === id);
  },
  'drain-check': async (ctx, { material: m, state }) => {
    // Agents learn of the new signer from cluster-info (reissue published it) and rotate: give them the time.
    await waitForPropagation(ctx, state, 'reissue', 'complete/drain-check');
    // Every user seen with an old-CA certificate since the rotation started counts, not only since reissue: a
    // node that was quiet after reissue is still on the old CA and would get 401 after complete.
    const since = Date.parse(state.startedAt);
    // Nodes rotate early once they see the new signer: wait for them (up to the timeout), then refuse.
    const end = Date.now() + (ctx.waitTimeoutMs ?? 120_000);
    let still = await usersOnOldCA(ctx, skidOf(m.oldCA), since);
    let said = '';
    while (still.length > 0 && Date.now() < end) {
      const names = still.map((s) => s.user).join(', ');
      if (names !== said) ctx.log(`waiting for clients still on the old CA: ${names}`);
      said = names;
      await sleep(1000);
      still = await usersOnOldCA(ctx, skidOf(m.oldCA), since);
    }
    if (still.length > 0) {
      throw new KubepkiError(
        'Conflict',
        `cannot complete: still authenticating with a client certificate of the old CA: ${still.map((s) => `${s.user} (last seen ${s.lastSeen.toISOString()})`).join(', ')}; ` +
          'wait until they rotate (kubepki agent --rotate-certificates does so once the signer changed), then run --phase complete again',
      );
    }
  },
  'remove-old': async (ctx, { material: m, state }) => {
    await FILE_STEPS['remove-old']!({ dataDir: ctx.dataDir, material: m, state });
    await publishBundles(ctx, m.newCA, m.newFrontProxyCA);
  },
  verify: async (ctx, { material: m, state }) => {
    const backup = backupDir(ctx.dataDir, state);
    const oldKey = await readOptional(path.join(backup, 'ca.key'));
    if (!oldKey) throw new KubepkiError('FileMissing', `the old CA key backup ${backup}/ca.key is missing`);
    // kube-root-ca.crt follows the API servers' live bundle: new alone once every replica removed the old (this
    // step starts after all of them applied remove-old).
    await waitRootCAPublished(ctx, m.newCA);
    const probe = await probeCertificate(m.oldCA, oldKey, PROBE_USER, (ctx.clock ?? systemClock).now());
    await onEveryReplica(ctx, 'a client certificate of the old CA gets 401', async (server) => (await rawRequest(ctx, { path: '/api', ...probe, ...at(server) })).status === 401);
  },
};

/** prepare's first step: the new material, generated once and stored (AlreadyExists: another run made it first). */
async function generate(ctx: RotationContext): Promise<void> {
  const read = async (f: string) => (await readOptional(pki(ctx, f))) ?? '';
  const caKey = await read('ca.key');
  const material = await generateRotationMaterial(
    { ca: { certPem: await read('ca.crt'), keyPem: caKey }, frontProxyCA: { certPem: await read('front-proxy-ca.crt'), keyPem: await read('front-proxy-ca.key') }, serviceAccountPub: await read('sa.pub') },
    (ctx.clock ?? systemClock).now(),
  );
  const now = (ctx.clock ?? systemClock).now().toISOString();
  const state: RotationState = { startedAt: now, steps: { generate: { finishedAt: now } } };
  // The new keys sealed under the old CA key: only control-plane nodes (who hold it) can read them (state.ts).
  const data = encodeNewState(state, material, caKey);
  const secrets = client(ctx).resource<StateObject>(SECRETS);
  const previous = await readState(ctx);
  if (previous) await secrets.delete(STATE_NAME, { namespace: STATE_NAMESPACE, preconditions: { resourceVersion: previous.object.metadata.resourceVersion! } });
  try {
    await secrets.create({ apiVersion: 'v1', kind: 'Secret', type: STATE_SECRET_TYPE, metadata: { name: STATE_NAME, namespace: STATE_NAMESPACE }, data } as StateObject);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}

/**
 * Runs the steps in order. Before each, every API server replica must have applied the steps recorded so
 * far to its own files (a step's effect may not reach one replica before the previous one reached all);
 * after the last, too, so a finished phase is finished on every replica.
 */
export async function runSteps(ctx: RotationContext, steps: StepSpec[]): Promise<void> {
  for (const step of steps) {
    const t0 = Date.now();
    ctx.assertLockHeld?.();
    if (step.name === 'generate') {
      await generate(ctx);
    } else {
      await waitReplicasCaughtUp(ctx);
      let loaded = await readState(ctx);
      if (!loaded) throw new KubepkiError('InvalidArgument', 'no CA rotation in progress: run --phase prepare first');
      if (NEEDS_KEYS.has(step.name)) loaded = await withKeys(ctx, loaded);
      await RUNS[step.name]!(ctx, loaded);
      ctx.assertLockHeld?.();
      await recordStep(ctx, step, (s, data) => {
        if (step.name === STEPS[STEPS.length - 1]!.name) {
          s.completedAt = (ctx.clock ?? systemClock).now().toISOString();
          for (const k of SECRET_KEYS) delete data[k];
        }
      });
    }
    ctx.log(`${step.phase}/${step.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
  await waitReplicasCaughtUp(ctx);
}
