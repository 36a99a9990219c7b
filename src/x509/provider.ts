// @peculiar/x509 as a static import, for modules that use it on every call (CSRs, cfssl certinfo). The set-up
// (Reflect polyfill, Node's WebCrypto as its crypto provider) is peculiar.ts's, shared with its lazy loader.
import 'reflect-metadata'; // tsyringe, inside @peculiar/x509, needs the Reflect polyfill loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { loadX509 } from './peculiar.js';

loadX509();

export { x509 };
export const subtle = webcrypto.subtle;
