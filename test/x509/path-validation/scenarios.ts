// Chains for the Go-oracle comparison: named cases for each rule Go applies, and seeded random ones that
// mix those rules (validity, basic constraints, path length, key usage, EKUs, SANs, name constraints,
// cross-signing, intermediates out of order, missing issuers) so the search also finds what nobody listed.
import type { Certificate } from '../../../src/x509/certificate.js';
import { EXT_KEY_USAGE_OIDS, KEY_USAGE_BITS } from '../../../src/x509/usages.js';
import { seededRandom } from '../../helpers/seeded-random.js';
import { identity, makeCert, type CertSpec, type Identity, type NameConstraintsSpec } from './chain-factory.js';

export interface Scenario {
  name: string;
  leaf: Certificate;
  roots: Certificate[];
  intermediates: Certificate[];
  at: Date;
  dnsName?: string;
  purpose?: 'server' | 'client' | 'any';
}

export const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86400_000;
const before = (days: number) => new Date(NOW.getTime() - days * DAY);
const after = (days: number) => new Date(NOW.getTime() + days * DAY);
const SERVER = EXT_KEY_USAGE_OIDS['server auth'];
const CLIENT = EXT_KEY_USAGE_OIDS['client auth'];
const ANY = EXT_KEY_USAGE_OIDS.any;
const CA_KU = KEY_USAGE_BITS['digital signature'] | KEY_USAGE_BITS['key encipherment'] | KEY_USAGE_BITS['cert sign'];
const LEAF_KU = KEY_USAGE_BITS['digital signature'] | KEY_USAGE_BITS['key encipherment'];

const ca = (subject: Identity, issuer?: Identity, extra: Partial<CertSpec> = {}) =>
  makeCert({ subject, issuer, notBefore: before(365), notAfter: after(3650), ca: true, keyUsage: CA_KU, ...extra });
const leafOf = (subject: Identity, issuer: Identity, extra: Partial<CertSpec> = {}) =>
  makeCert({ subject, issuer, notBefore: before(10), notAfter: after(355), ca: false, keyUsage: LEAF_KU, ekus: [SERVER], dns: ['api.example.com'], ...extra });

