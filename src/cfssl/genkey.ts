// `cfssl genkey [-initca] csr.json`: a new key and a CSR for it (and with -initca, the self-signed CA).
import { systemClock, type Clock } from '../util/clock.js';
import { generateKeyPairFromSpec, privateKeyToPem } from '../x509/index.js';
import { csrFor, keySpecOf, validateCsrJson, type CsrJson } from './csr-json.js';
import { initCa } from './initca.js';
import type { CfsslResponse } from './response.js';

export async function genkey(options: { request: CsrJson; initca?: boolean; clock?: Clock }): Promise<CfsslResponse> {
  const { request } = options;
  if (options.initca) return initCa({ request, clock: options.clock ?? systemClock });
  validateCsrJson(request);
  const keyPair = await generateKeyPairFromSpec(keySpecOf(request));
  const csr = await csrFor(request, keyPair, request.hosts);
  return { csr: csr.pem, key: privateKeyToPem(keyPair.privateKey) };
}
