import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { isKubepkiError } from '../../src/util/errors.js';
import {
  cfsslSerialNumber,
  cfsslSign,
  gencert,
  initCa,
  parseCaConfig,
  parseCsrJson,
  selectProfile,
  sign,
  genkey,
} from '../../src/cfssl/index.js';
import {
  createCertificateRequest,
  generateKeyPair,
  generateKeyPairFromSpec,
  parseCertificatePem,
  parseCertificateRequestPem,
  parseHosts,
  parsePrivateKeyPem,
  isSignedBy,
  keyMatchesPublicKey,
  EXT_KEY_USAGE_OIDS,
  KEY_USAGE_BITS,
} from '../../src/x509/index.js';

const H = 3_600_000;
const CONFIG = parseCaConfig(
  JSON.stringify({
    signing: {
      default: { expiry: '8760h', usages: ['signing', 'key encipherment', 'server auth'] },
      profiles: {
        server: { expiry: '876000h', usages: ['digital signature', 'key encipherment', 'server auth', 'client auth'] },
        client: { expiry: '0s', usages: ['client auth'] },
        intermediate: { expiry: '43800h', usages: ['cert sign', 'crl sign'], ca_constraint: { is_ca: true, max_path_len: 1 } },
        intermediate0: { expiry: '43800h', usages: ['cert sign', 'crl sign'], ca_constraint: { is_ca: true, max_path_len: 0, max_path_len_zero: true } },
        early: { expiry: '1h', backdate: '1h', usages: ['client auth'] },
        fixed: { expiry: '1h', usages: ['client auth'], not_before: '2030-01-01T00:00:00Z', not_after: '2031-01-01T00:00:00Z' },
      },
    },
  }),
  'ca-config.json',
);

async function ecdsaCa(clock: FakeClock) {
  const r = await initCa({ request: parseCsrJson('{"CN":"test-ca","key":{"algo":"ecdsa","size":256}}', 'ca-csr.json'), clock });
  return { certPem: r.cert!, certSource: 'ca.pem', keyPem: r.key!, keySource: 'ca-key.pem' };
}

test('notBefore is now rounded to the minute minus 5 minutes, and notAfter adds the profile expiry', async () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:29.900Z'));
  const ca = await ecdsaCa(clock);
  const r = await gencert({ request: parseCsrJson('{"CN":"s","hosts":["s.example"]}', 'r'), ca, policy: CONFIG, profile: 'server', clock });
  const cert = parseCertificatePem(r.cert!);
  assert.equal(cert.notBefore.toISOString(), '2026-03-01T11:55:00.000Z');
  assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 876000 * H);
  clock.set(new Date('2026-03-01T12:00:30.000Z'));
  const r2 = await gencert({ request: parseCsrJson('{"CN":"s"}', 'r'), ca, policy: CONFIG, profile: 'server', clock });
  assert.equal(parseCertificatePem(r2.cert!).notBefore.toISOString(), '2026-03-01T11:56:00.000Z');
});

test('a leaf may outlive its CA, as with cfssl (the seed signs 876000h leaves with a 5-year etcd CA)', async () => {
  const clock = new FakeClock();
  const ca = await ecdsaCa(clock);
  const caCert = parseCertificatePem(ca.certPem);
  assert.equal(caCert.notAfter.getTime() - caCert.notBefore.getTime(), 43800 * H);
  const r = await gencert({ request: parseCsrJson('{"CN":"s"}', 'r'), ca, policy: CONFIG, profile: 'server', clock });
  const leaf = parseCertificatePem(r.cert!);
  assert.ok(leaf.notAfter > caCert.notAfter);
  assert.ok(isSignedBy(leaf, caCert));
});

test('a profile expiry of 0 takes the default profile\'s; backdate and fixed times are honoured', async () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00Z'));
  const ca = await ecdsaCa(clock);
  const req = parseCsrJson('{"CN":"c"}', 'r');
  const c = parseCertificatePem((await gencert({ request: req, ca, policy: CONFIG, profile: 'client', clock })).cert!);
  assert.equal(c.notAfter.getTime() - c.notBefore.getTime(), 8760 * H);
  const e = parseCertificatePem((await gencert({ request: req, ca, policy: CONFIG, profile: 'early', clock })).cert!);
  assert.equal(e.notBefore.toISOString(), '2026-03-01T11:00:00.000Z');
  const f = parseCertificatePem((await gencert({ request: req, ca, policy: CONFIG, profile: 'fixed', clock })).cert!);
  assert.equal(f.notBefore.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal(f.notAfter.toISOString(), '2031-01-01T00:00:00.000Z');
});

