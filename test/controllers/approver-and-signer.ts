// The approver and the signer on one informer of a FakeKubeClient, synced, with a test CA for the kubelet client
// signer: what a test of the two controllers working on the same CSRs starts from.
import type { TestContext } from 'node:test';
import type { FakeClock } from '../../src/util/clock.js';
import { CSRApprovingController } from '../../src/controllers/approver/controller.js';
import { CSRSigningController } from '../../src/controllers/signer/controller.js';
import { Informer } from '../../src/controllers/runtime/informer.js';
import { RESOURCES } from '../../src/client/interface.js';
import type { CertificateSigningRequest } from '../../src/apis/csr.js';
import type { CachedCertificateSigningRequest } from '../../src/controllers/csr-cache.js';
import type { FakeKubeClient } from './fake-client.js';
import { testCA } from './fixtures.js';

export async function startApproverAndSigner(
  t: TestContext,
  o: { client: FakeKubeClient; clock: FakeClock; /** The informer's transform, as serve's (csr-cache.ts). */ transform?: (csr: CachedCertificateSigningRequest) => CachedCertificateSigningRequest },
) {
  const { client, clock } = o;
  const informer = new Informer<CachedCertificateSigningRequest>({
    name: 'csr',
    listerWatcher: client.resource(RESOURCES.certificateSigningRequests),
    clock,
    ...(o.transform ? { transform: o.transform } : {}),
  });
  const ca = await testCA('ECDSA-P256');
  const approver = new CSRApprovingController({ client, informer, clock });
  const signer = new CSRSigningController({ client, informer, clock, authorities: new Map([['kubernetes.io/kube-apiserver-client-kubelet', ca.authority]]) });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void informer.run(ac.signal);
  await informer.waitForSync();
  return { informer, approver, signer, csrs: client.resource<CertificateSigningRequest>(RESOURCES.certificateSigningRequests) };
}
