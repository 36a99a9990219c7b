// `cfssl sign -ca -ca-key [-config -profile -hostname] CSR`: signs an existing PKCS#10 request (its
// self-signature verified first) and prints the certificate with the request as given.
import { KubepkiError } from '../util/errors.js';
import { systemClock, type Clock } from '../util/clock.js';
import { parseCertificateRequestPem } from '../x509/index.js';
import { defaultSigningPolicy, selectProfile, type SigningPolicy } from './ca-config.js';
import { loadCa, type CaFiles } from './ca.js';
import { cfsslSign } from './signer.js';
import { splitHosts } from './gencert.js';
import type { CfsslResponse } from './response.js';

export interface SignOptions {
  csrPem: string;
  /** The CSR's path as given ("-" = stdin), for messages. */
  csrSource: string;
  ca: Partial<CaFiles>;
  policy?: SigningPolicy;
  profile?: string;
  hostname?: string;
  clock?: Clock;
}

export async function sign(options: SignOptions): Promise<CfsslResponse> {
  const { ca } = options;
  if (ca.certPem === undefined) throw new KubepkiError('InvalidArgument', 'sign needs the CA certificate: -ca=ca.pem');
  if (ca.keyPem === undefined) throw new KubepkiError('InvalidArgument', 'sign needs the CA private key: -ca-key=ca-key.pem');
  const policy = options.policy ?? defaultSigningPolicy();
  const profile = selectProfile(policy, options.profile);
  const issuer = loadCa({ certPem: ca.certPem, certSource: ca.certSource ?? '-ca', keyPem: ca.keyPem, keySource: ca.keySource ?? '-ca-key' });
  const request = await parseCertificateRequestPem(options.csrPem, options.csrSource);
  const cert = await cfsslSign({
    request,
    hosts: options.hostname ? splitHosts(options.hostname) : undefined,
    profile,
    defaultProfile: policy.default,
    issuer,
    clock: options.clock ?? systemClock,
  });
  return { cert: cert.pem, csr: options.csrPem };
}
