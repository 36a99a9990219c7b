// The pure X.509 core: keys, PEM, names, SANs, usages, certificates, CSRs. No disk, no HTTP. Chain checks
// (Go's Certificate.Verify, one implementation for every caller) are in path-validation/.
export * from './pem.js';
export * from './keys.js';
export * from './names.js';
export * from './san.js';
export * from './usages.js';
export * from './certificate.js';
export * from './csr.js';
export * from './certificate-request.js';
export * from './csr-signature.js';
export * from './describe.js';
