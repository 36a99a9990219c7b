// Worker thread of signature-workers.ts: one message per job, answered with its id and, on failure, the
// error text.
import { parentPort } from 'node:worker_threads';
import { checkCertificateParsesHere, verifyCertificateRequestHere, type WorkerJobKind } from './signature-workers.js';

parentPort!.on('message', (m: { id: number; der: Uint8Array; kind?: WorkerJobKind }) => {
  (m.kind === 'certificate' ? checkCertificateParsesHere(m.der) : verifyCertificateRequestHere(m.der)).then(
    () => parentPort!.postMessage({ id: m.id }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
