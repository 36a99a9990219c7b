import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedChainCache } from '../../src/auth/authn/chain-cache.js';
import { x509Authenticator } from '../../src/auth/authn/x509.js';
import { requestHeaderAuthenticator } from '../../src/auth/authn/requestheader.js';
import { FakeClock } from '../../src/util/clock.js';
import { makeCA, makeClientCert } from './pki.js';
import { generateKeyPair, issueCertificate, parseUsages } from '../../src/x509/index.js';

const HOUR = 3_600_000;
const ca = await makeCA('kubernetes');
const otherCA = await makeCA('front-proxy-ca');
const alice = await makeClientCert(ca, 'alice', { organization: ['dev'] });
const bob = await makeClientCert(ca, 'bob');
const carol = await makeClientCert(ca, 'carol');

test('a verified chain is answered from the cache, also when handed over as a new array with the same DER', () => {
  const cache = new VerifiedChainCache();
  const roots = [ca.certificate];
  const now = new Date();
  const first = cache.verify([alice.certificate.der], roots, 'client auth', now);
  assert.equal(first.kind, 'ok');
  assert.equal(cache.verify([alice.certificate.der], roots, 'client auth', now), first);
  assert.equal(cache.verify([new Uint8Array(alice.certificate.der)], roots, 'client auth', now), first);
  assert.equal(cache.size, 1);
});

test('failures are cached too: a chain from another CA and a malformed chain', () => {
  const cache = new VerifiedChainCache();
  const roots = [otherCA.certificate];
  const now = new Date();
  const failed = cache.verify([alice.certificate.der], roots, 'client auth', now);
  assert.equal(failed.kind, 'failed');
  assert.equal(failed.kind === 'failed' && failed.message, 'x509: certificate signed by unknown authority');
  assert.equal(cache.verify([alice.certificate.der], roots, 'client auth', now), failed);
  const junk = [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])];
  const malformed = cache.verify(junk, roots, 'client auth', now);
  assert.equal(malformed.kind, 'malformed');
  assert.equal(cache.verify(junk, roots, 'client auth', now), malformed);
});

test('an outcome is re-verified once a certificate crosses its notAfter, and expiry errors (which name the time) are never cached', () => {
  const cache = new VerifiedChainCache();
  const roots = [ca.certificate];
  const ok = cache.verify([alice.certificate.der], roots, 'client auth', new Date());
  assert.equal(ok.kind, 'ok');
  const after = new Date(alice.certificate.notAfter.getTime() + 1);
  const expired = cache.verify([alice.certificate.der], roots, 'client auth', after);
  assert.equal(expired.kind, 'failed');
  assert.equal(expired.kind === 'failed' && expired.reason, 'Expired');
  const later = new Date(after.getTime() + 1000);
  const again = cache.verify([alice.certificate.der], roots, 'client auth', later);
  assert.notEqual(again, expired);
  assert.match(again.kind === 'failed' ? again.message : '', new RegExp(later.toISOString().replace(/\.\d{3}Z$/, 'Z')));
  // Back inside the window: verified again and valid.
  assert.equal(cache.verify([alice.certificate.der], roots, 'client auth', new Date()).kind, 'ok');
});

test('a failure caused by a root that is not valid yet ends when the root becomes valid', async () => {
  const future = new Date(Date.now() + 2 * HOUR);
  const lateCA = await makeCA('late', new Date(future.getTime() + HOUR)); // notBefore = future
  const client = await makeClientCert(lateCA, 'dave');
  const cache = new VerifiedChainCache();
  const roots = [lateCA.certificate];
  const before = cache.verify([client.certificate.der], roots, 'client auth', new Date());
  // Go's Verify reports the candidate root's validity (its text names the time, so it is not cached).
  assert.equal(before.kind === 'failed' && before.reason, 'NotYetValid');
  assert.match(before.kind === 'failed' ? before.message : '', /^x509: certificate has expired or is not yet valid: current time .* is before /);
  const valid = lateCA.certificate.notBefore.getTime();
  const stillBefore = cache.verify([client.certificate.der], roots, 'client auth', new Date(valid - 1));
  assert.equal(stillBefore.kind === 'failed' && stillBefore.reason, 'NotYetValid');
  assert.notEqual(stillBefore, before);
  assert.equal(cache.verify([client.certificate.der], roots, 'client auth', new Date(valid)).kind, 'ok');
});

test('entries are per CA bundle, forgotten with it, and bounded (least recently used evicted)', () => {
  const cache = new VerifiedChainCache(2);
  const now = new Date();
  const roots = [ca.certificate];
  const ok = cache.verify([alice.certificate.der], roots, 'client auth', now);
  const other = cache.verify([alice.certificate.der], [otherCA.certificate], 'client auth', now);
  assert.equal(ok.kind, 'ok');
  assert.equal(other.kind, 'failed');
  cache.forgetRoots(roots);
  assert.equal(cache.size, 1);
  const again = cache.verify([alice.certificate.der], roots, 'client auth', now);
  assert.notEqual(again, ok);
  const b = cache.verify([bob.certificate.der], roots, 'client auth', now); // evicts the other-CA entry
  assert.equal(cache.size, 2);
  cache.verify([alice.certificate.der], roots, 'client auth', now); // alice becomes most recent
  cache.verify([carol.certificate.der], roots, 'client auth', now); // evicts bob
  assert.equal(cache.verify([alice.certificate.der], roots, 'client auth', now), again);
  assert.notEqual(cache.verify([bob.certificate.der], roots, 'client auth', now), b);
});

