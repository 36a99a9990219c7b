// The dashboard's picture of the cluster's trust, built from what the API and the local files show: every
// certificate (deduplicated by fingerprint, with every place it is used), the CAs as subject+key entities
// (so a cross-signed CA is one CA certified twice), the CSR queue, and the nodes' certificates. Pure: data
// in, snapshot out; the parse and signature-check results are memoised because the inputs change one
// object at a time.
import { createHash } from 'node:crypto';
import { decodePem } from '../x509/pem.js';
import { parseCertificateDer, isSignedBy, spkiOf, type Certificate } from '../x509/certificate.js';
import { describeCertificate, describeCertificateRequest, type CertificateDescription } from '../x509/describe.js';
import { parseCertificateRequest } from '../x509/certificate-request.js';
import { formatName } from '../x509/names.js';
import type { CertificateSigningRequest, ConfigMap, Lease, Secret } from '../apis/index.js';
import { CUSTOM_CA_TRUST_SECRET } from '../apis/custom-ca-trust.js';
import { NAMESPACE_SYSTEM } from '../apis/names.js';
import { customCaTrustStatus, type NodeCustomCaTrustState } from '../cluster/custom-ca-trust-status.js';
import type { CaView, CertUse, CertView, CsrState, CsrView, DashboardSnapshot, NodeView, UnreadableView } from './view.js';
import { rotationView, type RotationSource } from './rotation.js';

export interface LocalCertSource {
  use: CertUse;
  pem: string;
}

export interface TrustInputs {
  now: Date;
  identity: string;
  server: string;
  /** The CA bundle the dashboard's kubeconfig trusts for the API server. */
  clusterCaPem?: string;
  csrs: CertificateSigningRequest[];
  secrets: Secret[];
  configMaps: ConfigMap[];
  /** kube-node-lease's Leases: each node's custom CA trust report (cluster/custom-ca-trust-status.ts). */
  leases?: Lease[];
  files: LocalCertSource[];
  rotation?: RotationSource;
  errors: DashboardSnapshot['errors'];
}

const KUBELET_CLIENT = 'kubernetes.io/kube-apiserver-client-kubelet';
const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
const NODE_PREFIX = 'system:node:';

interface Parsed {
  cert: Certificate;
  /** Described once, when parsed (the inputs change one object at a time; builds are frequent). */
  d: CertificateDescription;
  selfSigned: boolean;
  id: string;
  /** Subject + key: the CA entity this certificate certifies (meaningful for CAs). */
  entity: string;
}

/** What one PEM text holds: the certificates that parse, and one entry per block (or text) that does not. */
interface PemContents {
  certs: Parsed[];
  unreadable: { id: string; error: string }[];
}

export class TrustModel {
  private readonly parsed = new Map<string, PemContents>();
  private readonly signedBy = new Map<string, string>();
  /** Each CSR object's view (the informer replaces an object when it changes, so identity is its version). */
  private readonly csrViews = new WeakMap<CertificateSigningRequest, CsrView>();

  /**
   * Every certificate in a PEM text, each block on its own: a bundle with one broken certificate still shows
   * the others, and the broken one (or a text with no certificate at all) is reported as unreadable, with the
   * parser's reason, instead of vanishing from the page.
   */
  private certsOf(pem: string): PemContents {
    let hit = this.parsed.get(pem);
    if (hit) return hit;
    hit = { certs: [], unreadable: [] };
    const unreadable = (bytes: string | Uint8Array, err: unknown) =>
      hit!.unreadable.push({ id: `unreadable:${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}`, error: (err as Error).message });
    let blocks: { type: string; der: Uint8Array }[] = [];
    try {
      blocks = decodePem(pem, 'certificate').filter((b) => b.type === 'CERTIFICATE');
      if (blocks.length === 0) throw new Error('no CERTIFICATE block found');
    } catch (err) {
      unreadable(pem, err);
    }
    for (const b of blocks) {
      try {
        const cert = parseCertificateDer(b.der, 'certificate');
        const d = describeCertificate(cert);
        const selfSigned = Buffer.compare(Buffer.from(cert.rawSubject), Buffer.from(cert.rawIssuer)) === 0 && isSignedBy(cert, cert);
        hit.certs.push({ cert, d, selfSigned, id: fingerprintOf(cert.der), entity: createHash('sha256').update(cert.rawSubject).update(spkiOf(cert.publicKey)).digest('hex').slice(0, 32) });
      } catch (err) {
        unreadable(b.der, err);
      }
    }
    if (this.parsed.size > 20_000) this.parsed.clear();
    this.parsed.set(pem, hit);
    return hit;
  }

