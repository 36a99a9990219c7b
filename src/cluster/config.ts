// The cluster description the PKI is built from (kubeadm's InitConfiguration + ClusterConfiguration, reduced to
// what certificates and kubeconfigs need): defaults, validation, and reading it from flags or a YAML file.
// Validation errors name the flag or field so a user knows what to fix.
import os from 'node:os';
import net from 'node:net';
import { KubepkiError } from '../util/errors.js';
import { parseGoDuration } from '../util/duration.js';
import { KEY_ALGORITHMS, parseKeyAlgorithm, type KeyAlgorithm } from '../x509/keys.js';
import { canonicalIp, isValidDnsName } from '../x509/san.js';
import { yamlNestingProblem } from '../util/yaml-nesting.js';

const HOUR = 3_600_000;

/** kubeadm's defaults (cmd/kubeadm/app/constants and apis/kubeadm/v1beta4/defaults.go). */
export const DEFAULTS = {
  certificatesDir: '/etc/kubernetes/pki',
  kubeconfigDir: '/etc/kubernetes',
  serviceSubnet: '10.96.0.0/12',
  dnsDomain: 'cluster.local',
  clusterName: 'kubernetes',
  bindPort: 6443,
  encryptionAlgorithm: 'RSA-2048' as KeyAlgorithm,
  certificateValidityMs: 365 * 24 * HOUR, // 8760h
  caCertificateValidityMs: 10 * 365 * 24 * HOUR, // 87600h
} as const;

/** A fully resolved, validated cluster description. */
export interface ClusterConfig {
  /** nodeRegistration.name: CN of the etcd server/peer certificates, `system:node:<name>` in kubelet.conf. */
  nodeName: string;
  /** localAPIEndpoint.advertiseAddress, canonical IP text. */
  advertiseAddress: string;
  /** localAPIEndpoint.bindPort. */
  bindPort: number;
  /** controlPlaneEndpoint as given ("host" or "host:port"), or '' when unset. */
  controlPlaneEndpoint: string;
  /** apiServer.certSANs (--apiserver-cert-extra-sans): DNS names and IPs. */
  apiServerCertSANs: string[];
  /** etcd.local.serverCertSANs / peerCertSANs. */
  etcdServerCertSANs: string[];
  etcdPeerCertSANs: string[];
  /** networking.serviceSubnet (one CIDR, or two comma-separated for dual stack). */
  serviceSubnet: string;
  /** networking.dnsDomain. */
  dnsDomain: string;
  clusterName: string;
  encryptionAlgorithm: KeyAlgorithm;
  /** certificateValidityPeriod / caCertificateValidityPeriod, in milliseconds. */
  certificateValidityMs: number;
  caCertificateValidityMs: number;
}

/** Unresolved input: every field optional, durations as Go strings or milliseconds. */
export interface ClusterConfigInput {
  nodeName?: string;
  advertiseAddress?: string;
  bindPort?: number | string;
  controlPlaneEndpoint?: string;
  apiServerCertSANs?: string[] | string;
  etcdServerCertSANs?: string[];
  etcdPeerCertSANs?: string[];
  serviceSubnet?: string;
  dnsDomain?: string;
  clusterName?: string;
  encryptionAlgorithm?: string;
  certificateValidityPeriod?: string | number;
  caCertificateValidityPeriod?: string | number;
}

/** Where each input came from, so an error names the flag (or the config field) the user wrote. */
export type FieldNames = Partial<Record<keyof ClusterConfigInput, string>>;

/** Flag names of `kubepki init` (kubeadm's where kubeadm has one). */
export const FLAG_NAMES: Required<FieldNames> = {
  nodeName: '--node-name',
  advertiseAddress: '--apiserver-advertise-address',
  bindPort: '--apiserver-bind-port',
  controlPlaneEndpoint: '--control-plane-endpoint',
  apiServerCertSANs: '--apiserver-cert-extra-sans',
  etcdServerCertSANs: 'etcd.local.serverCertSANs',
  etcdPeerCertSANs: 'etcd.local.peerCertSANs',
  serviceSubnet: '--service-cidr',
  dnsDomain: '--service-dns-domain',
  clusterName: 'clusterName',
  encryptionAlgorithm: '--encryption-algorithm',
  certificateValidityPeriod: '--certificate-validity-period',
  caCertificateValidityPeriod: '--ca-certificate-validity-period',
};