test('the x509 authenticator forgets chains verified against a replaced CA bundle', async () => {
  const cache = new VerifiedChainCache();
  let roots = [ca.certificate];
  const clock = new FakeClock(new Date());
  const authn = x509Authenticator({ roots: () => roots, clock, cache });
  const res = await authn.authenticate({ headers: {}, peerCertificates: [alice.certificate.der] });
  assert.deepEqual(res?.user, { username: 'alice', groups: ['dev'] });
  // The verified leaf comes with the user, as the cache parsed it (client-ca-usage.ts reads its issuer from it).
  const cached = cache.verify([alice.certificate.der], roots, 'client auth', clock.now());
  assert.equal(cached.kind, 'ok');
  assert.equal(res?.certificate, cached.kind === 'ok' ? cached.leaf : undefined);
  roots = [otherCA.certificate];
  await assert.rejects(authn.authenticate({ headers: {}, peerCertificates: [alice.certificate.der] }), /x509: certificate signed by unknown authority/);
  assert.equal(cache.size, 1, 'the entry verified against the old bundle is gone');
});

test('the request-header and x509 authenticators share one cache: one verification per chain and CA bundle', async () => {
  const cache = new VerifiedChainCache();
  const clock = new FakeClock(new Date());
  const rh = requestHeaderAuthenticator({ clientCA: [otherCA.certificate], allowedNames: [], clock, cache });
  const x = x509Authenticator({ roots: [ca.certificate], clock, cache });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(rh.authenticate({ headers: {}, peerCertificates: [alice.certificate.der] }), { message: 'x509: certificate signed by unknown authority' });
    assert.equal((await x.authenticate({ headers: {}, peerCertificates: [alice.certificate.der] }))?.user.username, 'alice');
  }
  assert.equal(cache.size, 2);
});

test("verification is Go's Certificate.Verify: a path length and an intermediate's EKUs are enforced, as kube-apiserver does", async () => {
  const now = new Date();
  const caKey = await generateKeyPair('ECDSA-P256');
  // Within the roots' lifetime (an issuer refuses to outlive its CA); the client certificates end sooner still.
  const caTemplate = { notBefore: new Date(now.getTime() - HOUR), notAfter: new Date(now.getTime() + 20 * HOUR), isCA: true, ...parseUsages(['cert sign']) };
  // A root that allows no intermediate (pathLen 0).
  const root = await issueCertificate({ template: { ...caTemplate, notAfter: new Date(now.getTime() + 24 * HOUR), subject: { commonName: 'root' }, maxPathLen: 0 }, publicKey: caKey.publicKey, issuer: { selfSigned: caKey } });
  const interKey = await generateKeyPair('ECDSA-P256');
  const inter = await issueCertificate({ template: { ...caTemplate, subject: { commonName: 'intermediate' } }, publicKey: interKey.publicKey, issuer: { certificate: root, privateKey: caKey.privateKey } });
  const client = await makeClientCert({ certificate: inter, privateKey: interKey.privateKey, keyPair: interKey }, 'erin');
  const cache = new VerifiedChainCache();
  const tooDeep = cache.verify([client.certificate.der, inter.der], [root], 'client auth', now);
  assert.equal(tooDeep.kind === 'failed' && tooDeep.message, 'x509: too many intermediates for path length constraint');

  // An intermediate restricted to server auth cannot vouch for a client certificate (Go nests EKUs down the chain).
  const openRoot = await makeCA('open-root');
  /** A client certificate for `user` under an intermediate of openRoot whose extended key usage is `eku`. */
  const underIntermediate = async (commonName: string, eku: string, user: string) => {
    const key = await generateKeyPair('ECDSA-P256');
    const intermediate = await issueCertificate({
      template: { ...caTemplate, subject: { commonName }, ...parseUsages(['cert sign', eku]) },
      publicKey: key.publicKey,
      issuer: openRoot,
    });
    const client = await makeClientCert({ certificate: intermediate, privateKey: key.privateKey, keyPair: key }, user);
    return [client.certificate.der, intermediate.der];
  };
  const nested = cache.verify(await underIntermediate('server-only', 'server auth', 'frank'), [openRoot.certificate], 'client auth', now);
  assert.equal(nested.kind === 'failed' && nested.reason, 'IncompatibleUsage');
  // The same shape with a client-auth intermediate verifies.
  assert.equal(cache.verify(await underIntermediate('client-ca', 'client auth', 'grace'), [openRoot.certificate], 'client auth', now).kind, 'ok');
});