  build(inputs: TrustInputs): DashboardSnapshot {
    const all = new Map<string, { p: Parsed; uses: CertUse[]; node?: CertView['node'] }>();
    const unreadable = new Map<string, UnreadableView>();
    const add = (pem: string, use: CertUse, node?: CertView['node']) => {
      const contents = this.certsOf(pem);
      for (const u of contents.unreadable) {
        const seen = unreadable.get(u.id);
        if (!seen) unreadable.set(u.id, { id: u.id, error: u.error, uses: [use] });
        else if (!seen.uses.some((x) => x.where === use.where)) seen.uses.push(use);
      }
      for (const p of contents.certs) {
        const seen = all.get(p.id);
        if (seen) {
          if (!seen.uses.some((u) => u.where === use.where)) seen.uses.push(use);
          seen.node ??= node;
        } else all.set(p.id, { p, uses: [use], ...(node ? { node } : {}) });
      }
    };

    for (const f of inputs.files) add(f.pem, f.use);
    if (inputs.clusterCaPem) add(inputs.clusterCaPem, { kind: 'kubeconfig', where: 'dashboard kubeconfig (certificate-authority)' });
    for (const s of inputs.secrets) {
      const ns = s.metadata.namespace ?? '';
      // Only certificate-bearing keys are read; a Secret's other values (keys, tokens) are never looked at.
      for (const key of ['tls.crt', 'ca.crt']) {
        const b64 = s.data?.[key];
        if (b64) add(Buffer.from(b64, 'base64').toString('utf8'), { kind: 'secret', where: `Secret ${ns}/${s.metadata.name} (${key})` });
      }
    }
    for (const cm of inputs.configMaps) {
      const ns = cm.metadata.namespace ?? '';
      if (cm.data?.['ca.crt']) add(cm.data['ca.crt'], { kind: 'configmap', where: `ConfigMap ${ns}/${cm.metadata.name} (ca.crt)` });
      const kubeconfig = cm.data?.['kubeconfig'];
      if (kubeconfig) {
        for (const m of kubeconfig.matchAll(/certificate-authority-data:\s*(\S+)/g)) {
          add(Buffer.from(m[1]!, 'base64').toString('utf8'), { kind: 'configmap', where: `ConfigMap ${ns}/${cm.metadata.name} (kubeconfig)` });
        }
      }
    }
    const csrs: CsrView[] = inputs.csrs.map((csr) => {
      let view = this.csrViews.get(csr);
      if (!view) this.csrViews.set(csr, (view = csrView(csr)));
      if (typeof csr.status?.certificate === 'string' && csr.status.certificate) {
        const pem = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
        const role: 'client' | 'serving' | undefined = csr.spec.signerName === KUBELET_CLIENT ? 'client' : csr.spec.signerName === KUBELET_SERVING ? 'serving' : undefined;
        const contents = this.certsOf(pem);
        const first = contents.certs[0];
        const cn = first?.cert.subject.commonName;
        const node = role && typeof cn === 'string' && cn.startsWith(NODE_PREFIX) ? { name: cn.slice(NODE_PREFIX.length), role } : undefined;
        add(pem, { kind: 'csr', where: `CSR ${csr.metadata.name} (status.certificate)` }, node);
        if (first) view.certificate = first.id;
        else view.certificateError = contents.unreadable[0]?.error ?? 'no certificate';
      }
      return view;
    });

    // CA entities: every CA certificate, grouped by subject + key.
    const caCerts = [...all.values()].filter((c) => c.p.cert.isCA);
    const entities = new Map<string, Parsed[]>();
    for (const c of caCerts) entities.set(c.p.entity, [...(entities.get(c.p.entity) ?? []), c.p]);
    const bySubject = new Map<string, string[]>();
    for (const [id, certs] of entities) {
      const key = Buffer.from(certs[0]!.cert.rawSubject).toString('hex');
      bySubject.set(key, [...(bySubject.get(key) ?? []), id]);
    }
    const issuerEntity = (p: Parsed): string => {
      const memo = this.signedBy.get(p.id);
      if (memo !== undefined) return memo;
      let found = '';
      for (const id of bySubject.get(Buffer.from(p.cert.rawIssuer).toString('hex')) ?? []) {
        const candidate = entities.get(id)![0]!;
        if (isSignedBy(p.cert, candidate.cert)) {
          found = id;
          break;
        }
      }
      // Remember only successes: an issuer that appears later must still be found.
      if (found) this.signedBy.set(p.id, found);
      return found;
    };

    const current = currentCaEntity(inputs.clusterCaPem ? this.certsOf(inputs.clusterCaPem).certs : []);
    const certs: CertView[] = [...all.values()].map(({ p, uses, node }) => {
      const d = p.d;
      return {
        id: p.id,
        subject: d.subject,
        commonName: typeof p.cert.subject.commonName === 'string' ? p.cert.subject.commonName : d.subject,
        issuer: d.issuer,
        serialNumber: d.serialNumber,
        notBefore: d.notBefore,
        notAfter: d.notAfter,
        isCA: d.isCA,
        selfSigned: p.selfSigned,
        keyUsage: d.keyUsage,
        extKeyUsage: d.extKeyUsage,
        sans: sanList(d.sans),
        publicKey: d.publicKey,
        issuerCa: issuerEntity(p),
        ...(p.cert.isCA ? { caEntity: p.entity } : {}),
        ...(node ? { node } : {}),
        uses,
      };
    });
    const certById = new Map(certs.map((c) => [c.id, c]));
    const currentSubject = current ? entities.get(current)?.[0]?.cert.subject : undefined;
    const cas: CaView[] = [...entities].map(([id, ps]) => {
      const views = ps.map((p) => certById.get(p.id)!);
      const signedBy = [...new Set(views.map((v) => v.issuerCa).filter((x) => x && x !== id))];
      const issuers = new Set(views.map((v) => v.issuerCa || `unknown:${v.issuer}`));
      const isCurrent = id === current;
      const sameName = currentSubject !== undefined && formatName(ps[0]!.cert.subject) === formatName(currentSubject);
      return {
        id,
        subject: views[0]!.subject,
        certs: views.map((v) => v.id),
        signedBy,
        crossSigned: issuers.size > 1,
        current: isCurrent,
        rotation: isCurrent ? 'current' : sameName ? 'old' : 'other',
      };
    });

    const trustSecret = inputs.secrets.find((s) => s.metadata.namespace === NAMESPACE_SYSTEM && s.metadata.name === CUSTOM_CA_TRUST_SECRET);
    const trust = customCaTrustStatus({ secretData: trustSecret ? (trustSecret.data ?? {}) : null, leases: inputs.leases ?? [], now: inputs.now });
    const nodes = nodeViews(certs, current, inputs.now, new Map(trust.nodes.map((n) => [n.node, n])));
    const oldCas = new Set(cas.filter((c) => c.rotation === 'old').map((c) => c.id));
    return {
      generated: inputs.now.toISOString(),
      identity: inputs.identity,
      server: inputs.server,
      certs,
      unreadable: [...unreadable.values()],
      cas,
      csrs,
      nodes,
      rotation: rotationView(inputs.rotation, {
        onOldCa: [
          ...nodes.filter((n) => n.onCurrentCa === false).map((n) => `node ${n.name}`),
          ...certs.filter((c) => !c.node && !c.isCA && oldCas.has(c.issuerCa)).map((c) => `${c.commonName} (${c.uses[0]?.where ?? ''})`),
        ],
      }),
      errors: inputs.errors,
    };
  }
}

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

