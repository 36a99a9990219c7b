// Go-compatible certificate path validation (chains, name constraints, host names, Go's error texts).
export { validatePath, type PathValidationOptions, type PathValidationResult, type PathError, type PathFailure, type Purpose } from './verify-chain.js';
export { verifyHostname, matchHostnames } from './hostname.js';
export { pathCertOf, type PathCert } from './path-cert.js';
