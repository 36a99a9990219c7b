// `kubepki doctor --server/--kubeconfig`: connects to the API server as each kubeconfig's identity. The
// server's certificate chain is taken from the handshake and validated as Go's kubectl would (so the text is
// Go's, not OpenSSL's); then a SelfSubjectReview (`kubectl auth whoami`) shows who the server thinks the
// client is.
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { parseCertificateDer, type Certificate } from '../../x509/certificate.js';
import { privateKeyToPem } from '../../x509/keys.js';
import { validatePath } from '../../x509/path-validation/index.js';
import { dialHost, type Finding } from './checks.js';
import type { KubeconfigSnapshot } from './snapshot.js';

const TIMEOUT_MS = 10_000;

/** The certificates the server presents (leaf first), read without trusting them. */
function presentedChain(url: URL): Promise<Certificate[]> {
  return new Promise((resolve, reject) => {
    const host = dialHost(url.href)!;
    const socket = tls.connect({ host, port: Number(url.port || 443), servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false, timeout: TIMEOUT_MS }, () => {
      const out: Certificate[] = [];
      let c = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (c && c.raw && !seen.has(c.fingerprint256)) {
        seen.add(c.fingerprint256);
        out.push(parseCertificateDer(new Uint8Array(c.raw), 'server certificate'));
        c = c.issuerCertificate;
      }
      socket.end();
      resolve(out);
    });
    socket.on('timeout', () => socket.destroy(new Error(`dial tcp ${url.host}: i/o timeout`)));
    socket.on('error', reject);
  });
}

interface WhoAmI {
  status: number;
  username?: string;
  groups?: string[];
}

function selfSubjectReview(url: URL, kc: KubeconfigSnapshot): Promise<WhoAmI> {
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL('/apis/authentication.k8s.io/v1/selfsubjectreviews', url),
      {
        method: 'POST',
        // The chain was validated above with Go's rules; Node's own check would only add OpenSSL's wording.
        rejectUnauthorized: false,
        cert: kc.clientCert?.pem,
        key: kc.clientKey ? privateKeyToPem(kc.clientKey) : undefined,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let doc: { status?: { userInfo?: { username?: string; groups?: string[] } } } = {};
          try {
            doc = JSON.parse(text) as typeof doc;
          } catch {
            // not JSON: the status code says enough
          }
          resolve({ status: res.statusCode ?? 0, username: doc.status?.userInfo?.username, groups: doc.status?.userInfo?.groups });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`dial tcp ${url.host}: i/o timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Connects as each kubeconfig identity; `server` overrides the kubeconfigs' server URLs. */
export async function probeLive(kubeconfigs: KubeconfigSnapshot[], options: { server?: string; now: Date }): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const kc of kubeconfigs) {
    if (kc.error || !(options.server ?? kc.server)) continue;
    const url = new URL((options.server ?? kc.server)!);
    const who = `${kc.spec.name.replace(/\.conf$/, '')} (${kc.path})`;
    let chain: Certificate[];
    try {
      chain = await presentedChain(url);
    } catch (err) {
      out.push({ severity: 'error', check: 'live-connect', file: kc.path, message: (err as Error).message, seenAs: `kubectl: Unable to connect to the server: ${(err as Error).message}`, affected: who, fix: `check that the API server listens on ${url.host}` });
      continue;
    }
    if (kc.caCerts && chain.length > 0) {
      const r = validatePath(chain[0]!, { roots: kc.caCerts, intermediates: chain.slice(1), now: options.now, dnsName: dialHost(url.href), purposes: ['server'] });
      if (!r.ok) {
        out.push({ severity: 'error', check: 'live-server-certificate', file: kc.path, message: r.error, seenAs: `kubectl: Unable to connect to the server: tls: failed to verify certificate: ${r.error}`, affected: who, fix: 'see the findings about apiserver.crt and this kubeconfig\'s certificate-authority-data' });
        continue;
      }
    }
    if (!kc.clientCert) continue;
    let who2: WhoAmI;
    try {
      who2 = await selfSubjectReview(url, kc);
    } catch (err) {
      out.push({ severity: 'error', check: 'live-connect', file: kc.path, message: (err as Error).message, seenAs: `kubectl: ${(err as Error).message}`, affected: who, fix: 'see the findings about this kubeconfig' });
      continue;
    }
    if (who2.status === 401) {
      out.push({ severity: 'error', check: 'live-unauthorized', file: kc.path, message: 'error: You must be logged in to the server (Unauthorized)', seenAs: 'kubectl: error: You must be logged in to the server (Unauthorized)', affected: who, fix: 'see the client-certificate findings for this kubeconfig (the API server log says why)' });
      continue;
    }
    const cn = kc.clientCert.subject.commonName ?? '';
    if (who2.status === 201 && who2.username !== undefined && who2.username !== cn) {
      out.push({ severity: 'error', check: 'live-identity', file: kc.path, message: `the API server authenticates this client as "${who2.username}" (groups [${(who2.groups ?? []).join(' ')}]), not as its certificate's CN "${cn}"`, seenAs: 'kubectl auth whoami', affected: who, fix: 'check the API server\'s --client-ca-file and --requestheader-client-ca-file' });
    }
  }
  return out;
}
