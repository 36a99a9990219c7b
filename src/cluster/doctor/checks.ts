// `kubepki doctor`'s checks: pure functions of a PkiSnapshot. Each broken link becomes a finding carrying
// the error text the real component would log (Go's crypto/x509 texts through src/x509/path-validation,
// kube-apiserver's authenticator wrapping, crypto/tls's key-pair check), who is affected and the command
// that fixes it. Errors are broken now; warnings will break later (expiry within 30 days, a CA that expires
// before its leaves, a rotation left half-way) or are unsafe (the request-header CA reused as client CA).
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Certificate } from '../../x509/certificate.js';
import { certificateIdentifier } from '../../x509/certificate-identifier.js';
import { formatName } from '../../x509/names.js';
import { validatePath, type Purpose } from '../../x509/path-validation/index.js';
import type { CAName } from '../certlist.js';
import { GROUP_NODES, NODE_USER_PREFIX } from '../../apis/names.js';
import { caOf, type KubeconfigSnapshot, type KubeletPairSnapshot, type PairSnapshot, type PkiSnapshot } from './snapshot.js';

export type Severity = 'error' | 'warning';

export interface Finding {
  severity: Severity;
  /** Stable identifier of the check, for scripts. */
  check: string;
  /** The file the finding is about. */
  file: string;
  /** The error text the component prints (Go's, word for word, where one exists). */
  message: string;
  /** Where that text appears: the component and its log line or output. */
  seenAs: string;
  /** Who is affected. */
  affected: string;
  /** The command (or step) that fixes it. */
  fix: string;
}

/** Warn this long before a certificate expires. */
export const EXPIRY_WARNING_MS = 30 * 86400_000;

const KEY_MISMATCH = 'tls: private key does not match public key';

const spkiOf = (k: KeyObject) => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
export const keyMatches = (key: KeyObject, cert: Certificate) => spkiOf(key).equals(spkiOf(cert.publicKey));