/** What the host offers as defaults (injectable so tests do not depend on the machine). */
export interface HostDefaults {
  hostname: string;
  /** Candidate advertise addresses, best first. */
  addresses: string[];
}

/**
 * kubeadm defaults the node name to the host name (lower-cased) and the advertise address to the IP of the
 * default-route interface; we take the first non-internal IPv4 address, then IPv6, then 127.0.0.1.
 */
export function hostDefaults(): HostDefaults {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!a.address.startsWith('fe80')) v6.push(a.address);
    }
  }
  return { hostname: os.hostname(), addresses: [...v4, ...v6, '127.0.0.1'] };
}

/** Applies defaults and validates; throws one KubepkiError naming the offending flag or field. */
export function resolveClusterConfig(input: ClusterConfigInput, options: { names?: FieldNames; host?: HostDefaults } = {}): ClusterConfig {
  const names: Required<FieldNames> = { ...FLAG_NAMES, ...options.names };
  const host = options.host ?? hostDefaults();
  const bad = (field: keyof ClusterConfigInput, message: string) => new KubepkiError('InvalidConfig', `${names[field]}: ${message}`);

  const nodeName = (input.nodeName ?? host.hostname).trim().toLowerCase();
  if (!isDnsSubdomain(nodeName)) {
    throw bad('nodeName', `"${nodeName}" is not a valid node name (a lower-case RFC 1123 subdomain, e.g. node-1)`);
  }

  const advertiseRaw = input.advertiseAddress ?? host.addresses[0] ?? '127.0.0.1';
  const advertiseAddress = canonicalIp(advertiseRaw);
  if (advertiseAddress === null || advertiseRaw.trim() === '') throw bad('advertiseAddress', `"${advertiseRaw}" is not a valid IP address`);
  if (advertiseAddress === '0.0.0.0' || advertiseAddress === '::') throw bad('advertiseAddress', `"${advertiseRaw}" is unspecified; give the address other nodes reach the API server on`);

  const bindPort = parsePort(input.bindPort ?? DEFAULTS.bindPort);
  if (bindPort === null) throw bad('bindPort', `"${input.bindPort}" is not a valid port (1-65535)`);

  const controlPlaneEndpoint = (input.controlPlaneEndpoint ?? '').trim();
  if (controlPlaneEndpoint !== '') {
    const parsed = parseHostPort(controlPlaneEndpoint);
    if (!parsed) throw bad('controlPlaneEndpoint', `"${controlPlaneEndpoint}" is not a valid host or host:port (a DNS name or an IP, optional port 1-65535)`);
  }

  const apiServerCertSANs = listOf(input.apiServerCertSANs);
  for (const san of apiServerCertSANs) checkSan(san, () => bad('apiServerCertSANs', `"${san}" is neither a valid IP address nor a valid DNS name`));
  const etcdServerCertSANs = listOf(input.etcdServerCertSANs);
  for (const san of etcdServerCertSANs) checkSan(san, () => bad('etcdServerCertSANs', `"${san}" is neither a valid IP address nor a valid DNS name`));
  const etcdPeerCertSANs = listOf(input.etcdPeerCertSANs);
  for (const san of etcdPeerCertSANs) checkSan(san, () => bad('etcdPeerCertSANs', `"${san}" is neither a valid IP address nor a valid DNS name`));

  const serviceSubnet = (input.serviceSubnet ?? DEFAULTS.serviceSubnet).trim();
  try {
    apiServerVirtualIp(serviceSubnet);
  } catch (err) {
    throw bad('serviceSubnet', (err as Error).message);
  }

  const dnsDomain = (input.dnsDomain ?? DEFAULTS.dnsDomain).trim();
  if (!isDnsSubdomain(dnsDomain)) throw bad('dnsDomain', `"${dnsDomain}" is not a valid DNS domain`);

  const clusterName = (input.clusterName ?? DEFAULTS.clusterName).trim();
  if (clusterName === '' || /\s/.test(clusterName)) throw bad('clusterName', `"${clusterName}" is not a valid cluster name`);

  let encryptionAlgorithm: KeyAlgorithm;
  try {
    encryptionAlgorithm = parseKeyAlgorithm((input.encryptionAlgorithm ?? DEFAULTS.encryptionAlgorithm).trim());
  } catch {
    throw bad('encryptionAlgorithm', `unknown algorithm "${input.encryptionAlgorithm}": use one of ${KEY_ALGORITHMS.join(', ')}`);
  }

  const certificateValidityMs = validity(input.certificateValidityPeriod, DEFAULTS.certificateValidityMs, () => bad('certificateValidityPeriod', validityHint(input.certificateValidityPeriod)));
  const caCertificateValidityMs = validity(input.caCertificateValidityPeriod, DEFAULTS.caCertificateValidityMs, () => bad('caCertificateValidityPeriod', validityHint(input.caCertificateValidityPeriod)));

  return {
    nodeName,
    advertiseAddress,
    bindPort,
    controlPlaneEndpoint,
    apiServerCertSANs,
    etcdServerCertSANs,
    etcdPeerCertSANs,
    serviceSubnet,
    dnsDomain,
    clusterName,
    encryptionAlgorithm,
    certificateValidityMs,
    caCertificateValidityMs,
  };
}

