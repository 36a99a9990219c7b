// Opt-in approval of kubelet serving certificates — the check kubelet-csr-approver exists for, because
// Kubernetes itself never auto-approves them: a node may only get a serving certificate for names and
// addresses that are its own. Approved only when the requester is the node named in the CN (and in
// system:nodes), the request is a valid kubelet-serving request, every DNS SAN is the node name or a name
// under it ending in an allowed DNS suffix, and every IP SAN lies in an allowed CIDR. Like csrapproving it
// never denies: a request that does not pass stays Pending for a human (or another approver) to decide.
import net from 'node:net';
import { KubepkiError } from '../../util/errors.js';
import { validateKubeletServingRequest, type RequestSubject } from '../kubelet-csr.js';
import { GROUP_NODES, NODE_USER_PREFIX } from '../../apis/names.js';
import { KUBELET_SERVING_SIGNER, type CertificateSigningRequest } from '../../apis/index.js';

export interface KubeletServingPolicy {
  /** CIDRs that node IP SANs must fall in (e.g. 10.0.0.0/8, fd00::/8). */
  allowedCidrs: string[];
  /** DNS suffixes node DNS SANs may end in (e.g. cluster.internal): `<node>.<anything>.<suffix>`. */
  dnsSuffixes: string[];
  /** Upper bound on spec.expirationSeconds, if any. */
  maxExpirationSeconds?: number;
}

export const SERVING_APPROVAL_MESSAGE = 'Auto approving kubelet serving certificate: the node asked for its own names and addresses only.';

/** Parses the CIDR allow-list once; throws naming the first bad entry. */
export function compileCidrs(cidrs: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const c of cidrs) {
    const [addr, bitsText] = c.split('/');
    const family = net.isIP(addr ?? '');
    const bits = Number(bitsText);
    if (!family || bitsText === undefined || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new KubepkiError('InvalidArgument', `invalid CIDR "${c}" in the kubelet serving allow-list`);
    }
    list.addSubnet(addr!, bits, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** null when the request may be approved, otherwise why not. */
export function checkKubeletServingRequest(
  csr: CertificateSigningRequest,
  request: RequestSubject,
  policy: KubeletServingPolicy & { cidrs?: net.BlockList },
): string | null {
  if (csr.spec.signerName !== KUBELET_SERVING_SIGNER) return 'not a kubelet-serving request';
  const username = csr.spec.username ?? '';
  if (!username.startsWith(NODE_USER_PREFIX)) return 'CSR Spec.Username is not prefixed with system:node:';
  if ((request.subject.commonName ?? '') !== username) return 'CSR username does not match the parsed x509 certificate request commonname';
  if (!(csr.spec.groups ?? []).includes(GROUP_NODES)) return `the requester is not in the ${GROUP_NODES} group`;
  const invalid = validateKubeletServingRequest(request, csr.spec.usages ?? []);
  if (invalid !== null) return invalid;
  if (policy.maxExpirationSeconds !== undefined && csr.spec.expirationSeconds !== undefined && csr.spec.expirationSeconds > policy.maxExpirationSeconds) {
    return 'CSR spec.expirationSeconds is longer than the maximum allowed expiration second';
  }
  const node = username.slice(NODE_USER_PREFIX.length).toLowerCase();
  for (const raw of request.sans.dnsNames) {
    const dns = raw.toLowerCase();
    if (dns === node) continue;
    const underNode = dns.startsWith(`${node}.`);
    const suffixOk = policy.dnsSuffixes.some((s) => dns.endsWith(`.${s.toLowerCase().replace(/^\./, '')}`));
    if (!underNode || !suffixOk) return `DNS name ${raw} is not one of node ${node}'s names under an allowed suffix`;
  }
  const cidrs = policy.cidrs ?? compileCidrs(policy.allowedCidrs);
  for (const ip of request.sans.ipAddresses) {
    if (!cidrs.check(ip, net.isIP(ip) === 6 ? 'ipv6' : 'ipv4')) return `IP address ${ip} is not in an allowed CIDR`;
  }
  return null;
}