export async function namedScenarios(): Promise<Scenario[]> {
  const out: Scenario[] = [];
  const rootId = await identity('root-ca');
  const otherRootId = await identity('other-root');
  const interId = await identity('inter-ca');
  const leafId = await identity('api.example.com');
  const root = await ca(rootId);
  const otherRoot = await ca(otherRootId);
  const inter = await ca(interId, rootId);
  const add = (name: string, leaf: Certificate, roots: Certificate[], intermediates: Certificate[], o: Partial<Scenario> = {}) =>
    out.push({ name, leaf, roots, intermediates, at: NOW, ...o });

  const good = await leafOf(leafId, interId, { ips: ['10.0.0.1', '::1'], dns: ['api.example.com', '*.svc.example.com', 'Kubernetes.Default'] });
  add('valid through an intermediate', good, [root], [inter], { dnsName: 'api.example.com' });
  add('valid, no name asked', good, [root], [inter]);
  add('unknown authority', good, [otherRoot], [inter]);
  add('missing intermediate', good, [root], []);
  add('wildcard matches one label', good, [root], [inter], { dnsName: 'a.svc.example.com' });
  add('wildcard does not match two labels', good, [root], [inter], { dnsName: 'a.b.svc.example.com' });
  add('wildcard does not match the bare domain', good, [root], [inter], { dnsName: 'svc.example.com' });
  add('host name case-insensitive', good, [root], [inter], { dnsName: 'KUBERNETES.default' });
  add('trailing dot', good, [root], [inter], { dnsName: 'api.example.com.' });
  add('IP SAN matches', good, [root], [inter], { dnsName: '10.0.0.1' });
  add('IPv6 SAN matches', good, [root], [inter], { dnsName: '0:0:0:0:0:0:0:1' });
  add('bracketed IPv6', good, [root], [inter], { dnsName: '[::1]' });
  add('IP not in SANs', good, [root], [inter], { dnsName: '10.0.0.2' });
  add('DNS not in SANs', good, [root], [inter], { dnsName: 'other.example.com' });
  add('client purpose on a server cert', good, [root], [inter], { purpose: 'client' });
  add('any purpose', good, [root], [inter], { purpose: 'any' });
  add('expired now', good, [root], [inter], { at: after(400) });
  add('not yet valid now', good, [root], [inter], { at: before(20) });

  const noIp = await leafOf(leafId, interId);
  add('no IP SANs', noIp, [root], [inter], { dnsName: '10.96.0.1' });
  const noSan = await leafOf(leafId, interId, { dns: [] });
  add('legacy CN only', noSan, [root], [inter], { dnsName: 'api.example.com' });
  add('no SANs at all', noSan, [root], [inter], { dnsName: 'x.example.com' });
  const partialWildcard = await leafOf(leafId, interId, { dns: ['f*.example.com', '*.*.example.com', '*'] });
  add('partial wildcard is literal', partialWildcard, [root], [inter], { dnsName: 'foo.example.com' });
  add('partial wildcard exact', partialWildcard, [root], [inter], { dnsName: 'f*.example.com' });
  add('bare star', partialWildcard, [root], [inter], { dnsName: 'x' });

  const clientOnly = await leafOf(await identity('system:node:n1', 'system:nodes'), interId, { ekus: [CLIENT], dns: [] });
  add('client cert as server', clientOnly, [root], [inter]);
  add('client cert as client', clientOnly, [root], [inter], { purpose: 'client' });
  const noEku = await leafOf(leafId, interId, { ekus: [] });
  add('no EKU is any', noEku, [root], [inter], { purpose: 'client' });
  const anyEku = await leafOf(leafId, interId, { ekus: [ANY] });
  add('anyExtendedKeyUsage leaf', anyEku, [root], [inter], { purpose: 'client' });
  const clientInterId = await identity('client-only-inter');
  const clientInter = await ca(clientInterId, rootId, { ekus: [CLIENT] });
  add('intermediate EKU restricts the leaf', await leafOf(leafId, clientInterId), [root], [clientInter]);
  add('intermediate EKU allows the leaf', await leafOf(leafId, clientInterId, { ekus: [CLIENT] }), [root], [clientInter], { purpose: 'client' });

  const expiredInter = await ca(interId, rootId, { notAfter: before(1) });
  add('expired intermediate', await leafOf(leafId, interId), [root], [expiredInter]);
  const futureRoot = await ca(rootId, undefined, { notBefore: after(1) });
  add('root not yet valid', good, [futureRoot], [inter]);
  add('expired leaf', await leafOf(leafId, interId, { notBefore: before(400), notAfter: before(35) }), [root], [inter]);

  const pathZeroRootId = await identity('pathlen0-root');
  const pathZeroRoot = await ca(pathZeroRootId, undefined, { pathLen: 0 });
  const interUnderZero = await ca(interId, pathZeroRootId);
  add('pathlen 0 root with an intermediate', await leafOf(leafId, interId), [pathZeroRoot], [interUnderZero]);
  add('pathlen 0 root signing the leaf', await leafOf(leafId, pathZeroRootId), [pathZeroRoot], []);
  const inter2Id = await identity('inter2-ca');
  const interPath0 = await ca(interId, rootId, { pathLen: 0 });
  const inter2 = await ca(inter2Id, interId);
  add('pathlen 0 intermediate above another', await leafOf(leafId, inter2Id), [root], [inter2, interPath0]);

  const notCa = await ca(interId, rootId, { ca: false });
  add('intermediate CA:FALSE', await leafOf(leafId, interId), [root], [notCa]);
  const noBc = await ca(interId, rootId, { ca: 'absent' });
  add('intermediate without basic constraints', await leafOf(leafId, interId), [root], [noBc]);
  const noCertSign = await ca(interId, rootId, { keyUsage: LEAF_KU });
  add('intermediate without certSign', await leafOf(leafId, interId), [root], [noCertSign]);
  const impostor = await ca(await identity('inter-ca'), rootId);
  add('same name, other key', await leafOf(leafId, interId), [root], [impostor]);
  add('same name, other key, no key ids', await leafOf(leafId, interId, { omitAki: true }), [root], [impostor]);
  const orgOnly = await identity('', 'Example Org');
  const orgRoot = await ca(orgOnly, undefined, { ca: false });
  add('hint names the O', await leafOf(leafId, orgOnly), [orgRoot], []);
  add('unknown critical extension', await leafOf(leafId, interId, { unknownCritical: true }), [root], [inter]);
  add('leaf is a root', root, [root], [], { purpose: 'any' });
  add('leaf is a root, server purpose', root, [root], []);

  const nc = async (name: string, constraints: NameConstraintsSpec, leafExtra: Partial<CertSpec>, dnsName?: string) => {
    const ncId = await identity(`nc-${name}`);
    const ncCa = await ca(ncId, rootId, { nameConstraints: constraints });
    add(`name constraints: ${name}`, await leafOf(leafId, ncId, leafExtra), [root], [ncCa], { dnsName });
  };
  await nc('permitted dns ok', { permittedDns: ['example.com'] }, {}, 'api.example.com');
  await nc('permitted dns violated', { permittedDns: ['example.org'] }, {});
  await nc('excluded dns', { excludedDns: ['api.example.com'] }, {});
  await nc('leading dot needs a subdomain', { permittedDns: ['.example.com'] }, { dns: ['example.com'] });
  await nc('leading dot subdomain ok', { permittedDns: ['.example.com'] }, { dns: ['a.example.com'] });
  await nc('permitted ip', { permittedIps: ['10.0.0.0/8'] }, { dns: [], ips: ['10.1.2.3'] });
  await nc('excluded ip', { excludedIps: ['10.1.0.0/16'] }, { dns: [], ips: ['10.1.2.3'] });
  await nc('ip outside permitted', { permittedIps: ['192.168.0.0/16'] }, { dns: [], ips: ['10.1.2.3'] });
  await nc('ipv6 vs ipv4 constraint', { permittedIps: ['10.0.0.0/8'] }, { dns: [], ips: ['fd00::1'] });
  await nc('email permitted domain', { permittedEmails: ['example.com'] }, { dns: [], emails: ['a@example.com'] });
  await nc('email excluded mailbox', { excludedEmails: ['a@example.com'] }, { dns: [], emails: ['a@example.com'] });
  await nc('uri permitted', { permittedUris: ['.example.com'] }, { dns: [], uris: ['spiffe://a.example.com/ns/x'] });
  await nc('uri violated', { permittedUris: ['example.com'] }, { dns: [], uris: ['https://evil.org/x'] });
  await nc('dns only constrains dns', { permittedDns: ['example.com'] }, { dns: ['x.example.com'], ips: ['10.0.0.1'] });
  await nc('constraints with no SAN', { permittedDns: ['example.com'] }, { dns: [] });

  // Cross-signing: the same intermediate name and key under two roots; only one root trusted.
  const oldRootId = await identity('old-root');
  const newRootId = await identity('new-root');
  const oldRoot = await ca(oldRootId);
  const newRoot = await ca(newRootId);
  const crossId = await identity('cross-inter');
  const crossByOld = await ca(crossId, oldRootId);
  const crossByNew = await ca(crossId, newRootId);
  const crossLeaf = await leafOf(leafId, crossId);
  add('cross-signed, new root trusted', crossLeaf, [newRoot], [crossByOld, crossByNew]);
  add('cross-signed, both roots trusted', crossLeaf, [oldRoot, newRoot], [crossByNew, crossByOld]);
  add('cross-signed, neither trusted', crossLeaf, [root], [crossByNew, crossByOld]);
  // A root re-signed by another root (a "bridge"): the trusted root reached through its cross certificate.
  const oldByNew = await ca(oldRootId, newRootId);
  add('old root bridged by the new one', await leafOf(leafId, oldRootId), [newRoot], [oldByNew]);
  const newByOld = await ca(newRootId, oldRootId);
  add('mutual cross-signatures, no root', await leafOf(leafId, oldRootId), [root], [oldByNew, newByOld]);
  add('mutual cross-signatures, new root', await leafOf(leafId, oldRootId), [newRoot], [newByOld, oldByNew]);
  // Intermediates out of order, several levels.
  const l1 = await identity('level1');
  const l2 = await identity('level2');
  const l3 = await identity('level3');
  const c1 = await ca(l1, rootId);
  const c2 = await ca(l2, l1);
  const c3 = await ca(l3, l2);
  add('three intermediates out of order', await leafOf(leafId, l3), [root], [c2, c3, c1]);
  add('three intermediates, one missing', await leafOf(leafId, l3), [root], [c3, c1]);
  return out;
}

