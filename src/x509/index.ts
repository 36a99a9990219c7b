// The pure X.509 core: keys, PEM, names, SANs, usages, certificates, CSRs, chain checks. No disk, no HTTP.
export * from './pem.js';
export * from './keys.js';
export * from './names.js';
export * from './san.js';
export * from './usages.js';
export * from './certificate.js';
export * from './csr.js';
export * from './certificate-request.js';
export * from './csr-signature.js';
export * from './verify.js';
export * from './describe.js';