/** The newest CA in the kubeconfig's bundle (during a rotation the bundle holds old and new). */
function currentCaEntity(bundle: Parsed[]): string | undefined {
  const cas = bundle.filter((p) => p.cert.isCA).sort((a, b) => b.cert.notBefore.getTime() - a.cert.notBefore.getTime());
  return cas[0]?.entity;
}

function csrState(csr: CertificateSigningRequest): { state: CsrState; reason: string; message: string } {
  const conds = Array.isArray(csr.status?.conditions) ? csr.status.conditions : [];
  const find = (t: string) => conds.find((c) => c?.type === t && c.status !== 'False');
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const failed = find('Failed');
  if (failed) return { state: 'Failed', reason: text(failed.reason), message: text(failed.message) };
  const denied = find('Denied');
  if (denied) return { state: 'Denied', reason: text(denied.reason), message: text(denied.message) };
  const approved = find('Approved');
  if (approved) return { state: csr.status?.certificate ? 'Issued' : 'Approved', reason: text(approved.reason), message: text(approved.message) };
  return { state: 'Pending', reason: '', message: '' };
}

function csrView(csr: CertificateSigningRequest): CsrView {
  // What an API server sends is not trusted to be well-formed: a missing spec or a number for a string must
  // not stop the whole page from being drawn.
  const spec = (csr.spec ?? {}) as Partial<CertificateSigningRequest['spec']>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const strings = (v: unknown) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))) : []);
  let subject = '';
  let sans: string[] | undefined;
  try {
    const pem = Buffer.from(str(spec.request), 'base64').toString('utf8');
    const block = decodePem(pem, 'spec.request').find((b) => b.type === 'CERTIFICATE REQUEST');
    if (!block) throw new Error('no CERTIFICATE REQUEST block');
    const d = describeCertificateRequest(parseCertificateRequest(block.der));
    subject = d.subject;
    sans = sanList(d.sans);
  } catch {
    subject = '(unreadable request)';
  }
  const extra: Record<string, string[]> = {};
  if (spec.extra && typeof spec.extra === 'object') for (const [k, v] of Object.entries(spec.extra)) extra[k] = strings(v);
  return {
    name: str(csr.metadata?.name),
    signerName: str(spec.signerName),
    requestor: str(spec.username),
    groups: strings(spec.groups),
    usages: strings(spec.usages),
    created: str(csr.metadata?.creationTimestamp),
    subject,
    ...(sans ? { sans } : {}),
    ...(spec.uid ? { uid: str(spec.uid) } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
    ...csrState(csr),
    ...(typeof spec.expirationSeconds === 'number' ? { expirationSeconds: spec.expirationSeconds } : {}),
  };
}

