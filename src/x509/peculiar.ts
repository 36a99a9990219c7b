// @peculiar/x509, loaded synchronously on first use. Loading it (with its ASN.1 schema packages) costs about
// 150 ms, which a command that only issues certificates (`kubepki init`) never needs to pay: issuing is done
// with der.ts; parsing, CSRs and cfssl certinfo load it here. provider.ts sets it up through this function too.
import { createRequire } from 'node:module';
import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

const require = createRequire(import.meta.url);
let lib: typeof X509 | undefined;

export function loadX509(): typeof X509 {
  if (!lib) {
    require('reflect-metadata'); // tsyringe, inside @peculiar/x509, needs the Reflect polyfill loaded first
    const loaded = require('@peculiar/x509') as typeof X509;
    // @peculiar/x509 needs a WebCrypto implementation; Node's own is the one we use everywhere.
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<typeof loaded.cryptoProvider.set>[0]);
    lib = loaded;
  }
  return lib;
}
