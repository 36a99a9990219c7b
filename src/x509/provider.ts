// @peculiar/x509 needs a WebCrypto implementation; Node's own is the one we use everywhere.
import 'reflect-metadata'; // tsyringe, inside @peculiar/x509, needs the Reflect polyfill loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
export const subtle = webcrypto.subtle;