const HOSTS = ['api.example.com', 'a.example.com', 'b.svc.example.com', '*.svc.example.com', '*.example.com', 'example.org', 'x.example.org', 'localhost'];
const IPS = ['10.0.0.1', '10.96.0.1', '127.0.0.1', '192.168.1.10', '::1', 'fd00::10'];
const DIALS = [...HOSTS.filter((h) => !h.startsWith('*')), 'c.svc.example.com', 'svc.example.com', ...IPS, '10.0.0.9', 'API.EXAMPLE.COM'];
const NAME_CONSTRAINTS: NameConstraintsSpec[] = [
  { permittedDns: ['example.com'] },
  { excludedDns: ['svc.example.com'] },
  { permittedDns: ['.example.com'], permittedIps: ['10.0.0.0/8'] },
  { excludedIps: ['10.96.0.0/12'] },
  { permittedIps: ['127.0.0.0/8', '::1/128'] },
  { permittedDns: ['example.org'], excludedDns: ['x.example.org'] },
];

export async function randomScenarios(count: number, seed: number): Promise<Scenario[]> {
  const rand = seededRandom(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const chance = (p: number) => rand() < p;
  const subset = <T>(list: readonly T[], p: number) => list.filter(() => chance(p));
  const validity = (): Pick<CertSpec, 'notBefore' | 'notAfter'> => {
    const r = rand();
    if (r < 0.08) return { notBefore: before(400), notAfter: before(2) };
    if (r < 0.14) return { notBefore: after(3), notAfter: after(300) };
    return { notBefore: before(100), notAfter: after(300) };
  };
  const out: Scenario[] = [];
  const rootIds = [await identity('r-root-a'), await identity('r-root-b')];
  const interIds = [await identity('r-inter-1'), await identity('r-inter-2'), await identity('r-inter-3')];
  const leafId = await identity('r-leaf');
  for (let n = 0; n < count; n++) {
    const roots: Certificate[] = [];
    const rootCerts = new Map<string, Certificate>();
    for (const id of rootIds) {
      const cert = await makeCert({ subject: id, ca: true, keyUsage: CA_KU, ...validity(), pathLen: chance(0.15) ? pick([0, 1]) : undefined, ekus: chance(0.1) ? [pick([SERVER, CLIENT, ANY])] : undefined, nameConstraints: chance(0.1) ? pick(NAME_CONSTRAINTS) : undefined });
      rootCerts.set(id.cn, cert);
      if (chance(0.7)) roots.push(cert);
    }
    // Intermediates: each signed by a root or an earlier intermediate, sometimes twice (cross-signed).
    const intermediates: Certificate[] = [];
    const issuers: Identity[] = [...rootIds];
    for (const id of interIds.slice(0, 1 + Math.floor(rand() * 3))) {
      const signers = chance(0.25) ? [pick(issuers), pick(issuers)] : [pick(issuers)];
      for (const signer of new Set(signers)) {
        intermediates.push(
          await makeCert({
            subject: id,
            issuer: signer,
            ...validity(),
            ca: chance(0.06) ? pick([false, 'absent'] as const) : true,
            keyUsage: chance(0.05) ? LEAF_KU : CA_KU,
            pathLen: chance(0.2) ? pick([0, 1]) : undefined,
            ekus: chance(0.15) ? subset([SERVER, CLIENT, ANY], 0.5) : undefined,
            nameConstraints: chance(0.2) ? pick(NAME_CONSTRAINTS) : undefined,
            omitAki: chance(0.1),
            omitSki: chance(0.05),
          }),
        );
      }
      issuers.push(id);
    }
    const leaf = await makeCert({
      subject: leafId,
      issuer: pick(issuers),
      ...validity(),
      ca: chance(0.1) ? 'absent' : false,
      keyUsage: LEAF_KU,
      ekus: chance(0.2) ? [] : subset([SERVER, CLIENT, ANY], 0.5),
      dns: subset(HOSTS, 0.3),
      ips: subset(IPS, 0.25),
      omitAki: chance(0.1),
    });
    // Shuffle the intermediates and sometimes drop one.
    const given = intermediates.filter(() => !chance(0.1)).sort(() => rand() - 0.5);
    out.push({
      name: `random #${n} (seed ${seed})`,
      leaf,
      roots: roots.sort(() => rand() - 0.5),
      intermediates: given,
      at: NOW,
      dnsName: chance(0.6) ? pick(DIALS) : undefined,
      purpose: chance(0.3) ? undefined : pick(['server', 'client', 'any'] as const),
    });
  }
  return out;
}