function validityHint(v: unknown): string {
  return `invalid duration "${String(v)}": use a positive Go duration such as 8760h, 720h or 30m`;
}

function validity(v: string | number | undefined, dflt: number, bad: () => KubepkiError): number {
  if (v === undefined) return dflt;
  let ms: number;
  if (typeof v === 'number') ms = v;
  else {
    try {
      ms = parseGoDuration(v);
    } catch {
      throw bad();
    }
  }
  if (!Number.isFinite(ms) || ms <= 0) throw bad();
  return ms;
}

function listOf(v: string[] | string | undefined): string[] {
  if (v === undefined) return [];
  const items = typeof v === 'string' ? v.split(',') : v.map(String);
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

function checkSan(san: string, bad: () => KubepkiError): void {
  if (canonicalIp(san) === null && !isValidDnsName(san)) throw bad();
}

/** RFC 1123 subdomain, lower case (Kubernetes' IsDNS1123Subdomain). */
export function isDnsSubdomain(v: string): boolean {
  return v.length > 0 && v.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v);
}

function parsePort(v: number | string): number | null {
  const n = typeof v === 'number' ? v : /^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

/** "host", "host:port", "[v6]:port" or a bare IPv6 address; null when malformed. */
export function parseHostPort(v: string): { host: string; port?: number } | null {
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(v);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (net.isIPv6(host) === false) return null;
  } else if (net.isIPv6(v)) {
    host = v;
  } else {
    const idx = v.lastIndexOf(':');
    if (idx >= 0) {
      host = v.slice(0, idx);
      portText = v.slice(idx + 1);
    } else host = v;
  }
  if (canonicalIp(host) === null && !isDnsSubdomain(host.toLowerCase())) return null;
  if (portText === undefined) return { host };
  const port = parsePort(portText);
  return port === null ? null : { host, port };
}

