// `cfssl gencert`: -initca makes a self-signed CA; -ca/-ca-key [-config -profile -hostname] makes a new
// key, a CSR for it from csr.json, and the certificate the profile allows — all printed, nothing written.
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { generateKeyPairFromSpec, parsePrivateKeyPem, privateKeyToPem } from '../x509/index.js';
import { csrFor, keySpecOf, validateCsrJson, type CsrJson } from './csr-json.js';
import { defaultSigningPolicy, selectProfile, type SigningPolicy } from './ca-config.js';
import { loadCa, type CaFiles } from './ca.js';
import { cfsslSign } from './signer.js';
import { initCa } from './initca.js';
import type { CfsslResponse } from './response.js';

export interface GencertOptions {
  request: CsrJson;
  initca?: boolean;
  /** -ca and -ca-key (with -initca, only the key: re-issue the CA for an existing key). */
  ca?: Partial<CaFiles>;
  /** From -config; default: cfssl's built-in policy. */
  policy?: SigningPolicy;
  profile?: string;
  /** -hostname: comma list replacing csr.json's "hosts". */
  hostname?: string;
  clock?: Clock;
}

export async function gencert(options: GencertOptions): Promise<CfsslResponse> {
  const clock = options.clock ?? systemClock;
  const request = options.hostname ? { ...options.request, hosts: splitHosts(options.hostname) } : options.request;
  if (options.initca) {
    if (options.ca?.certPem !== undefined) throw new KubepkiError('InvalidArgument', '-initca makes a self-signed CA: give no -ca (use -ca-key alone to keep an existing key)');
    const existingKey = options.ca?.keyPem !== undefined ? parsePrivateKeyPem(options.ca.keyPem, options.ca.keySource ?? 'CA key') : undefined;
    return initCa({ request, clock, ...(existingKey ? { existingKey } : {}) });
  }
  const { ca } = options;
  if (ca?.certPem === undefined || ca.keyPem === undefined) {
    throw new KubepkiError('InvalidArgument', 'gencert needs -initca, or a CA to sign with: -ca=ca.pem -ca-key=ca-key.pem');
  }
  if (request.ca) throw new KubepkiError('InvalidArgument', `${request.source}: the "ca" section is only allowed with -initca`);
  validateCsrJson(request);
  const issuer = loadCa({ certPem: ca.certPem, certSource: ca.certSource ?? '-ca', keyPem: ca.keyPem, keySource: ca.keySource ?? '-ca-key' });
  const policy = options.policy ?? defaultSigningPolicy();
  const profile = selectProfile(policy, options.profile);
  const keySpec = keySpecOf(request);
  const keyPair = await generateKeyPairFromSpec(keySpec);
  const csr = await csrFor(request, keyPair, request.hosts);
  const cert = await cfsslSign({ request: csr, hosts: request.hosts, profile, defaultProfile: policy.default, issuer, clock });
  return { cert: cert.pem, csr: csr.pem, key: privateKeyToPem(keyPair.privateKey) };
}

/** cfssl's signer.SplitHosts: a comma list, kept as given. */
export function splitHosts(list: string): string[] {
  return list === '' ? [] : list.split(',');
}