test('initca: cert sign + crl sign, CA:TRUE, pathlen from "ca", 5 years by default, no AKI, only IP SANs', async () => {
  const clock = new FakeClock(new Date('2026-03-01T12:00:00Z'));
  const r = await initCa({ request: parseCsrJson('{"CN":"ca1","hosts":["ca.example","10.0.0.1"],"ca":{"pathlen":2}}', 'r'), clock });
  const ca = parseCertificatePem(r.cert!);
  assert.equal(ca.isCA, true);
  assert.equal(ca.maxPathLen, 2);
  assert.equal(ca.keyUsage, KEY_USAGE_BITS['cert sign'] | KEY_USAGE_BITS['crl sign']);
  assert.deepEqual([...ca.extKeyUsages], []);
  assert.equal(ca.authorityKeyId, '');
  assert.notEqual(ca.subjectKeyId, '');
  assert.deepEqual(ca.sans.dnsNames, []);
  assert.deepEqual(ca.sans.ipAddresses, ['10.0.0.1']);
  assert.equal(ca.notAfter.getTime() - ca.notBefore.getTime(), 43800 * H);
  const csr = await parseCertificateRequestPem(r.csr!);
  assert.equal(csr.requestedIsCA, true);
  assert.deepEqual(csr.sans.dnsNames, ['ca.example']);
  assert.ok(keyMatchesPublicKey(parsePrivateKeyPem(r.key!), ca.publicKey));
  const z = parseCertificatePem((await initCa({ request: parseCsrJson('{"CN":"ca0","ca":{"pathlenzero":true,"expiry":"1h"}}', 'r'), clock })).cert!);
  assert.equal(z.maxPathLen, 0);
  assert.equal(z.notAfter.getTime() - z.notBefore.getTime(), H);
  const none = parseCertificatePem((await initCa({ request: parseCsrJson('{"CN":"ca-none","ca":{"pathlen":0}}', 'r'), clock })).cert!);
  assert.equal(none.maxPathLen, undefined);
});

test('a ca_constraint profile issues an intermediate CA with its pathlen; a plain profile refuses a CSR asking for CA', async () => {
  const clock = new FakeClock();
  const ca = await ecdsaCa(clock);
  const req = parseCsrJson('{"CN":"inter","hosts":["i.example","10.1.1.1","a@b.example"]}', 'r');
  const inter = parseCertificatePem((await gencert({ request: req, ca, policy: CONFIG, profile: 'intermediate', clock })).cert!);
  assert.equal(inter.isCA, true);
  assert.equal(inter.maxPathLen, 1);
  assert.deepEqual(inter.sans, { dnsNames: [], ipAddresses: ['10.1.1.1'], emailAddresses: [], uris: [] });
  const inter0 = parseCertificatePem((await gencert({ request: req, ca, policy: CONFIG, profile: 'intermediate0', clock })).cert!);
  assert.equal(inter0.maxPathLen, 0);
  const caCsr = await genkey({ request: parseCsrJson('{"CN":"sub","ca":{}}', 'r') });
  await assert.rejects(
    sign({ csrPem: caCsr.csr!, csrSource: 'sub.csr', ca, policy: CONFIG, profile: 'server', clock }),
    (e: unknown) => isKubepkiError(e) && /asks for a CA certificate, which profile "server" does not allow/.test(e.message),
  );
  const signed = parseCertificatePem((await sign({ csrPem: caCsr.csr!, csrSource: 'sub.csr', ca, policy: CONFIG, profile: 'intermediate', clock })).cert!);
  assert.equal(signed.isCA, true);
});

test('gencert -hostname replaces csr.json hosts in both the CSR and the certificate', async () => {
  const clock = new FakeClock();
  const ca = await ecdsaCa(clock);
  const r = await gencert({ request: parseCsrJson('{"CN":"h","hosts":["old.example"]}', 'r'), ca, policy: CONFIG, profile: 'server', hostname: 'new.example,10.9.9.9', clock });
  const cert = parseCertificatePem(r.cert!);
  assert.deepEqual(cert.sans.dnsNames, ['new.example']);
  assert.deepEqual(cert.sans.ipAddresses, ['10.9.9.9']);
  assert.deepEqual((await parseCertificateRequestPem(r.csr!)).sans.dnsNames, ['new.example']);
});