/** `https://host:port`, bracketing IPv6 hosts. */
export function httpsUrl(host: string, port: number): string {
  return `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** kubeadm's GetControlPlaneEndpoint: the control-plane endpoint (its port, or the bind port), else the local endpoint. */
export function controlPlaneUrl(cfg: ClusterConfig): string {
  if (cfg.controlPlaneEndpoint === '') return localApiUrl(cfg);
  const hp = parseHostPort(cfg.controlPlaneEndpoint)!;
  return httpsUrl(canonicalIp(hp.host) ?? hp.host, hp.port ?? cfg.bindPort);
}

/** kubeadm's GetLocalAPIEndpoint: https://<advertise address>:<bind port>. */
export function localApiUrl(cfg: ClusterConfig): string {
  return httpsUrl(cfg.advertiseAddress, cfg.bindPort);
}

/** The host part of the control-plane endpoint, which kubeadm adds to the apiserver SANs. */
export function controlPlaneHost(cfg: ClusterConfig): string | null {
  if (cfg.controlPlaneEndpoint === '') return null;
  return parseHostPort(cfg.controlPlaneEndpoint)!.host;
}

/**
 * The first IP of the (first) service CIDR: the `kubernetes` Service's ClusterIP, which must be in the apiserver
 * certificate (kubeadm's GetAPIServerVirtualIP). Throws a plain message; the caller names the field.
 */
export function apiServerVirtualIp(serviceSubnet: string): string {
  const cidrs = serviceSubnet.split(',').map((s) => s.trim());
  if (cidrs.length > 2 || cidrs.some((c) => c === '')) throw new Error(`"${serviceSubnet}" is not a CIDR or a dual-stack pair of CIDRs`);
  let first: string | undefined;
  for (const cidr of cidrs) {
    const ip = firstIpOf(cidr);
    first ??= ip;
  }
  return first!;
}

function firstIpOf(cidr: string): string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  const notCidr = () => new Error(`"${cidr}" is not a valid CIDR (e.g. 10.96.0.0/12)`);
  if (!m) throw notCidr();
  const addr = m[1]!;
  const prefix = Number(m[2]);
  const family = net.isIP(addr);
  if (family === 0) throw notCidr();
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) throw notCidr();
  if (prefix === bits) throw new Error(`"${cidr}" is too small: the service subnet needs at least 2 addresses`);
  const value = ipToBigInt(addr, family);
  const hostBits = BigInt(bits - prefix);
  const network = (value >> hostBits) << hostBits;
  return bigIntToIp(network + 1n, family);
}

function ipToBigInt(addr: string, family: number): bigint {
  if (family === 4) return addr.split('.').reduce((acc, o) => (acc << 8n) + BigInt(Number(o)), 0n);
  const canonical = new net.SocketAddress({ address: addr, family: 'ipv6' }).address;
  const [head, tail] = canonical.includes('::') ? canonical.split('::') : [canonical, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  // An IPv4-mapped tail ("::ffff:1.2.3.4") is two groups.
  const expanded = groups.flatMap((g) => (g.includes('.') ? ipv4ToGroups(g) : [g]));
  return expanded.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
}

function ipv4ToGroups(v4: string): string[] {
  const o = v4.split('.').map(Number);
  return [((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
}

function bigIntToIp(v: bigint, family: number): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return canonicalIp(groups.join(':'))!;
}

/** A cluster description read from a `--config` file, plus the directories it may name. */
export interface ConfigFile {
  input: ClusterConfigInput;
  /** Field paths as written in the file, for error messages. */
  names: FieldNames;
  certificatesDir?: string;
  kubeconfigDir?: string;
}

const KUBEPKI_KIND = 'ClusterPKIConfiguration';
const KUBEPKI_API_VERSION = 'kubepki.io/v1alpha1';

/** Fields of the kubepki shape: the ClusterConfigInput names plus the two directories. */
const KUBEPKI_FIELDS = new Set<string>([
  'apiVersion',
  'kind',
  'certificatesDir',
  'kubeconfigDir',
  ...(Object.keys(FLAG_NAMES) as string[]),
]);

/**
 * Parses a `--config` YAML file. Two shapes are accepted:
 *  - kubepki's own flat document (`kind: ClusterPKIConfiguration`, or no kind at all) whose field names are
 *    those of ClusterConfigInput (nodeName, advertiseAddress, controlPlaneEndpoint, apiServerCertSANs, serviceSubnet,
 *    dnsDomain, encryptionAlgorithm, certificateValidityPeriod, caCertificateValidityPeriod, ...); unknown fields are errors;
 *  - kubeadm's documents (apiVersion kubeadm.k8s.io/v1beta3|v1beta4, kind InitConfiguration and/or
 *    ClusterConfiguration), of which only the PKI-relevant fields are read; other kubeadm fields and other
 *    component documents in the same file (KubeletConfiguration, ...) are ignored, as kubeadm's PKI phases do.
 */
export async function parseConfigFile(text: string, what: string): Promise<ConfigFile> {
  const YAML = await import('yaml');
  let docs: unknown[];
  try {
    const tooDeep = yamlNestingProblem(text);
    if (tooDeep) throw new Error(tooDeep);
    const parsed = YAML.parseAllDocuments(text);
    for (const d of parsed) {
      if (d.errors.length > 0) throw new Error(d.errors[0]!.message.split('\n')[0]);
    }
    docs = parsed.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw new KubepkiError('InvalidConfig', `${what}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (docs.length === 0) throw new KubepkiError('InvalidConfig', `${what}: the file is empty`);
  const out: ConfigFile = { input: {}, names: {} };
  let recognised = 0;
  for (const doc of docs) {
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new KubepkiError('InvalidConfig', `${what}: each YAML document must be a mapping`);
    const d = doc as Record<string, unknown>;
    const apiVersion = typeof d['apiVersion'] === 'string' ? d['apiVersion'] : undefined;
    const kind = typeof d['kind'] === 'string' ? d['kind'] : undefined;
    if (apiVersion?.startsWith('kubeadm.k8s.io/')) {
      if (!/^kubeadm\.k8s\.io\/v1beta[34]$/.test(apiVersion)) {
        throw new KubepkiError('InvalidConfig', `${what}: unsupported kubeadm API version "${apiVersion}" (use kubeadm.k8s.io/v1beta3 or v1beta4)`);
      }
      if (kind === 'InitConfiguration') readInitConfiguration(d, out, what);
      else if (kind === 'ClusterConfiguration') readClusterConfiguration(d, out, what);
      else if (kind === 'JoinConfiguration' || kind === 'ResetConfiguration' || kind === 'UpgradeConfiguration') continue;
      else throw new KubepkiError('InvalidConfig', `${what}: unknown kubeadm kind "${kind}"`);
      recognised++;
    } else if (kind === undefined || kind === KUBEPKI_KIND) {
      if (apiVersion !== undefined && apiVersion !== KUBEPKI_API_VERSION) {
        throw new KubepkiError('InvalidConfig', `${what}: unknown apiVersion "${apiVersion}" (use ${KUBEPKI_API_VERSION} or kubeadm.k8s.io/v1beta4)`);
      }
      readKubepkiDocument(d, out, what);
      recognised++;
    } else if (apiVersion !== undefined && /\.k8s\.io\//.test(apiVersion)) {
      continue; // KubeletConfiguration, KubeProxyConfiguration...: not about the PKI
    } else {
      throw new KubepkiError('InvalidConfig', `${what}: unknown kind "${kind}" (expected ${KUBEPKI_KIND}, or kubeadm's InitConfiguration/ClusterConfiguration)`);
    }
  }
  if (recognised === 0) throw new KubepkiError('InvalidConfig', `${what}: no ${KUBEPKI_KIND}, InitConfiguration or ClusterConfiguration document found`);
  return out;
}

