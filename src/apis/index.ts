// The wire-types layer in one import: Kubernetes objects, Status errors, well-known names, time format.
export * from './authorization.js';
export * from './csr.js';
export * from './names.js';
export * from './objects.js';
export * from './status.js';