function sanList(s: { dnsNames: string[]; ipAddresses: string[]; emailAddresses: string[]; uris: string[] }): string[] {
  return [...s.dnsNames.map((n) => `DNS:${n}`), ...s.ipAddresses.map((n) => `IP:${n}`), ...s.emailAddresses.map((n) => `email:${n}`), ...s.uris.map((n) => `URI:${n}`)];
}

/** Each node's newest client and serving certificate (from the CSRs' status.certificate). */
function nodeViews(certs: CertView[], currentCa: string | undefined, now: Date, trust: ReadonlyMap<string, NodeCustomCaTrustState>): NodeView[] {
  const byNode = new Map<string, { client?: CertView; serving?: CertView }>();
  for (const c of certs) {
    if (!c.node) continue;
    const slot = byNode.get(c.node.name) ?? {};
    const prev = slot[c.node.role];
    // The newest certificate is the one in use (the agent switches as soon as it is issued).
    if (!prev || Date.parse(c.notBefore) > Date.parse(prev.notBefore)) slot[c.node.role] = c;
    byNode.set(c.node.name, slot);
  }
  return [...byNode].sort(([a], [b]) => a.localeCompare(b)).map(([name, { client, serving }]) => {
    const live = [client, serving].filter((c): c is CertView => !!c && Date.parse(c.notAfter) > now.getTime());
    const last = [client, serving].filter((c): c is CertView => !!c).map((c) => c.notBefore).sort().at(-1);
    return {
      name,
      ...(client ? { client: client.id } : {}),
      ...(serving ? { serving: serving.id } : {}),
      ...(last ? { lastRotation: last } : {}),
      onCurrentCa: currentCa === undefined || live.length === 0 ? 'unknown' : live.every((c) => c.issuerCa === currentCa),
      customTrust: customTrustText(trust.get(name)),
    };
  });
}

/** One cell of the Nodes page: the node's last custom CA trust report, as `kubepki trust status` reads it. */
function customTrustText(state: NodeCustomCaTrustState | undefined): string {
  if (!state) return 'not enabled';
  if (state.error) return `error since ${state.errorSince ?? '?'}: ${state.error}`;
  const what = `${state.certificates ?? 0} CA${state.certificates === 1 ? '' : 's'}${state.since ? ` since ${state.since}` : ''}`;
  return state.inSync ? `in sync (${what})` : `behind (applied ${what})`;
}