function readKubepkiDocument(d: Record<string, unknown>, out: ConfigFile, what: string): void {
  for (const key of Object.keys(d)) {
    if (!KUBEPKI_FIELDS.has(key)) throw new KubepkiError('InvalidConfig', `${what}: unknown field "${key}"`);
  }
  const field = (k: keyof ClusterConfigInput) => {
    if (d[k] === undefined) return;
    out.names[k] = `${what}: ${k}`;
    (out.input as Record<string, unknown>)[k] = k.endsWith('SANs') ? stringList(d[k], `${what}: ${k}`) : scalar(d[k], `${what}: ${k}`);
  };
  for (const k of Object.keys(FLAG_NAMES) as (keyof ClusterConfigInput)[]) field(k);
  if (d['certificatesDir'] !== undefined) out.certificatesDir = String(scalar(d['certificatesDir'], `${what}: certificatesDir`));
  if (d['kubeconfigDir'] !== undefined) out.kubeconfigDir = String(scalar(d['kubeconfigDir'], `${what}: kubeconfigDir`));
}

function readInitConfiguration(d: Record<string, unknown>, out: ConfigFile, what: string): void {
  const lae = obj(d['localAPIEndpoint'], `${what}: localAPIEndpoint`);
  set(out, 'advertiseAddress', lae?.['advertiseAddress'], `${what}: localAPIEndpoint.advertiseAddress`);
  set(out, 'bindPort', lae?.['bindPort'], `${what}: localAPIEndpoint.bindPort`);
  const nr = obj(d['nodeRegistration'], `${what}: nodeRegistration`);
  set(out, 'nodeName', nr?.['name'], `${what}: nodeRegistration.name`);
}

