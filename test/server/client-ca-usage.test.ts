import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ClientCAUsage, CLIENT_CA_USAGE_METRIC } from '../../src/server/client-ca-usage.js';
import { x509Authenticator } from '../../src/auth/authn/x509.js';
import { VerifiedChainCache } from '../../src/auth/authn/chain-cache.js';
import { parseCertificateDer } from '../../src/x509/certificate.js';
import { FakeClock } from '../../src/util/clock.js';
import { makeCA, makeClientCert } from '../auth/pki.js';

test('each user authenticated by a client certificate is counted under its issuer key id; a refused certificate is not', async () => {
  const ca = await makeCA('kubernetes');
  const other = await makeCA('other-ca');
  const alice = await makeClientCert(ca, 'alice');
  const mallory = await makeClientCert(other, 'mallory');
  // Now (the certificates are valid around the real time), on a whole second: the metric is in seconds.
  const start = Math.floor(Date.now() / 1000) * 1000;
  const clock = new FakeClock(new Date(start));
  const usage = new ClientCAUsage(clock);
  const registry = new Registry();
  usage.register(registry);
  const authn = usage.wrap(x509Authenticator({ roots: [ca.certificate], clock, cache: new VerifiedChainCache() }));
  // Two connections of alice's (a new chain array each): one series, the last time seen.
  await authn.authenticate({ headers: {}, peerCertificates: [alice.certificate.der] });
  clock.advance(5_000);
  await authn.authenticate({ headers: {}, peerCertificates: [new Uint8Array(alice.certificate.der)] });
  await assert.rejects(authn.authenticate({ headers: {}, peerCertificates: [mallory.certificate.der] }));
  const akid = parseCertificateDer(alice.certificate.der).authorityKeyId;
  assert.ok(akid);
  const lines = (await registry.metrics()).split('\n').filter((l) => l.startsWith(`${CLIENT_CA_USAGE_METRIC}{`));
  assert.deepEqual(lines, [`${CLIENT_CA_USAGE_METRIC}{issuer_key_id="${akid}",user="alice"} ${(start + 5_000) / 1000}`]);
});