test('sign keeps the CSR\'s names unless -hostname is given, and uses the profile\'s usages', async () => {
  const clock = new FakeClock();
  const ca = await ecdsaCa(clock);
  const kp = await generateKeyPair('ECDSA-P256');
  const csr = await createCertificateRequest({ subject: { commonName: 'n', organization: ['g'] }, sans: parseHosts(['n.example', '::1', 'x@y.example']), keyPair: kp });
  const a = parseCertificatePem((await sign({ csrPem: csr.pem, csrSource: 'n.csr', ca, policy: CONFIG, profile: 'client', clock })).cert!);
  assert.deepEqual(a.subject, { commonName: 'n', organization: ['g'] });
  assert.deepEqual(a.sans, { dnsNames: ['n.example'], ipAddresses: ['::1'], emailAddresses: ['x@y.example'], uris: [] });
  assert.deepEqual([...a.extKeyUsages], [EXT_KEY_USAGE_OIDS['client auth']]);
  assert.equal(a.keyUsage, 0, 'no key usage bits in the profile → no KeyUsage extension, as Go');
  const b = parseCertificatePem((await sign({ csrPem: csr.pem, csrSource: 'n.csr', ca, policy: CONFIG, profile: 'client', hostname: 'other.example', clock })).cert!);
  assert.deepEqual(b.sans.dnsNames, ['other.example']);
  assert.deepEqual(b.sans.emailAddresses, []);
});

test('sign refuses a CSR whose signature does not verify, and a CA key that is not the CA\'s', async () => {
  const clock = new FakeClock();
  const ca = await ecdsaCa(clock);
  const other = await ecdsaCa(clock);
  const { csr } = await genkey({ request: parseCsrJson('{"CN":"x"}', 'r') });
  const der = Buffer.from(csr!.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5]! ^= 0xff;
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(sign({ csrPem: tampered, csrSource: 'x.csr', ca, clock }), (e: unknown) => isKubepkiError(e) && /x\.csr: .*(signature does not verify|not a valid)/.test(e.message));
  await assert.rejects(
    sign({ csrPem: csr!, csrSource: 'x.csr', ca: { ...ca, keyPem: other.keyPem, keySource: 'other-key.pem' }, clock }),
    (e: unknown) => isKubepkiError(e) && e.message === 'other-key.pem: this private key does not belong to the CA certificate ca.pem',
  );
});

test('serials are 20 random bytes at most, positive, minimal DER', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = cfsslSerialNumber();
    assert.ok(s.length % 2 === 0 && s.length <= 40, s);
    assert.ok(parseInt(s.slice(0, 2), 16) < 0x80, s);
    assert.ok(!/^00[0-7]/.test(s), s);
    seen.add(s);
  }
  assert.equal(seen.size, 2000);
});

test('an RSA-3072 CA signs with SHA-384 as cfssl does; ECDSA P-384 with SHA-384', async () => {
  const clock = new FakeClock();
  const rsa = await initCa({ request: parseCsrJson('{"CN":"rsa3072","key":{"algo":"rsa","size":3072}}', 'r'), clock });
  assert.equal(parseCertificatePem(rsa.cert!).signatureAlgorithm, 'SHA384-RSA');
  assert.equal((await parseCertificateRequestPem(rsa.csr!)).signatureAlgorithm.name, 'SHA384-RSA');
  const ec = await initCa({ request: parseCsrJson('{"CN":"p384","key":{"algo":"ecdsa","size":384}}', 'r'), clock });
  assert.equal(parseCertificatePem(ec.cert!).signatureAlgorithm, 'ECDSA-SHA384');
});

test('gencert -initca -ca-key re-issues a CA for an existing key and does not print the key', async () => {
  const clock = new FakeClock();
  const first = await initCa({ request: parseCsrJson('{"CN":"keep"}', 'r'), clock });
  const again = await gencert({ request: parseCsrJson('{"CN":"keep"}', 'r'), initca: true, ca: { keyPem: first.key!, keySource: 'ca-key.pem' }, clock });
  assert.equal(again.key, undefined);
  assert.equal(parseCertificatePem(again.cert!).subjectKeyId, parseCertificatePem(first.cert!).subjectKeyId);
});

test('the signer refuses a profile without usages even when called directly', async () => {
  const kp = await generateKeyPairFromSpec({ type: 'ECDSA', curve: 'P-256' });
  const csr = await createCertificateRequest({ subject: { commonName: 'x' }, keyPair: kp });
  const policy = parseCaConfig('{"signing":{"default":{"expiry":"1h"}}}', 'c.json');
  await assert.rejects(
    cfsslSign({ request: csr, hosts: undefined, profile: policy.default, defaultProfile: policy.default, issuer: { selfSigned: kp }, clock: new FakeClock() }),
    (e: unknown) => isKubepkiError(e) && /no key usages/.test(e.message),
  );
  assert.throws(() => selectProfile(policy, ''), /no "usages"/);
});