function readClusterConfiguration(d: Record<string, unknown>, out: ConfigFile, what: string): void {
  const networking = obj(d['networking'], `${what}: networking`);
  set(out, 'serviceSubnet', networking?.['serviceSubnet'], `${what}: networking.serviceSubnet`);
  set(out, 'dnsDomain', networking?.['dnsDomain'], `${what}: networking.dnsDomain`);
  set(out, 'controlPlaneEndpoint', d['controlPlaneEndpoint'], `${what}: controlPlaneEndpoint`);
  set(out, 'clusterName', d['clusterName'], `${what}: clusterName`);
  const apiServer = obj(d['apiServer'], `${what}: apiServer`);
  if (apiServer?.['certSANs'] !== undefined) {
    out.input.apiServerCertSANs = stringList(apiServer['certSANs'], `${what}: apiServer.certSANs`);
    out.names.apiServerCertSANs = `${what}: apiServer.certSANs`;
  }
  const etcd = obj(d['etcd'], `${what}: etcd`);
  const local = obj(etcd?.['local'], `${what}: etcd.local`);
  if (local?.['serverCertSANs'] !== undefined) {
    out.input.etcdServerCertSANs = stringList(local['serverCertSANs'], `${what}: etcd.local.serverCertSANs`);
    out.names.etcdServerCertSANs = `${what}: etcd.local.serverCertSANs`;
  }
  if (local?.['peerCertSANs'] !== undefined) {
    out.input.etcdPeerCertSANs = stringList(local['peerCertSANs'], `${what}: etcd.local.peerCertSANs`);
    out.names.etcdPeerCertSANs = `${what}: etcd.local.peerCertSANs`;
  }
  set(out, 'encryptionAlgorithm', d['encryptionAlgorithm'], `${what}: encryptionAlgorithm`);
  set(out, 'certificateValidityPeriod', d['certificateValidityPeriod'], `${what}: certificateValidityPeriod`);
  set(out, 'caCertificateValidityPeriod', d['caCertificateValidityPeriod'], `${what}: caCertificateValidityPeriod`);
  if (d['certificatesDir'] !== undefined) out.certificatesDir = String(scalar(d['certificatesDir'], `${what}: certificatesDir`));
}

function set(out: ConfigFile, k: keyof ClusterConfigInput, v: unknown, name: string): void {
  if (v === undefined || v === null) return;
  (out.input as Record<string, unknown>)[k] = scalar(v, name);
  out.names[k] = name;
}

function obj(v: unknown, name: string): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new KubepkiError('InvalidConfig', `${name}: expected a mapping`);
  return v as Record<string, unknown>;
}

function scalar(v: unknown, name: string): string | number {
  if (typeof v === 'number' && /ValidityPeriod$/.test(name)) {
    throw new KubepkiError('InvalidConfig', `${name}: expected a Go duration string such as "8760h", got the number ${v}`);
  }
  if (typeof v === 'string' || typeof v === 'number') return v;
  throw new KubepkiError('InvalidConfig', `${name}: expected a string, got ${Array.isArray(v) ? 'a list' : typeof v}`);
}

function stringList(v: unknown, name: string): string[] {
  if (typeof v === 'string') return v.split(',');
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new KubepkiError('InvalidConfig', `${name}: expected a list of strings`);
  return v as string[];
}

/** The settings `certs renew` takes from flags or a config file; unset ones stay undefined (renew keeps the old key's algorithm). */
export function resolveRenewSettings(input: ClusterConfigInput, names: FieldNames = {}): { certificateValidityMs?: number; encryptionAlgorithm?: KeyAlgorithm } {
  const n: Required<FieldNames> = { ...FLAG_NAMES, ...names };
  const out: { certificateValidityMs?: number; encryptionAlgorithm?: KeyAlgorithm } = {};
  if (input.certificateValidityPeriod !== undefined) {
    out.certificateValidityMs = validity(input.certificateValidityPeriod, 0, () => new KubepkiError('InvalidConfig', `${n.certificateValidityPeriod}: ${validityHint(input.certificateValidityPeriod)}`));
  }
  if (input.encryptionAlgorithm !== undefined) {
    try {
      out.encryptionAlgorithm = parseKeyAlgorithm(input.encryptionAlgorithm.trim());
    } catch {
      throw new KubepkiError('InvalidConfig', `${n.encryptionAlgorithm}: unknown algorithm "${input.encryptionAlgorithm}": use one of ${KEY_ALGORITHMS.join(', ')}`);
    }
  }
  return out;
}
