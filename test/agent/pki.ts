// Moved to test/helpers/pki.ts (the tests' one PKI builder); kept for the agent tests that still import it here.
export * from '../helpers/pki.js';