const kubectlTls = (err: string) => `kubectl: Unable to connect to the server: tls: failed to verify certificate: ${err}`;
const apiserverAuthn = (err: string) => `kube-apiserver: Unable to authenticate the request due to an error: ${err}`;
const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The host a client dials for a server URL (brackets of an IPv6 literal removed). */
export function dialHost(server: string): string | undefined {
  try {
    return new URL(server).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** The CA certificate that signs today: the one the CA key belongs to, else the first of the bundle. */
function currentCa(pair: PairSnapshot): Certificate | undefined {
  const certs = pair.certs ?? [];
  return (pair.key && certs.find((c) => keyMatches(pair.key!, c))) || certs[0];
}

const CA_FIX = 'kubepki ca rotate (a new CA, then every leaf and kubeconfig re-issued)';

export function diagnose(s: PkiSnapshot): Finding[] {
  const out: Finding[] = [];
  const renewLeaf = (name: string) => `kubepki certs renew ${name} --cert-dir ${s.certDir}`;
  const renewConf = (name: string) => `kubepki certs renew ${name} --cert-dir ${s.certDir} --kubeconfig-dir ${s.kubeconfigDir}`;

  /** Expiry warning for a certificate that is valid now but ends within EXPIRY_WARNING_MS. */
  const expiringSoon = (cert: Certificate, file: string, affected: string, fix: string) => {
    const left = cert.notAfter.getTime() - s.now.getTime();
    if (left >= 0 && left < EXPIRY_WARNING_MS && s.now >= cert.notBefore) {
      const err = `x509: certificate has expired or is not yet valid: current time ${iso(new Date(cert.notAfter.getTime() + 1000))} is after ${iso(cert.notAfter)}`;
      out.push({ severity: 'warning', check: 'expires-soon', file, message: `expires ${iso(cert.notAfter)} (in ${Math.floor(left / 86400_000)} days); then: ${err}`, seenAs: 'every peer that verifies it', affected, fix });
    }
  };

  // --- CAs
  for (const { spec, pair } of s.cas) {
    if (!pair.certs) {
      out.push({ severity: 'error', check: 'missing', file: pair.certPath, message: pair.certError ?? 'missing', seenAs: 'kube-apiserver and etcd fail to start', affected: `everything ${spec.name} signs`, fix: `kubepki init --cert-dir ${s.certDir} (creates what is missing)` });
      continue;
    }
    const ca = currentCa(pair)!;
    const self = validatePath(ca, { roots: [ca], now: s.now, purposes: ['any'] });
    if (!self.ok) out.push({ severity: 'error', check: 'ca-validity', file: pair.certPath, message: self.error, seenAs: `every client and server verifying certificates ${spec.name} signs`, affected: `everything ${spec.name} signs`, fix: CA_FIX });
    else expiringSoon(ca, pair.certPath, `everything ${spec.name} signs`, CA_FIX);
    if (pair.key && !pair.certs.some((c) => keyMatches(pair.key!, c))) {
      out.push({ severity: 'error', check: 'key-mismatch', file: pair.keyPath, message: KEY_MISMATCH, seenAs: `kubepki / kube-controller-manager cannot sign with ${pair.keyPath}`, affected: `new certificates from ${spec.name}`, fix: `restore the key that belongs to ${pair.certPath}, or ${CA_FIX}` });
    }
    if (pair.certs.length > 1) {
      const names = pair.certs.map((c) => `${formatName(c.subject)} (serial ${c.serialNumber}, expires ${iso(c.notAfter)})`).join('; ');
      out.push({ severity: 'warning', check: 'ca-rotation-in-progress', file: pair.certPath, message: `${pair.certPath} is a bundle of ${pair.certs.length} CAs: a CA rotation has not finished (${names})`, seenAs: 'kubepki ca rotate', affected: `clients and servers trusting ${spec.name}`, fix: 'kubepki ca rotate (continue until the old CA is removed from the bundle)' });
    }
  }

  // --- leaves
  const leafCert = new Map<string, Certificate[]>();
  for (const { spec, pair } of s.leaves) {
    if (!pair.certs) {
      out.push({ severity: 'error', check: 'missing', file: pair.certPath, message: pair.certError ?? 'missing', seenAs: `${spec.longName}: its component fails to start`, affected: spec.longName, fix: `kubepki init --cert-dir ${s.certDir} (creates what is missing)` });
      continue;
    }
    const cert = pair.certs[0]!;
    leafCert.set(spec.name, pair.certs);
    if (pair.key && !keyMatches(pair.key, cert)) {
      out.push({ severity: 'error', check: 'key-mismatch', file: pair.keyPath, message: KEY_MISMATCH, seenAs: `${spec.name === 'apiserver' ? 'kube-apiserver' : 'its component'} fails to load ${pair.certPath}: ${KEY_MISMATCH}`, affected: spec.longName, fix: renewLeaf(spec.name) });
    } else if (!pair.key) {
      out.push({ severity: 'error', check: 'missing', file: pair.keyPath, message: pair.keyError ?? 'missing', seenAs: 'its component fails to start', affected: spec.longName, fix: renewLeaf(spec.name) });
    }
    const caPair = caOf(s, spec.caName);
    if (!caPair.certs) continue;
    const purposes: Purpose[] = spec.extKeyUsages.map((u) => (u === 'server auth' ? 'server' : 'client'));
    let failed = false;
    for (const purpose of purposes) {
      const r = validatePath(cert, { roots: caPair.certs, intermediates: pair.certs.slice(1), now: s.now, purposes: [purpose] });
      if (r.ok) continue;
      failed = true;
      const isClient = purpose === 'client';
      // kube-apiserver wraps client-certificate failures with the certificate's identity; its request-header
      // authenticator (front proxy) and etcd report Go's error as is.
      const wrapped = isClient && spec.caName === 'ca';
      const message = wrapped ? `verifying certificate ${certificateIdentifier(cert)} failed: ${r.error}` : r.error;
      out.push({
        severity: 'error',
        check: isClient ? 'client-certificate' : 'serving-certificate',
        file: pair.certPath,
        message,
        seenAs: !isClient
          ? spec.caName === 'etcd-ca'
            ? `kube-apiserver (etcd client): tls: failed to verify certificate: ${r.error}`
            : kubectlTls(r.error)
          : spec.caName === 'etcd-ca'
            ? `etcd: rejected connection: ${r.error}`
            : spec.name === 'front-proxy-client'
              ? apiserverAuthn(r.error)
              : `kubelet: Unable to authenticate the request due to an error: ${message}`,
        affected: spec.longName,
        fix: renewLeaf(spec.name),
      });
      break;
    }
    if (!failed) {
      expiringSoon(cert, pair.certPath, spec.longName, renewLeaf(spec.name));
      checkOutlivesCa(out, { cert, file: pair.certPath, roots: caPair.certs, now: s.now, what: spec.longName, caName: spec.caName });
      checkRotationLeftover(out, { cert, file: pair.certPath, caPair, fix: renewLeaf(spec.name), what: spec.longName });
    }
    if (spec.name === 'front-proxy-client') {
      const cn = cert.subject.commonName ?? '';
      if (s.requestHeaderAllowedNames.length > 0 && !s.requestHeaderAllowedNames.includes(cn)) {
        const err = `x509: subject with cn=${cn} is not in the allowed list`;
        out.push({ severity: 'error', check: 'requestheader-allowed-names', file: pair.certPath, message: err, seenAs: apiserverAuthn(err), affected: 'aggregated API servers reached through the front proxy', fix: `${renewLeaf('front-proxy-client')} after re-issuing it as CN=${s.requestHeaderAllowedNames[0]}, or add "${cn}" to --requestheader-allowed-names` });
      }
    }
  }

  // The API server's serving certificate against every name clients dial.
  const apiserver = leafCert.get('apiserver');
  const apiserverPath = s.leaves.find((l) => l.spec.name === 'apiserver')!.pair.certPath;
  const clusterCa = caOf(s, 'ca');
  if (apiserver && clusterCa.certs) {
    const dialled = new Map<string, string[]>();
    for (const kc of s.kubeconfigs) {
      const host = kc.server ? dialHost(kc.server) : undefined;
      if (host) dialled.set(host, [...(dialled.get(host) ?? []), kc.spec.name]);
    }
    for (const [host, users] of dialled) {
      const r = validatePath(apiserver[0]!, { roots: clusterCa.certs, intermediates: apiserver.slice(1), now: s.now, dnsName: host, purposes: ['server'] });
      if (r.ok || !/^x509: (certificate is valid for|cannot validate certificate for|certificate is not valid for any names|certificate relies on legacy)/.test(r.error)) continue;
      out.push({ severity: 'error', check: 'serving-certificate-name', file: apiserverPath, message: r.error, seenAs: kubectlTls(r.error), affected: `clients dialling ${host}: ${users.join(', ')}`, fix: `remove ${apiserverPath} and its key, then kubepki init --cert-dir ${s.certDir} --kubeconfig-dir ${s.kubeconfigDir} --apiserver-cert-extra-sans ${host} (renew keeps the old names)` });
    }
  }

  // The request-header CA must not be the client CA (kube's "CA Reusage and Conflicts").
  const frontProxyCa = caOf(s, 'front-proxy-ca');
  if (frontProxyCa.certs && clusterCa.certs) {
    const same = frontProxyCa.certs.some((f) => clusterCa.certs!.some((c) => spkiOf(f.publicKey).equals(spkiOf(c.publicKey))));
    if (same) {
      out.push({
        severity: 'warning',
        check: 'requestheader-ca-is-client-ca',
        file: frontProxyCa.certPath,
        message: `the request-header CA ${frontProxyCa.certPath} is the client CA ${clusterCa.certPath}: every client certificate is first tried as a front proxy (${s.requestHeaderAllowedNames.length === 0 ? 'and, with no --requestheader-allowed-names, any of them may assert any identity in X-Remote-User' : `kube-apiserver logs "x509: subject with cn=<user> is not in the allowed list" for each`})`,
        seenAs: apiserverAuthn('x509: subject with cn=kubernetes-admin is not in the allowed list'),
        affected: 'every client-certificate user; the security of the front-proxy identity headers',
        fix: `generate a separate front-proxy CA: remove ${frontProxyCa.certPath}, its key and front-proxy-client.*, then kubepki init --cert-dir ${s.certDir}`,
      });
    }
  }

  // --- kubeconfigs
  for (const kc of s.kubeconfigs) diagnoseKubeconfig(out, s, kc, { apiserver, renewConf, expiringSoon });

  // --- the kubelet's own certificates (an agent's cert dir)
  if (s.kubelet && clusterCa.certs) {
    diagnoseKubeletPair(out, s, s.kubelet.client, { roots: clusterCa.certs, purpose: 'client', expiringSoon });
    diagnoseKubeletPair(out, s, s.kubelet.server, { roots: clusterCa.certs, purpose: 'server', expiringSoon });
  }
  return out;
}

function checkOutlivesCa(out: Finding[], o: { cert: Certificate; file: string; roots: Certificate[]; now: Date; what: string; caName: CAName }): void {
  const r = validatePath(o.cert, { roots: o.roots, now: o.now, purposes: ['any'] });
  if (!r.ok) return;
  const root = r.chains[0]![r.chains[0]!.length - 1]!;
  if (o.cert.notAfter.getTime() <= root.notAfter.getTime()) return;
  const then = new Date(root.notAfter.getTime() + 1000);
  const later = validatePath(o.cert, { roots: o.roots, now: then, purposes: ['any'] });
  out.push({
    severity: 'warning',
    check: 'ca-expires-before-leaf',
    file: o.file,
    message: `its CA ${formatName(root.subject)} expires ${iso(root.notAfter)}, before it (${iso(o.cert.notAfter)}); from then on: ${later.ok ? 'still valid through another CA' : later.error}`,
    seenAs: 'every peer verifying it after the CA expires',
    affected: o.what,
    fix: CA_FIX,
  });
}

function checkRotationLeftover(out: Finding[], o: { cert: Certificate; file: string; caPair: PairSnapshot; fix: string; what: string }): void {
  const certs = o.caPair.certs ?? [];
  if (certs.length < 2) return;
  const current = currentCa(o.caPair)!;
  const r = validatePath(o.cert, { roots: [current], now: o.cert.notBefore, purposes: ['any'] });
  if (r.ok) return;
  out.push({ severity: 'warning', check: 'ca-rotation-leftover', file: o.file, message: `signed by a previous CA, not the current ${formatName(current.subject)} (serial ${current.serialNumber}): it stops verifying when the old CA leaves ${o.caPair.certPath}`, seenAs: 'kubepki ca rotate', affected: o.what, fix: o.fix });
}

function diagnoseKubeconfig(
  out: Finding[],
  s: PkiSnapshot,
  kc: KubeconfigSnapshot,
  ctx: { apiserver: Certificate[] | undefined; renewConf: (n: string) => string; expiringSoon: (cert: Certificate, file: string, affected: string, fix: string) => void },
): void {
  const who = `${kc.spec.name.replace(/\.conf$/, '')} (${kc.path})`;
  const fix = kc.spec.renewable ? ctx.renewConf(kc.spec.name) : 'restart kubepki agent with --bootstrap-kubeconfig (a valid bootstrap token; kubepki token create): finding kubelet.conf unusable, it re-bootstraps';
  if (kc.error) {
    out.push({ severity: kc.error.includes('no such file') ? 'warning' : 'error', check: 'kubeconfig', file: kc.path, message: kc.error, seenAs: `kubectl --kubeconfig ${kc.path}: error loading config file`, affected: who, fix: `kubepki init --cert-dir ${s.certDir} --kubeconfig-dir ${s.kubeconfigDir} (creates what is missing)` });
    return;
  }
  const clusterCa = caOf(s, 'ca');
  if (kc.clientCert) {
    const cert = kc.clientCert;
    if (kc.clientKey && !keyMatches(kc.clientKey, cert)) {
      out.push({ severity: 'error', check: 'key-mismatch', file: kc.path, message: KEY_MISMATCH, seenAs: `kubectl: error: ${KEY_MISMATCH}`, affected: who, fix });
    }
    if (clusterCa.certs) {
      const r = validatePath(cert, { roots: clusterCa.certs, now: s.now, purposes: ['client'] });
      if (!r.ok) {
        const message = `verifying certificate ${certificateIdentifier(cert)} failed: ${r.error}`;
        out.push({ severity: 'error', check: 'client-certificate', file: kc.path, message, seenAs: `${apiserverAuthn(message)}; kubectl: error: You must be logged in to the server (Unauthorized)`, affected: who, fix });
      } else {
        ctx.expiringSoon(cert, kc.path, who, fix);
        checkOutlivesCa(out, { cert, file: kc.path, roots: clusterCa.certs, now: s.now, what: who, caName: 'ca' });
        checkRotationLeftover(out, { cert, file: kc.path, caPair: clusterCa, fix, what: who });
      }
    }
    // The identity the API server derives: CN is the user, each O a group.
    const user = cert.subject.commonName ?? '';
    const groups = cert.subject.organization ?? [];
    const wantGroups = kc.spec.organizations;
    const userOk = kc.spec.name === 'kubelet.conf' ? user.startsWith(NODE_USER_PREFIX) && user.length > NODE_USER_PREFIX.length : user === fixedClientName(kc);
    const groupsOk = kc.spec.name === 'kubelet.conf' ? groups.includes(GROUP_NODES) : wantGroups.every((g) => groups.includes(g)) && groups.every((g) => wantGroups.includes(g));
    if (!userOk || !groupsOk) {
      const want = kc.spec.name === 'kubelet.conf' ? `user "system:node:<node name>" in group "${GROUP_NODES}"` : `user "${fixedClientName(kc)}"${wantGroups.length ? ` in groups [${wantGroups.join(' ')}]` : ' in no group'}`;
      out.push({
        severity: 'error',
        check: 'identity',
        file: kc.path,
        message: `authenticates as user "${user}" in groups [${groups.join(' ')}], not ${want}`,
        seenAs: `kube-apiserver (RBAC): User "${user}" cannot … (Forbidden); the Node authorizer does not recognise it as a node`,
        affected: who,
        fix,
      });
    }
  }
  // The kubeconfig's CA must verify the API server's certificate at the address it dials.
  if (kc.caCerts && ctx.apiserver && kc.server) {
    const host = dialHost(kc.server);
    const r = validatePath(ctx.apiserver[0]!, { roots: kc.caCerts, intermediates: ctx.apiserver.slice(1), now: s.now, dnsName: host, purposes: ['server'] });
    if (!r.ok && !/^x509: (certificate is valid for|cannot validate certificate for|certificate is not valid for any names)/.test(r.error)) {
      out.push({ severity: 'error', check: 'kubeconfig-ca', file: kc.path, message: r.error, seenAs: kubectlTls(r.error), affected: who, fix: kc.spec.renewable ? ctx.renewConf(kc.spec.name) : `put ${clusterCa.certPath} into ${kc.path}'s certificate-authority-data` });
    }
  }
}

/** The user of a kubeconfig other than kubelet.conf: a constant of the spec (its cluster config is not read). */
const fixedClientName = (kc: KubeconfigSnapshot) => kc.spec.clientName({} as Parameters<KubeconfigSnapshot['spec']['clientName']>[0]);

function diagnoseKubeletPair(out: Finding[], s: PkiSnapshot, p: KubeletPairSnapshot, ctx: { roots: Certificate[]; purpose: Purpose; expiringSoon: (cert: Certificate, file: string, affected: string, fix: string) => void }): void {
  const isClient = ctx.purpose === 'client';
  const who = isClient ? 'the kubelet talking to the API server' : 'the API server reaching the kubelet (logs, exec, port-forward)';
  const fix = isClient
    ? `restart kubepki agent with --bootstrap-kubeconfig (a valid bootstrap token; kubepki token create): finding ${p.path} unusable, it re-bootstraps`
    : `remove ${p.path}, then restart kubepki agent: it requests a new serving certificate`;
  if (p.error) {
    const dangling = p.target !== undefined && p.error.includes('no such file');
    if (!isClient && !dangling && p.error.includes('no such file')) return; // a serving certificate is optional
    out.push({
      severity: 'error',
      check: dangling ? 'kubelet-certificate-dangling' : 'kubelet-certificate',
      file: p.path,
      message: p.error,
      seenAs: `kubelet: ${isClient ? 'failed to run Kubelet: unable to load client CA' : 'failed to load the serving certificate'}: ${p.error}`,
      affected: who,
      fix,
    });
    return;
  }
  const cert = p.certs![0]!;
  if (p.key && !keyMatches(p.key, cert)) {
    out.push({ severity: 'error', check: 'key-mismatch', file: p.path, message: KEY_MISMATCH, seenAs: `kubelet: ${KEY_MISMATCH}`, affected: who, fix });
  }
  const r = validatePath(cert, { roots: ctx.roots, intermediates: p.certs!.slice(1), now: s.now, purposes: [ctx.purpose] });
  if (!r.ok) {
    const message = isClient ? `verifying certificate ${certificateIdentifier(cert)} failed: ${r.error}` : r.error;
    out.push({ severity: 'error', check: isClient ? 'kubelet-client-certificate' : 'kubelet-serving-certificate', file: p.path, message, seenAs: isClient ? apiserverAuthn(message) : `kube-apiserver → kubelet: tls: failed to verify certificate: ${r.error}`, affected: who, fix });
  } else ctx.expiringSoon(cert, p.path, who, fix);
}
