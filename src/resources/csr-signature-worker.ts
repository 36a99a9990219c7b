// Worker thread of the CSR signature checks (see csr-signature.ts): one message per request, answered with
// its id and, on failure, the error text.
import { parentPort } from 'node:worker_threads';
import { checkCertificateParsesHere, checkCertificateRequestSignatureHere, type WorkerJobKind } from './csr-signature.js';

parentPort!.on('message', (m: { id: number; der: Uint8Array; kind?: WorkerJobKind }) => {
  (m.kind === 'certificate' ? checkCertificateParsesHere(m.der) : checkCertificateRequestSignatureHere(m.der)).then(
    () => parentPort!.postMessage({ id: m.id }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
